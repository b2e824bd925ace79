"""The organization URLs plus the model settings at `settings/models/`, as the lead will include them."""

from django.urls import include, path

from opsworker.urls import urlpatterns as organization_urlpatterns

urlpatterns = [
    path("settings/models/", include("investigations.llm.urls")),
    *organization_urlpatterns,
]
