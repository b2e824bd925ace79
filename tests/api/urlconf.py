"""The organization-host URL conf with the API and token pages included, as the lead wires them.

Used by the API tests and the permission matrix until `opsworker/urls.py` includes them; once it
does, `wired_urlconf()` answers the project's own URL conf and this module is not used.
"""

from django.urls import include, path

from opsworker.urls import urlpatterns as _project_patterns

urlpatterns = [
    *_project_patterns,
    path("api/v1/", include("opsworker.api.urls")),
    path("settings/api-tokens/", include("opsworker.api.token_urls")),
]
