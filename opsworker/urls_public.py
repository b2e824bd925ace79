"""URLs of the public host: sign-in, "your organizations", and the platform admin."""

from django.contrib import admin
from django.urls import include, path

from opsworker.favicon import favicon
from tenants import views

admin.site.site_header = "OpsWorker platform admin"
admin.site.site_title = "OpsWorker admin"

urlpatterns = [
    path("", views.your_organizations, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("tenants.urls")),
    # Slack's one interactivity URL for the whole app (the organization comes from the payload).
    path("", include("notifications.public_urls")),
    path("platform/", include("tenants.urls_platform")),
    path("admin/", admin.site.urls),
]
