"""Platform admin pages (public host; included as `path("platform/", include("tenants.urls_platform"))`)."""

from django.urls import path

from tenants import platform_views

app_name = "platform"

urlpatterns = [
    path("", platform_views.organizations, name="organizations"),
    path("organizations/new/", platform_views.organization_create, name="organization_create"),
    path("organizations/<slug:slug>/", platform_views.organization_detail, name="organization_detail"),
    path("organizations/<slug:slug>/quotas/", platform_views.quotas, name="quotas"),
    path("organizations/<slug:slug>/suspend/", platform_views.suspend, name="suspend"),
    path("organizations/<slug:slug>/reactivate/", platform_views.reactivate, name="reactivate"),
    path("organizations/<slug:slug>/delete/", platform_views.delete, name="delete"),
]
