"""Organization-host pages owned by the tenants app."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("settings/", views.organization_settings, name="settings"),
]
