"""X-Forwarded-For is believed only from configured proxies; everything reads REMOTE_ADDR."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants import security
from tenants.audit import AuditEvent

pytestmark = pytest.mark.django_db

CLIENT = "203.0.113.7"


@pytest.fixture
def clean(org):
    def clear():
        security.signin_failures_clear(org.owner.email)
        for ip in ("10.9.0.1", "198.51.100.5", CLIENT, "192.0.2.1"):
            security.signin_address_clear(ip)

    clear()
    yield
    clear()


def _fail_from(org, peer: str, forwarded: str | None, email: str):
    headers = {"HTTP_HOST": org.domain, "REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client(**headers).post("/accounts/login/", {"username": email, "password": "wrong password"})


def _last_ip(email: str) -> str:
    return AuditEvent.objects.filter(action="auth.sign_in_failed", actor_email=email).latest("pk").ip


def test_client_address_forwarded_header_from_a_trusted_proxy_is_believed(org, clean, settings):
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    _fail_from(org, "10.9.0.1", CLIENT, org.owner.email)
    assert _last_ip(org.owner.email) == CLIENT


def test_client_address_client_written_entries_left_of_the_proxy_are_ignored(org, clean, settings):
    # The client sent "X-Forwarded-For: 192.0.2.1"; the trusted proxy appended the real address.
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    _fail_from(org, "10.9.0.1", f"192.0.2.1, {CLIENT}", org.owner.email)
    assert _last_ip(org.owner.email) == CLIENT


def test_client_address_forwarded_header_from_an_untrusted_peer_is_ignored(org, clean, settings):
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    _fail_from(org, "198.51.100.5", CLIENT, org.owner.email)
    assert _last_ip(org.owner.email) == "198.51.100.5"


def test_client_address_rotating_forwarded_header_does_not_escape_the_throttle(org, clean, settings):
    settings.TRUSTED_PROXIES = []
    statuses = [
        _fail_from(org, "198.51.100.5", f"192.0.2.{n}", f"rotating-{n}@example.com").status_code
        for n in range(12)
    ]
    assert statuses[-1] == 429
    for n in range(12):
        security.signin_failures_clear(f"rotating-{n}@example.com")


def test_client_address_bad_trusted_proxies_stop_start_up(settings):
    from django.core.exceptions import ImproperlyConfigured

    from opsworker.client_address import ClientAddressMiddleware

    settings.TRUSTED_PROXIES = ["not-an-address"]
    with pytest.raises(ImproperlyConfigured):
        ClientAddressMiddleware(lambda request: None)
