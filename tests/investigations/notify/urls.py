"""The organization URLs plus notifications at `settings/notifications/`, as the lead will include them."""

from django.urls import include, path

from opsworker.urls import urlpatterns as organization_urlpatterns

urlpatterns = [
    path("settings/notifications/", include("investigations.notify.urls")),
    *organization_urlpatterns,
]
