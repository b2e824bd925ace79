"""Invitations end to end: mail, accept as a new or existing user, single use, expiry, revoke, host."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tenants.audit import AuditEvent
from tenants.invitations import Invitation
from tenants.models import Membership, User
from tenants.roles import Role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "purple elephants dance quietly"
LINK = re.compile(r"http://(?P<host>[a-z0-9.-]+):8000(?P<path>/accounts/login/invitation/[^/\s]+/)")


@pytest.fixture
def invite(client_for, django_capture_on_commit_callbacks):
    """invite(org, email, role, by=owner) -> the link's path, after the admin page sent the mail."""

    def make(org_fixture, email, role="member", by=None):
        client = client_for(by or org_fixture.owner, org_fixture)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/settings/invitations/", {"email": email, "role": role})
        assert response.status_code == 302
        match = LINK.search(mail.outbox[-1].body)
        assert match and match["host"] == org_fixture.domain
        return match["path"]

    return make


def _anonymous(org):
    return Client(HTTP_HOST=org.domain)


def test_invitation_mail_in_outbox_with_link(org, invite):
    path = invite(org, "New.Person@Example.com", "admin")
    message = mail.outbox[-1]
    assert message.to == ["new.person@example.com"]
    assert "Alpha" in message.subject and "as admin" in message.body
    invitation = Invitation.objects.get(organization=org.organization, email="new.person@example.com")
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64  # only the hash is stored
    assert AuditEvent.objects.filter(action="invitation.created", target="new.person@example.com").exists()


def test_invitation_accept_as_new_user(org, invite):
    path = invite(org, "newbie@example.com", "admin")
    client = _anonymous(org)
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"full_name": "New Bie", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    user = User.objects.get(email="newbie@example.com")
    assert user.check_password(NEW_PASSWORD) and user.full_name == "New Bie"
    assert Membership.objects.get(user=user, organization=org.organization).role == Role.ADMIN
    assert client.get("/settings/members/").status_code == 200  # signed in, with the invited role
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=user).exists()


