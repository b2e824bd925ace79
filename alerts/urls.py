from django.urls import path

from alerts import views, webhooks

app_name = "alerts"

urlpatterns = [
    path("hooks/<slug:source>/<str:token>/", webhooks.webhook, name="webhook"),
    path("alerts/", views.alert_list, name="list"),
    path("rules/", views.rule_list, name="rules"),
    path("integrations/", views.integration_list, name="integrations"),
]
