"""The public host's URLs plus Slack's interactivity endpoint, as the lead will include them."""

from django.urls import include, path

from opsworker.urls_public import urlpatterns as public_urlpatterns

urlpatterns = [
    path("", include("investigations.notify.public_urls")),
    *public_urlpatterns,
]
