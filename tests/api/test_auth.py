"""Who may call the API: bearer tokens of this organization, the browser session, nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants.api_tokens import ApiToken
from tenants.models import Membership, Organization
from tenants.roles import Role

pytestmark = pytest.mark.django_db

# Every operation the API offers, with a path on which it exists (ids are dummies: refusal comes first).
EVERY_OPERATION = [
    ("get", "/api/v1/"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/signals/"),
    ("get", "/api/v1/signals/1/"),
    ("get", "/api/v1/investigations/"),
    ("post", "/api/v1/investigations/"),
    ("get", "/api/v1/investigations/1/"),
    ("post", "/api/v1/investigations/1/rerun/"),
    ("get", "/api/v1/rules/"),
    ("post", "/api/v1/rules/"),
    ("get", "/api/v1/rules/1/"),
    ("put", "/api/v1/rules/1/"),
    ("patch", "/api/v1/rules/1/"),
    ("delete", "/api/v1/rules/1/"),
    ("get", "/api/v1/clusters/"),
    ("get", "/api/v1/clusters/1/"),
    ("get", "/api/v1/integrations/"),
    ("get", "/api/v1/integrations/1/"),
    ("get", "/api/v1/nothing/here/"),
]


def _call(client, method, path):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, data="{}", content_type="application/json")


def _assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_bearer_token_reads(org, make_token, bearer):
    response = bearer(org, make_token(org)).get("/api/v1/signals/")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_browser_session_reads(org, client_for):
    response = client_for(org.owner, org).get("/api/v1/signals/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_no_credentials_is_401_everywhere(org, bearer, method, path):
    response = _call(bearer(org, None), method, path)
    _assert_error(response, 401, "authentication_required")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_other_organizations_valid_token_is_refused_everywhere(
    org, other_org, make_token, bearer, method, path
):
    """beta's owner's write token, presented on alpha's host: 401, as if it did not exist."""
    secret = make_token(other_org, scope="write")
    assert bearer(other_org, secret).get("/api/v1/signals/").status_code == 200  # valid at home
    _assert_error(_call(bearer(org, secret), method, path), 401, "invalid_token")


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_expired_and_revoked_tokens_are_refused_everywhere(org, make_token, bearer, method, path):
    expired = make_token(org, scope="write", expired=True)
    revoked = make_token(org, scope="write", revoked=True)
    _assert_error(_call(bearer(org, expired), method, path), 401, "invalid_token")
    _assert_error(_call(bearer(org, revoked), method, path), 401, "invalid_token")


def test_token_expiring_in_future_works_and_then_stops(org, make_token, bearer):
    secret = make_token(org, expires_in_days=30)
    client = bearer(org, secret)
    assert client.get("/api/v1/signals/").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/signals/").status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token owk_x", "Bearer owk_unknown", "Bearer x" * 50],
)
def test_malformed_or_unknown_authorization_is_401(org, header, client_for):
    client = Client(HTTP_HOST=org.domain, HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/signals/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("invalid_token", "invalid_authorization_header")


def test_bearer_header_wins_over_a_session(org, client_for):
    """A browser session plus a bad token is still a bad token (no silent fallback)."""
    client = client_for(org.owner, org)
    response = client.get("/api/v1/signals/", HTTP_AUTHORIZATION="Bearer owk_nope")
    assert response.status_code == 401


def test_session_of_non_member_is_403(org, other_org, client_for):
    _assert_error(client_for(org.owner, other_org).get("/api/v1/signals/"), 403, "not_a_member")


def test_personal_token_stops_when_owner_leaves_or_is_deactivated(org, make_member, make_token, bearer):
    member = make_member(org, Role.MEMBER)
    client = bearer(org, make_token(org, member))
    assert client.get("/api/v1/signals/").status_code == 200
    member.is_active = False
    member.save()
    assert client.get("/api/v1/signals/").status_code == 401
    member.is_active = True
    member.save()
    Membership.objects.filter(user=member).delete()
    _assert_error(client.get("/api/v1/signals/"), 401, "invalid_token")


def test_personal_token_follows_the_users_current_role(org, make_member, make_token, bearer):
    member = make_member(org, Role.ADMIN)
    client = bearer(org, make_token(org, member, scope="write"))
    rule = {"name": "r", "action": "record"}
    assert client.post("/api/v1/rules/", rule, content_type="application/json").status_code == 201
    Membership.objects.filter(user=member).update(role=Role.VIEWER)
    response = client.post("/api/v1/rules/", {**rule, "name": "r2"}, content_type="application/json")
    _assert_error(response, 403, "forbidden")


def test_suspended_organization_refuses_tokens_and_sessions(org, make_token, bearer, client_for):
    secret = make_token(org)
    Organization.objects.filter(pk=org.organization.pk).update(is_active=False)
    _assert_error(bearer(org, secret).get("/api/v1/signals/"), 403, "organization_suspended")
    _assert_error(client_for(org.owner, org).get("/api/v1/signals/"), 403, "organization_suspended")


def test_token_use_is_recorded_at_most_once_a_minute(org, make_token, bearer):
    client = bearer(org, make_token(org))
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    client.get("/api/v1/signals/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/signals/")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=5))
    client.get("/api/v1/signals/")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_only_the_hash_is_stored(org, make_token):
    secret = make_token(org)
    token = ApiToken.objects.get()
    assert secret.startswith("owk_")
    assert secret not in (token.token_hash, token.prefix, token.name)
    assert secret.startswith(token.prefix)
    assert len(token.prefix) == 12


def test_session_writes_need_the_csrf_token(org, client_for):
    client = Client(HTTP_HOST=org.domain, enforce_csrf_checks=True)
    client.force_login(org.owner)
    body = {"name": "From the browser", "action": "record"}
    response = client.post("/api/v1/rules/", body, content_type="application/json")
    _assert_error(response, 403, "csrf_failed")
    # With the cookie and header, as a page's fetch() sends them, it works.
    client.get("/rules/")
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/rules/",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
        HTTP_ORIGIN=f"http://{org.domain}",
    )
    assert response.status_code == 201, response.content


def test_bearer_writes_need_no_csrf(org, make_token):
    client = Client(
        HTTP_HOST=org.domain,
        enforce_csrf_checks=True,
        HTTP_AUTHORIZATION=f"Bearer {make_token(org, scope='write')}",
    )
    response = client.post(
        "/api/v1/rules/", {"name": "x", "action": "record"}, content_type="application/json"
    )
    assert response.status_code == 201


def test_public_host_has_no_api(org, make_token):
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {make_token(org)}")
    assert client.get("/api/v1/signals/").status_code == 404


def test_unknown_host_is_404(make_token, org):
    client = Client(HTTP_HOST="nobody.localhost", HTTP_AUTHORIZATION=f"Bearer {make_token(org)}")
    assert client.get("/api/v1/signals/").status_code == 404
