"""Organization-host pages of the composition layer."""

from django.urls import path

from opsworker.console import views

urlpatterns = [
    path("settings/", views.organization_settings, name="settings"),
]
