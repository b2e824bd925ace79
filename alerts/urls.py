from django.urls import path

from alerts import benchmark, views, webhooks

app_name = "alerts"

urlpatterns = [
    path("hooks/<slug:source>/<str:token>/", webhooks.webhook, name="webhook"),
    path("bench/baseline/<str:token>/", benchmark.baseline, name="bench_baseline"),
    path("alerts/", views.alert_list, name="list"),
    path("alerts/table/", views.alert_table, name="table"),
    path("alerts/<int:pk>/", views.alert_detail, name="detail"),
    path("rules/", views.rule_list, name="rules"),
    path("integrations/", views.integration_list, name="integrations"),
    path("integrations/new/", views.integration_create_view, name="integration_create"),
    path("integrations/<int:pk>/", views.integration_detail, name="integration_detail"),
    path("integrations/<int:pk>/rotate/", views.integration_rotate, name="integration_rotate"),
    path("integrations/<int:pk>/toggle/", views.integration_toggle, name="integration_toggle"),
    path("integrations/<int:pk>/delete/", views.integration_delete_view, name="integration_delete"),
    path("integrations/<int:pk>/test/", views.integration_test, name="integration_test"),
]
