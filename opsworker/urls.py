"""URLs of organization hosts (django-tenants routes the public host to `urls_public`)."""

from django.urls import include, path

from alerts import views as alert_views
from opsworker.favicon import favicon

urlpatterns = [
    path("", alert_views.home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("tenants.urls")),
    path("", include("opsworker.console.urls")),
    path("", include("tenants.urls_admin")),
    path("api/v1/", include("opsworker.api.urls")),
    path("settings/api-tokens/", include("opsworker.api.token_urls")),
    path("", include("alerts.urls")),
    path("", include("investigations.urls")),
    path("", include("clusters.urls")),
    path("settings/models/", include("investigations.llm.urls")),
    path("settings/notifications/", include("notifications.urls")),
    path("", include("investigations.chat.urls")),
    path("", include("investigations.insights_urls")),
]
