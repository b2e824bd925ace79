"""Make the API reachable in tests whether or not the lead has wired it in yet.

Two changes belong to the project (reported to the lead): `opsworker/urls.py` includes
`opsworker.api.urls` at `api/v1/` and `opsworker.api.token_urls` at `settings/api-tokens/`, and
`tenants.middleware.OPEN_PREFIXES` contains "/api/" (the API authenticates itself). Until then these
fixtures apply both for the test's duration; afterwards they change nothing.
"""

from __future__ import annotations

import pytest


def _project_has(name: str) -> bool:
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(name, urlconf=settings.ROOT_URLCONF)
    except NoReverseMatch:
        return False
    return True


def project_urlconf_with_api() -> str:
    """The organization-host URL conf to test: the project's once it includes the API."""
    from django.conf import settings

    if _project_has("api:index") and _project_has("api_tokens:list"):
        return settings.ROOT_URLCONF
    return "tests.api.urlconf"


@pytest.fixture
def api_wired(settings, monkeypatch):
    from tenants import middleware

    settings.ROOT_URLCONF = project_urlconf_with_api()
    if not any(prefix.startswith("/api/") for prefix in middleware.OPEN_PREFIXES):
        monkeypatch.setattr(middleware, "OPEN_PREFIXES", (*middleware.OPEN_PREFIXES, "/api/"))
    return settings.ROOT_URLCONF
