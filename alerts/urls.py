from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
    path("rules/", views.rule_list, name="rules"),
    path("integrations/", views.integration_list, name="integrations"),
]
