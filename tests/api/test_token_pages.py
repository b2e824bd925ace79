"""Settings → API tokens: create (shown once, post/redirect/get), list, revoke; members their own,
admins the organization's."""

from __future__ import annotations

import json
import re

import pytest

from tenants.api_tokens import ApiToken
from tenants.roles import Role
from tenants.secret_box import digest
from tests.reveal_pages import no_store, revealed

pytestmark = pytest.mark.django_db


REVEAL = re.compile(r"^/settings/api-tokens/(\d+)/reveal/([A-Za-z0-9_-]{16,})/$")


def _revealed(client, response):
    """Follow a creating POST's redirect to its one-time reveal page."""
    return revealed(client, response, REVEAL)


def _secret(response) -> str:
    match = re.search(r"<code class=\"mono\" data-secret>(owk_[^<]+)</code>", response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_member_creates_a_personal_token_shown_once(org, make_member, client_for, bearer):
    member = make_member(org, Role.MEMBER)
    client = client_for(member, org)
    assert client.get("/settings/api-tokens/").status_code == 200
    response = _revealed(
        client,
        client.post(
            "/settings/api-tokens/new/",
            {"name": "CI", "scope": "write", "expires_in_days": "30", "kind": "personal"},
        ),
    )
    assert no_store(response)
    secret = _secret(response)
    token = ApiToken.objects.get()
    assert (token.user, token.scope, token.role, token.name) == (member, "write", "", "CI")
    assert token.expires_at is not None
    listing = client.get("/settings/api-tokens/").content.decode()
    assert token.prefix in listing
    assert secret not in listing  # never shown again
    assert bearer(org, secret).get("/api/v1/signals/").status_code == 200


def test_only_admins_create_organization_tokens(org, make_member, client_for):
    form = {"name": "Bot", "scope": "read", "expires_in_days": "", "kind": "organization", "role": "member"}
    member = client_for(make_member(org, Role.MEMBER), org)
    assert member.post("/settings/api-tokens/new/", form).status_code == 403
    admin = client_for(make_member(org, Role.ADMIN), org)
    response = admin.post("/settings/api-tokens/new/", form)
    assert response.status_code == 302
    token = ApiToken.objects.get()
    assert token.user is None and token.role == "member" and token.expires_at is None
    assert admin.post("/settings/api-tokens/new/", {**form, "role": "owner"}).status_code == 400
    assert admin.post("/settings/api-tokens/new/", {**form, "role": ""}).status_code == 400


def test_invalid_form_is_400(org, client_for):
    response = client_for(org.owner, org).post("/settings/api-tokens/new/", {"name": "", "scope": "all"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoke_own_token_and_admin_revokes_others(org, make_member, make_token, client_for, bearer):
    member = make_member(org, Role.MEMBER)
    other = make_member(org, Role.MEMBER)
    own = make_token(org, member, name="mine")
    theirs = make_token(org, other, name="theirs")
    mine_row = ApiToken.objects.get(name="mine")
    theirs_row = ApiToken.objects.get(name="theirs")
    client = client_for(member, org)
    # A member sees and revokes only their own tokens.
    listing = client.get("/settings/api-tokens/").content.decode()
    assert mine_row.prefix in listing and theirs_row.prefix not in listing
    assert client.post(f"/settings/api-tokens/{theirs_row.pk}/revoke/").status_code == 404
    assert client.post(f"/settings/api-tokens/{mine_row.pk}/revoke/").status_code == 302
    assert bearer(org, own).get("/api/v1/signals/").status_code == 401
    # An admin sees and revokes anyone's.
    admin = client_for(make_member(org, Role.ADMIN), org)
    assert theirs_row.prefix in admin.get("/settings/api-tokens/").content.decode()
    assert admin.post(f"/settings/api-tokens/{theirs_row.pk}/revoke/").status_code == 302
    assert bearer(org, theirs).get("/api/v1/signals/").status_code == 401
    theirs_row.refresh_from_db()
    assert theirs_row.revoked_at is not None and theirs_row.revoked_by.startswith("admin")
    assert admin.post("/settings/api-tokens/424242/revoke/").status_code == 404


def test_another_organizations_token_cannot_be_revoked_here(org, other_org, make_token, client_for):
    make_token(other_org, name="beta's")
    row = ApiToken.objects.get()
    assert client_for(org.owner, org).post(f"/settings/api-tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_viewer_may_hold_a_personal_token_that_only_reads(org, make_member, client_for, bearer):
    viewer = make_member(org, Role.VIEWER)
    viewer_client = client_for(viewer, org)
    response = viewer_client.post(
        "/settings/api-tokens/new/",
        {"name": "dash", "scope": "write", "expires_in_days": "", "kind": "personal"},
    )
    client = bearer(org, _secret(_revealed(viewer_client, response)))
    assert client.get("/api/v1/rules/").status_code == 200
    created = client.post(
        "/api/v1/rules/", {"name": "x", "action": "record"}, content_type="application/json"
    )
    assert created.status_code == 403


def test_non_member_and_anonymous(org, other_org, client_for):
    assert client_for(org.owner, other_org).get("/settings/api-tokens/").status_code == 403
    assert client_for(None, org).get("/settings/api-tokens/").status_code == 302


# --- shown once: post/redirect/get ------------------------------------------------------------

FORM = {"name": "CI", "scope": "read", "expires_in_days": "30", "kind": "personal"}


def test_token_reveal_reload_shows_nothing_and_creates_nothing(org, other_org, make_member, client_for):
    # given: a member created a token and saw its secret
    member = make_member(org, Role.MEMBER)
    client = client_for(member, org)
    response = client.post("/settings/api-tokens/new/", FORM)
    assert ApiToken.objects.count() == 1
    secret = _secret(_revealed(client, response))
    # when: the page is reloaded
    again = client.get(response["Location"])
    # then: no secret, a way forward, still one token (and none in the other organization)
    body = again.content.decode()
    assert again.status_code == 200 and no_store(again)
    assert secret not in body and "data-secret" not in body
    assert "already shown" in body and 'data-testid="secret-gone"' in body
    token = ApiToken.objects.get()
    assert f'action="/settings/api-tokens/{token.pk}/revoke/"' in body
    assert ApiToken.objects.count() == 1
    assert not ApiToken.objects.filter(organization=other_org.organization).exists()


def test_token_reveal_keeps_no_plaintext_in_the_session(org, client_for):
    client = client_for(org.owner, org)
    response = client.post("/settings/api-tokens/new/", FORM)
    stored = json.dumps(dict(client.session.items()))
    assert _secret(_revealed(client, response)) not in stored


def test_token_reveal_is_bound_to_the_session_and_the_organization(
    org, other_org, make_member, make_token, client_for
):
    admin = make_member(org, Role.ADMIN)
    client = client_for(admin, org)
    response = client.post("/settings/api-tokens/new/", FORM)
    location = response["Location"]
    pk, key = REVEAL.match(location).groups()
    make_token(other_org, name="beta's")
    # another admin of the same organization (another session), another organization's owner
    assert client_for(org.owner, org).get(location).status_code == 404
    assert client_for(other_org.owner, org).get(location).status_code == 403
    assert client_for(other_org.owner, other_org).get(location).status_code == 404
    # the key does not open another token of the same organization either
    make_token(org, admin, name="other")
    other_pk = ApiToken.objects.get(name="other").pk
    assert client.get(f"/settings/api-tokens/{other_pk}/reveal/{key}/").status_code == 404
    # none of this used up the reveal: its owner still sees the secret, once, and it works
    secret = _secret(client.get(location))
    assert ApiToken.objects.get(pk=pk).token_hash == digest(secret)
    assert ApiToken.objects.filter(organization=org.organization).count() == 2
