"""Security basics: sign-in lockout, password validation and session invalidation, production cookies."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tenants import security
from tenants.audit import AuditEvent
from tenants.roles import Role
from tests.tenants.test_members import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def person(org, make_member):
    """A member whose lockout counters are cleared before and after (Redis outlives the transaction)."""
    user = make_member(org, Role.MEMBER)
    for ip in ("10.0.0.1", "10.0.0.2"):
        security.signin_failures_clear(user.email, ip)
    yield user
    for ip in ("10.0.0.1", "10.0.0.2"):
        security.signin_failures_clear(user.email, ip)


def _try(org, email, password, ip="10.0.0.1"):
    return Client(HTTP_HOST=org.domain, REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": email, "password": password}
    )


def _fail(org, email, times, ip="10.0.0.1"):
    for _ in range(times):
        assert _try(org, email, "wrong password", ip).status_code == 200


def test_lockout_after_five_failures_with_clear_message(org, person):
    _fail(org, person.email, 4)
    fifth = _try(org, person.email, "wrong password")
    assert "Too many failed sign-ins" in fifth.content.decode()
    # Even the right password is refused while locked, with the same clear message
    response = _try(org, person.email, PASSWORD)
    assert response.status_code == 200
    assert "Sign-in is locked for 15 more minutes" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.sign_in_locked", actor_email=person.email).exists()


def test_lockout_is_per_email_and_address(org, person):
    _fail(org, person.email, 5)
    assert _try(org, person.email, PASSWORD, ip="10.0.0.2").status_code == 302  # another address
    assert _try(org, org.owner.email, PASSWORD).status_code == 302  # another email, same address


def test_lockout_ends_after_the_window(org, person, monkeypatch):
    _fail(org, person.email, 5)
    assert _try(org, person.email, PASSWORD).status_code == 200
    later = security._now() + security._window() + 1
    monkeypatch.setattr(security, "_now", lambda: later)
    assert _try(org, person.email, PASSWORD).status_code == 302


def test_successful_sign_in_clears_failures(org, person):
    _fail(org, person.email, 4)
    assert _try(org, person.email, PASSWORD).status_code == 302
    _fail(org, person.email, 4)  # would lock at 5 if the earlier failures still counted
    assert _try(org, person.email, PASSWORD).status_code == 302


def test_lockout_fails_open_when_redis_is_down(org, person, monkeypatch):
    import redis

    def broken():
        raise redis.ConnectionError("down")

    monkeypatch.setattr(security, "shared_redis", broken)
    _fail(org, person.email, 6)
    assert _try(org, person.email, PASSWORD).status_code == 302


# --- passwords and sessions -------------------------------------------------------------------


def _signed_in(org, user):
    client = Client(HTTP_HOST=org.domain, REMOTE_ADDR="10.0.0.9")
    assert client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_password_change_ends_other_sessions_keeps_current(org, person):
    laptop, phone = _signed_in(org, person), _signed_in(org, person)
    new = "an even longer passphrase 2026"
    response = laptop.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert laptop.get("/settings/").status_code == 200
    assert phone.get("/settings/")["Location"].startswith("/accounts/login/")


def test_password_change_validates_the_new_password(org, person):
    client = _signed_in(org, person)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_production_cookies_are_secure():
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.prod",
        OPSWORKER_SECRET_KEY=secrets.token_urlsafe(64),
        OPSWORKER_ENCRYPTION_KEYS="x" * 43 + "=",
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_DOMAIN)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "True", "True", "None"], result.stderr