def test_invitation_accept_refuses_weak_password(org, invite):
    path = invite(org, "weak@example.com")
    response = _anonymous(org).post(path, {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200
    assert "too short" in response.content.decode() or "too common" in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_invitation_link_cannot_be_reused(org, invite):
    path = invite(org, "once@example.com")
    _anonymous(org).post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    again = _anonymous(org)
    assert again.get(path).status_code == 410
    response = again.post(path, {"password1": NEW_PASSWORD + "x", "password2": NEW_PASSWORD + "x"})
    assert response.status_code == 410
    assert "already used" in response.content.decode()
    assert not User.objects.get(email="once@example.com").check_password(NEW_PASSWORD + "x")


def test_invitation_accept_as_existing_user(org, other_org, make_member, invite, client_for):
    # Given someone with an account (a member of beta) invited to alpha
    existing = make_member(other_org, Role.MEMBER)
    path = invite(org, existing.email, "viewer")
    # Anonymous: sent to sign in, coming back to the link
    response = _anonymous(org).get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    # Signed in: accepts into the same account
    client = client_for(existing, org)
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    assert Membership.objects.get(user=existing, organization=org.organization).role == Role.VIEWER
    assert User.objects.filter(email=existing.email).count() == 1
    assert _anonymous(org).get(path).status_code == 410


def test_invitation_signed_in_as_someone_else_refused(org, other_org, make_member, invite, client_for):
    path = invite(org, "intended@example.com")
    intruder = make_member(other_org, Role.MEMBER)
    client = client_for(intruder, org)
    assert "but you are signed in as" in client.get(path).content.decode()
    client.post(path)
    assert not Membership.objects.filter(user=intruder, organization=org.organization).exists()
    assert Invitation.objects.get(email="intended@example.com").state == "pending"


def test_invitation_expired_refused(org, invite):
    path = invite(org, "late@example.com")
    Invitation.objects.filter(email="late@example.com").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = _anonymous(org).post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="late@example.com").exists()


def test_invitation_revoked_refused(org, invite, client_for):
    path = invite(org, "revoked@example.com")
    invitation = Invitation.objects.get(email="revoked@example.com")
    assert (
        client_for(org.owner, org).post(f"/settings/invitations/{invitation.pk}/revoke/").status_code == 302
    )
    response = _anonymous(org).get(path)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert AuditEvent.objects.filter(action="invitation.revoked", target="revoked@example.com").exists()


def test_invitation_resend_replaces_link(org, invite, client_for, django_capture_on_commit_callbacks):
    old_path = invite(org, "resend@example.com")
    invitation = Invitation.objects.get(email="resend@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(org.owner, org).post(f"/settings/invitations/{invitation.pk}/resend/")
    assert len(mail.outbox) == 2
    new_path = LINK.search(mail.outbox[-1].body)["path"]
    assert new_path != old_path
    assert _anonymous(org).get(old_path).status_code == 404
    assert _anonymous(org).get(new_path).status_code == 200
    invitation.refresh_from_db()
    assert invitation.send_count == 2
    assert AuditEvent.objects.filter(action="invitation.resent", target="resend@example.com").exists()


def test_invitation_wrong_org_host_refused(org, other_org, invite):
    path = invite(org, "hosted@example.com")
    response = _anonymous(other_org).post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 404
    assert not User.objects.filter(email="hosted@example.com").exists()
    assert _anonymous(org).get(path).status_code == 200  # still valid where it belongs


def test_invitation_garbled_token_404(org):
    assert _anonymous(org).get("/accounts/login/invitation/not-a-token/").status_code == 404


def test_invitation_of_owner_role_only_by_owner(org, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    response = client_for(admin, org).post(
        "/settings/invitations/", {"email": "boss@example.com", "role": "owner"}, follow=True
    )
    assert "only an owner" in response.content.decode()
    assert not Invitation.objects.filter(email="boss@example.com").exists()
    assert mail.outbox == []


def test_invitation_of_existing_member_refused(org, make_member, client_for):
    member = make_member(org, Role.MEMBER)
    response = client_for(org.owner, org).post(
        "/settings/invitations/", {"email": member.email, "role": "admin"}, follow=True
    )
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_invitation_other_org_cannot_resend_or_revoke(org, other_org, invite, client_for):
    invite(org, "mine@example.com")
    invitation = Invitation.objects.get(email="mine@example.com")
    beta = client_for(other_org.owner, other_org)
    assert beta.post(f"/settings/invitations/{invitation.pk}/revoke/").status_code == 404
    assert beta.post(f"/settings/invitations/{invitation.pk}/resend/").status_code == 404
    assert "mine@example.com" not in beta.get("/settings/members/").content.decode()
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_invitation_members_quota_reached(org, client_for):
    from tenants.org_settings import quotas_update

    quotas_update(organization=org.organization, actor=org.owner, max_members=2)  # owner + one more
    client = client_for(org.owner, org)
    client.post("/settings/invitations/", {"email": "first@example.com", "role": "member"})
    response = client.post(
        "/settings/invitations/", {"email": "second@example.com", "role": "member"}, follow=True
    )
    assert "limit of 2 members" in response.content.decode()
    assert list(Invitation.objects.values_list("email", flat=True)) == ["first@example.com"]


# --- self-join --------------------------------------------------------------------------------


def test_self_join_with_allowed_domain(org, other_org, client_for):
    from tenants.org_settings import settings_for

    row = settings_for(org.organization)
    row.allowed_email_domains = ["beta.test"]
    row.save()
    user = other_org.owner  # owner@beta.test
    client = client_for(user, org)
    assert client.get("/accounts/login/join/").status_code == 200
    assert client.post("/accounts/login/join/").status_code == 302
    assert Membership.objects.get(user=user, organization=org.organization).role == Role.MEMBER
    assert AuditEvent.objects.filter(action="member.self_joined", actor=user).exists()


def test_self_join_refused_without_allowed_domain(org, other_org, client_for):
    client = client_for(other_org.owner, org)
    assert client.get("/accounts/login/join/").status_code == 403
    assert client.post("/accounts/login/join/").status_code == 403
    assert not Membership.objects.filter(user=other_org.owner, organization=org.organization).exists()


def test_self_join_anonymous_sent_to_sign_in(org):
    response = _anonymous(org).get("/accounts/login/join/")
    assert response.status_code == 302 and "/accounts/login/?next=" in response["Location"]
