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


ADDRESSES = ("10.0.0.1", "10.0.0.2", "10.0.0.3")


def _clear(*emails):
    for email in emails:
        security.signin_failures_clear(email)
    for ip in ADDRESSES:
        security.signin_address_clear(ip)


@pytest.fixture
def person(org, make_member):
    """A member whose throttle counters are cleared before and after (Redis outlives the transaction)."""
    user = make_member(org, Role.MEMBER)
    _clear(user.email, org.owner.email)
    yield user
    _clear(user.email, org.owner.email)


@pytest.fixture
def clock(monkeypatch):
    """Moves the throttle's clock forward without sleeping."""
    now = [security._now()]
    monkeypatch.setattr(security, "_now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def _try(org, email, password, ip="10.0.0.1"):
    return Client(HTTP_HOST=org.domain, REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": email, "password": password}
    )


def _fail(org, email, times, ip="10.0.0.1"):
    for _ in range(times):
        assert _try(org, email, "wrong password", ip).status_code == 200


def test_throttle_free_failures_then_429_with_a_wait(org, person, clock):
    _fail(org, person.email, 5)
    response = _try(org, person.email, "wrong password")
    assert response.status_code == 429
    assert "Try again in" in response.content.decode()
    assert int(response["Retry-After"]) >= 1
    assert AuditEvent.objects.filter(action="auth.sign_in_throttled", actor_email=person.email).exists()


def test_throttle_right_password_works_once_the_delay_has_passed(org, person, clock):
    _fail(org, person.email, 5)
    assert _try(org, person.email, PASSWORD).status_code == 429  # inside the delay: not checked
    clock(security.signin_wait(person.email, "10.0.0.1") + 1)
    assert _try(org, person.email, PASSWORD).status_code == 302


def test_throttle_delays_grow_and_are_capped(org, person, clock, settings):
    waits = []
    for _ in range(12):
        clock(security.signin_wait(person.email, "10.0.0.1") + 0.5)
        assert _try(org, person.email, "wrong password").status_code == 200
        waits.append(security.signin_wait(person.email, "10.0.0.1"))
    assert waits[:4] == [0, 0, 0, 0]
    grown = [w for w in waits if w]
    assert grown == sorted(grown) and grown[-1] > grown[0]
    assert max(waits) <= settings.SIGNIN_LOCKOUT_SECONDS


def test_throttle_nat_other_account_behind_same_address_is_not_slowed(org, person, clock):
    # Given one account attacked from a shared (NAT) address
    _fail(org, person.email, 5)
    assert _try(org, person.email, "another guess").status_code == 429
    # Then a colleague behind the same address signs in at once
    assert _try(org, org.owner.email, PASSWORD).status_code == 302


def test_throttle_spraying_many_emails_from_one_address_is_slowed(org, person, clock):
    # 20 different emails, one password each, from one address
    statuses = [_try(org, f"sprayed-{n}@example.com", "Summer2026!").status_code for n in range(20)]
    assert 429 in statuses
    # and a real account from that address now waits too, while another address does not
    assert _try(org, person.email, PASSWORD).status_code == 429
    assert _try(org, person.email, PASSWORD, ip="10.0.0.2").status_code == 302
    _clear(*[f"sprayed-{n}@example.com" for n in range(20)])


def test_throttle_account_is_slowed_from_every_address(org, person, clock):
    for n, ip in enumerate(ADDRESSES * 2):
        _try(org, person.email, f"guess {n}", ip=ip)
    assert _try(org, person.email, "guess again", ip="10.0.0.3").status_code == 429


def test_successful_sign_in_clears_the_account_failures(org, person):
    _fail(org, person.email, 4)
    assert _try(org, person.email, PASSWORD).status_code == 302
    _fail(org, person.email, 4)  # would be slowed at 5 if the earlier failures still counted
    assert _try(org, person.email, PASSWORD).status_code == 302


def test_throttle_fails_open_when_redis_is_down(org, person, monkeypatch):
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
