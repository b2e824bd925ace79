from django.urls import path

from alerts import benchmark, rule_views, views, webhooks

app_name = "alerts"

urlpatterns = [
    path("hooks/<slug:source>/<str:token>/", webhooks.webhook, name="webhook"),
    path("bench/baseline/<str:token>/", benchmark.baseline, name="bench_baseline"),
    path("alerts/", views.alert_list, name="list"),
    path("alerts/table/", views.alert_table, name="table"),
    path("alerts/<int:pk>/", views.alert_detail, name="detail"),
    path("rules/", rule_views.rule_list, name="rules"),
    path("rules/new/", rule_views.rule_create_view, name="rule_create"),
    path("rules/<int:pk>/edit/", rule_views.rule_edit_view, name="rule_edit"),
    path("rules/<int:pk>/toggle/", rule_views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/move/", rule_views.rule_move_view, name="rule_move"),
    path("rules/<int:pk>/duplicate/", rule_views.rule_duplicate_view, name="rule_duplicate"),
    path("rules/<int:pk>/delete/", rule_views.rule_delete_view, name="rule_delete"),
    path("rules/<int:pk>/preview/", rule_views.rule_preview, name="rule_preview_existing"),
    path("rules/preview/", rule_views.rule_preview, name="rule_preview"),
    path("rules/condition-row/", rule_views.rule_condition_row, name="rule_condition_row"),
    path("rules/default-action/", rule_views.default_action_view, name="rule_default_action"),
    path("rules/test/", rule_views.rule_test, name="rule_test"),
    path("rules/history/", rule_views.rule_history, name="rule_history"),
    path("rules/export/", rule_views.rules_export, name="rules_export"),
    path("rules/import/", rule_views.rules_import, name="rules_import"),
    path("silences/", rule_views.silence_list, name="silences"),
    path("silences/new/", rule_views.silence_create_view, name="silence_create"),
    path("silences/condition-row/", rule_views.silence_condition_row, name="silence_condition_row"),
    path("silences/<int:pk>/expire/", rule_views.silence_expire_view, name="silence_expire"),
    path("integrations/", views.integration_list, name="integrations"),
    path("integrations/new/", views.integration_create_view, name="integration_create"),
    path("integrations/<int:pk>/", views.integration_detail, name="integration_detail"),
    path("integrations/<int:pk>/rotate/", views.integration_rotate, name="integration_rotate"),
    path("integrations/<int:pk>/reveal/<slug:key>/", views.integration_reveal, name="integration_reveal"),
    path("integrations/<int:pk>/toggle/", views.integration_toggle, name="integration_toggle"),
    path("integrations/<int:pk>/delete/", views.integration_delete_view, name="integration_delete"),
    path("integrations/<int:pk>/test/", views.integration_test, name="integration_test"),
    path("integrations/<int:pk>/sns-retry/", views.integration_sns_retry, name="integration_sns_retry"),
]
