"""Members: list, role changes, the last owner, ownership transfer, removal (access and sessions end)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from tenants.audit import AuditEvent
from tenants.models import Membership
from tenants.roles import Role

PASSWORD = "correct horse battery staple"


pytestmark = pytest.mark.django_db


def _membership(user, org):
    return Membership.objects.get(user=user, organization=org.organization)


def _owner_membership(org):
    return Membership.objects.get(user=org.owner, organization=org.organization)


def sign_in(client, email, password=PASSWORD):
    """A real sign-in through the login page (so the session is tagged with its host)."""
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, response.content
    return client


# --- list -------------------------------------------------------------------------------------


def test_members_list_shows_role_and_last_activity(org, make_member, client_for):
    viewer = make_member(org, Role.VIEWER)
    response = client_for(org.owner, org).get("/settings/members/")
    assert response.status_code == 200
    body = response.content.decode()
    assert viewer.email in body and org.owner.email in body
    assert "Viewer" in body
    # The owner's own request just set their last activity; the viewer never came.
    assert _owner_membership(org).last_seen_at is not None
    assert "never" in body


def test_members_list_other_org_sees_nothing(org, other_org, make_member, client_for):
    alpha_member = make_member(org, Role.MEMBER)
    body = client_for(other_org.owner, other_org).get("/settings/members/").content.decode()
    assert alpha_member.email not in body
    assert org.owner.email not in body


# --- role changes -----------------------------------------------------------------------------


def test_member_role_change_by_admin(org, make_member, client_for):
    admin, viewer = make_member(org, Role.ADMIN), make_member(org, Role.VIEWER)
    membership = _membership(viewer, org)
    response = client_for(admin, org).post(f"/settings/members/{membership.pk}/role/", {"role": "member"})
    assert response.status_code == 302
    assert _membership(viewer, org).role == Role.MEMBER
    event = AuditEvent.objects.get(action="member.role_changed", organization=org.organization)
    assert (event.actor, event.target, event.details) == (
        admin,
        viewer.email,
        {"from": "viewer", "to": "member"},
    )


def test_member_role_change_last_owner_cannot_be_demoted(org, client_for):
    membership = _owner_membership(org)
    response = client_for(org.owner, org).post(
        f"/settings/members/{membership.pk}/role/", {"role": "admin"}, follow=True
    )
    assert "last owner" in response.content.decode()
    assert _owner_membership(org).role == Role.OWNER


def test_member_role_change_second_owner_can_be_demoted(org, make_member, client_for):
    second = make_member(org, Role.OWNER)
    client_for(org.owner, org).post(
        f"/settings/members/{_membership(second, org).pk}/role/", {"role": "admin"}
    )
    assert _membership(second, org).role == Role.ADMIN


def test_member_role_admin_cannot_touch_owner_or_grant_owner(org, make_member, client_for):
    admin, member = make_member(org, Role.ADMIN), make_member(org, Role.MEMBER)
    client = client_for(admin, org)
    second_owner = make_member(org, Role.OWNER)
    client.post(f"/settings/members/{_membership(second_owner, org).pk}/role/", {"role": "viewer"})
    client.post(f"/settings/members/{_membership(member, org).pk}/role/", {"role": "owner"})
    client.post(f"/settings/members/{_membership(second_owner, org).pk}/remove/")
    assert _membership(second_owner, org).role == Role.OWNER
    assert _membership(member, org).role == Role.MEMBER


def test_member_role_other_org_membership_404(org, other_org, make_member, client_for):
    beta_member = make_member(other_org, Role.MEMBER)
    response = client_for(org.owner, org).post(
        f"/settings/members/{_membership(beta_member, other_org).pk}/role/", {"role": "viewer"}
    )
    assert response.status_code == 404
    assert _membership(beta_member, other_org).role == Role.MEMBER


# --- ownership transfer ----------------------------------------------------------------------


def test_ownership_transfer_owner_becomes_admin(org, make_member, client_for):
    member = make_member(org, Role.MEMBER)
    response = client_for(org.owner, org).post(
        "/settings/members/transfer/", {"membership": _membership(member, org).pk}
    )
    assert response.status_code == 302
    assert _membership(member, org).role == Role.OWNER
    assert _owner_membership(org).role == Role.ADMIN
    assert AuditEvent.objects.filter(action="member.ownership_transferred", target=member.email).exists()


def test_ownership_transfer_to_an_owner_refused(org, make_member, client_for):
    second = make_member(org, Role.OWNER)
    response = client_for(org.owner, org).post(
        "/settings/members/transfer/", {"membership": _membership(second, org).pk}, follow=True
    )
    assert "already an owner" in response.content.decode()
    assert _owner_membership(org).role == Role.OWNER


def test_ownership_transfer_admin_refused(org, make_member, client_for):
    admin, member = make_member(org, Role.ADMIN), make_member(org, Role.MEMBER)
    response = client_for(admin, org).post(
        "/settings/members/transfer/", {"membership": _membership(member, org).pk}
    )
    assert response.status_code == 403
    assert _membership(member, org).role == Role.MEMBER


# --- removal ----------------------------------------------------------------------------------


def test_member_remove_last_owner_refused(org, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    response = client_for(org.owner, org).post(
        f"/settings/members/{_owner_membership(org).pk}/remove/", follow=True
    )
    assert "last owner" in response.content.decode()
    assert Membership.objects.filter(user=org.owner, organization=org.organization).exists()
    assert admin  # an admin exists, yet the owner stays


def test_member_remove_kills_access_and_sessions_of_that_org_only(org, other_org, make_member, client_for):
    # Given a user who is a member of both organizations, signed in on both hosts
    from django.test import Client

    user = make_member(org, Role.MEMBER)
    from tenants.services import membership_grant

    membership_grant(user=user, organization=other_org.organization, role=Role.MEMBER)
    alpha = sign_in(Client(HTTP_HOST=org.domain), user.email)
    beta = sign_in(Client(HTTP_HOST=other_org.domain), user.email)
    alpha_key, beta_key = alpha.session.session_key, beta.session.session_key
    assert alpha.get("/settings/").status_code == 200

    # When an owner of alpha removes them
    response = client_for(org.owner, org).post(f"/settings/members/{_membership(user, org).pk}/remove/")
    assert response.status_code == 302

    # Then their alpha session is gone (sign-in page), their beta session lives on
    assert not Membership.objects.filter(user=user, organization=org.organization).exists()
    assert not Session.objects.filter(session_key=alpha_key).exists()
    assert Session.objects.filter(session_key=beta_key).exists()
    assert alpha.get("/settings/")["Location"].startswith("/accounts/login/")
    assert beta.get("/settings/").status_code == 200
    event = AuditEvent.objects.get(action="member.removed")
    assert (event.organization, event.target) == (org.organization, user.email)


def test_member_remove_other_org_membership_404(org, other_org, make_member, client_for):
    beta_member = make_member(other_org, Role.MEMBER)
    response = client_for(org.owner, org).post(
        f"/settings/members/{_membership(beta_member, other_org).pk}/remove/"
    )
    assert response.status_code == 404
    assert Membership.objects.filter(user=beta_member, organization=other_org.organization).exists()


# --- permissions on every admin endpoint -----------------------------------------------------

ADMIN_ENDPOINTS = [
    ("get", "/settings/members/"),
    ("post", "/settings/members/{m}/role/"),
    ("post", "/settings/members/{m}/remove/"),
    ("post", "/settings/members/transfer/"),
    ("post", "/settings/invitations/"),
    ("post", "/settings/invitations/{i}/resend/"),
    ("post", "/settings/invitations/{i}/revoke/"),
    ("get", "/settings/audit/"),
    ("get", "/settings/organization/"),
    ("post", "/settings/organization/"),
]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_admin_endpoints_refuse_viewer_and_member(org, make_member, client_for, role, method, path):
    from tenants.invitations import invitation_create

    target = make_member(org, Role.VIEWER)
    invitation = invitation_create(
        organization=org.organization,
        email="x@example.com",
        role="member",
        actor=org.owner,
        actor_role="owner",
    )
    url = path.format(m=_membership(target, org).pk, i=invitation.pk)
    data = {"role": "admin", "membership": _membership(target, org).pk, "email": "y@example.com", "name": "X"}
    response = (
        getattr(client_for(make_member(org, role), org), method)(url, data)
        if method == "post"
        else (client_for(make_member(org, role), org).get(url))
    )
    assert response.status_code == 403
    assert _membership(target, org).role == Role.VIEWER
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_admin_endpoints_anonymous_sent_to_sign_in(org, client_for):
    response = client_for(None, org).get("/settings/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
