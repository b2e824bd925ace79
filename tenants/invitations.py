"""How people join, change role in and leave an organization: invitations, self-join, roles, removal.

Invitation links carry a token signed with the project's secret (salted, timestamped) that names
the invitation; only its SHA-256 is stored. A link works once, until it expires, on its own
organization's host only; resending replaces the token (the old link stops working).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenants.audit import audit_record
from tenants.links import host_url
from tenants.models import Invitation, Membership, User
from tenants.org_settings import settings_for
from tenants.quotas import MEMBERS, quota_check
from tenants.realtime import access_group, publish_access_revoked
from tenants.roles import Role, role_allows
from tenants.security import sessions_end_for_organization
from tenants.services import membership_grant

logger = logging.getLogger(__name__)

_SALT = "tenants.invitation"
DEFAULT_VALID_DAYS = 7


def _valid_for() -> timedelta:
    return timedelta(days=getattr(settings, "INVITATION_VALID_DAYS", DEFAULT_VALID_DAYS))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(invitation_id: int) -> str:
    return signing.dumps({"i": invitation_id, "n": secrets.token_urlsafe(16)}, salt=_SALT, compress=True)


def invitation_link(invitation: Invitation, token: str) -> str:
    path = reverse("orgadmin:invitation_accept", kwargs={"token": token}, urlconf=settings.ROOT_URLCONF)
    return host_url(invitation.organization.primary_domain) + path


def _send(invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "link": invitation_link(invitation, token),
        "inviter": invitation.invited_by.display_name if invitation.invited_by else "An administrator",
        "valid_days": _valid_for().days,
    }
    subject = render_to_string("emails/invitation_subject.txt", context).strip()
    body = render_to_string("emails/invitation.txt", context)
    # After commit: a rolled-back invitation must never be mailed.
    transaction.on_commit(lambda: send_mail(subject, body, None, [invitation.email], fail_silently=False))


# --- invitations ------------------------------------------------------------------------------


def _can_grant(actor_role: str, role: str) -> None:
    if role not in Role.values:
        raise ValidationError(f"unknown role {role!r}")
    if role == Role.OWNER and not role_allows(actor_role, "own"):
        raise ValidationError("only an owner can make someone an owner")


def invitation_create(
    *, organization, email: str, role: str, actor, actor_role: str, request=None
) -> Invitation:
    """Invite `email` with `role`; mails the link after commit. Returns the invitation."""

    email = email.strip().lower()
    _can_grant(actor_role, role)
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ValidationError(f"{email} is already a member of {organization.name}")
    if Invitation.objects.pending().filter(organization=organization, email=email).exists():
        raise ValidationError(f"{email} already has a pending invitation; resend it instead")
    quota_check(organization, MEMBERS)
    with transaction.atomic():
        # A lapsed invitation still counts as "open" for the constraint: close it first.
        Invitation.objects.filter(
            organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            invited_by=actor,
            token_hash=secrets.token_hex(32),  # placeholder until the id is known
            expires_at=timezone.now() + _valid_for(),
        )
        token = _new_token(invitation.pk)
        invitation.token_hash = _hash(token)
        invitation.save(update_fields=["token_hash"])
        audit_record(
            action="invitation.created",
            request=request,
            organization=organization,
            actor=actor,
            target=email,
            details={"role": role, "invitation": invitation.pk},
        )
        _send(invitation, token)
    return invitation


def invitation_resend(*, invitation: Invitation, actor, request=None) -> Invitation:
    """Mail a fresh link (the previous one stops working) and restart the validity period."""
    if invitation.state in ("accepted", "revoked"):
        raise ValidationError(
            f"this invitation was {invitation.state}; invite {invitation.email} again instead"
        )
    with transaction.atomic():
        token = _new_token(invitation.pk)
        invitation.token_hash = _hash(token)
        invitation.sent_at = timezone.now()
        invitation.expires_at = invitation.sent_at + _valid_for()
        invitation.send_count += 1
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "send_count"])
        audit_record(
            action="invitation.resent",
            request=request,
            organization=invitation.organization,
            actor=actor,
            target=invitation.email,
            details={"invitation": invitation.pk, "send_count": invitation.send_count},
        )
        _send(invitation, token)
    return invitation


def invitation_revoke(*, invitation: Invitation, actor, request=None) -> None:
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(f"this invitation was already {invitation.state}")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            action="invitation.revoked",
            request=request,
            organization=invitation.organization,
            actor=actor,
            target=invitation.email,
            details={"invitation": invitation.pk},
        )


class InvitationInvalid(Exception):
    """The link cannot be used; `message` says why in words for the invitee (`status`: 404 or 410)."""

    def __init__(self, message: str, status: int = 410) -> None:
        super().__init__(message)
        self.message, self.status = message, status


INVALID = "This invitation link is not valid. Ask the person who invited you to send a new one."


def invitation_for_token(token: str, organization) -> Invitation:
    """The pending invitation this link names, on this organization's host — or InvitationInvalid."""
    try:
        signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise InvitationInvalid(INVALID, 404) from None
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=_hash(token), organization=organization)
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(INVALID, 404)
    if invitation.accepted_at:
        raise InvitationInvalid("This invitation was already used. Sign in to reach the organization.")
    if invitation.revoked_at:
        raise InvitationInvalid("This invitation was withdrawn. Ask an owner or admin for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired. Ask the person who invited you to resend it.")
    if not organization.is_active:
        raise InvitationInvalid(f"{organization.name} is suspended; invitations cannot be accepted now.")
    return invitation


def _accept(invitation: Invitation, user, request) -> None:
    # Lock the row: two tabs accepting at once must not both pass.
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at or locked.revoked_at or locked.token_hash != invitation.token_hash:
        raise InvitationInvalid("This invitation was already used. Sign in to reach the organization.")
    membership_grant(user=user, organization=invitation.organization, role=invitation.role)
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        action="invitation.accepted",
        request=request,
        organization=invitation.organization,
        actor=user,
        target=user.email,
        details={"role": invitation.role, "invitation": invitation.pk},
    )


def invitation_accept_new_user(*, invitation: Invitation, password: str, full_name: str = "", request=None):
    """Create the invitee's account with `password` (validated) and make them a member."""
    if User.objects.filter(email=invitation.email).exists():
        raise ValidationError("an account with this email exists: sign in to accept the invitation")
    candidate = User(email=invitation.email, full_name=full_name.strip())
    validate_password(password, candidate)
    with transaction.atomic():
        user = User.objects.create_user(invitation.email, password, full_name=full_name.strip())
        _accept(invitation, user, request)
    return user


def invitation_accept_existing(*, invitation: Invitation, user, request=None) -> None:
    """Accept into the signed-in account. The invitation is for one address: it must be theirs."""
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"this invitation is for {invitation.email}, but you are signed in as {user.email}; "
            f"sign out and sign in as {invitation.email}"
        )

    if Membership.objects.filter(user=user, organization=invitation.organization).exists():
        raise ValidationError(f"you are already a member of {invitation.organization.name}")
    with transaction.atomic():
        _accept(invitation, user, request)


# --- self-join --------------------------------------------------------------------------------


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


def self_join_allowed(organization, user) -> bool:
    allowed = {d.lower() for d in settings_for(organization).allowed_email_domains}
    return bool(allowed) and organization.is_active and email_domain(user.email) in allowed


def self_join(*, organization, user, request=None):
    """A signed-in user whose email domain the organization allows joins as a member."""
    if not self_join_allowed(organization, user):
        raise ValidationError(
            f"{organization.name} does not let {email_domain(user.email)} addresses join by themselves; "
            f"ask an owner or admin for an invitation"
        )
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(f"you are already a member of {organization.name}")
    quota_check(organization, MEMBERS)
    with transaction.atomic():
        membership = membership_grant(user=user, organization=organization, role=Role.MEMBER)
        audit_record(
            action="member.self_joined",
            request=request,
            organization=organization,
            actor=user,
            target=user.email,
            details={"domain": email_domain(user.email)},
        )
    return membership


# --- roles and removal ------------------------------------------------------------------------


def _owners(organization) -> int:

    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


def _may_manage(actor_membership, target_membership) -> None:
    if target_membership.role == Role.OWNER and not role_allows(actor_membership.role, "own"):
        raise ValidationError("only an owner can change or remove an owner")


def membership_role_change(*, actor_membership, membership, role: str, request=None) -> bool:
    """Change a member's role; returns False when nothing changed. The last owner stays owner."""

    _can_grant(actor_membership.role, role)
    _may_manage(actor_membership, membership)
    if membership.role == role:
        return False
    with transaction.atomic():
        # Lock the organization's owner rows so two demotions cannot both pass the last-owner check.
        list(
            Membership.objects.select_for_update().filter(
                organization=membership.organization, role=Role.OWNER
            )
        )
        if membership.role == Role.OWNER and _owners(membership.organization) <= 1:
            raise ValidationError(
                "this is the organization's last owner; make someone else owner first (transfer ownership)"
            )
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            action="member.role_changed",
            request=request,
            organization=membership.organization,
            actor=actor_membership.user,
            target=membership.user.email,
            details={"from": before, "to": role},
        )
    return True


def membership_remove(*, actor_membership, membership, request=None) -> int:
    """Remove a member and end their sessions on this organization; returns sessions ended."""
    _may_manage(actor_membership, membership)
    organization, user = membership.organization, membership.user
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(organization=organization, role=Role.OWNER))
        if membership.role == Role.OWNER and _owners(organization) <= 1:
            raise ValidationError("this is the organization's last owner and cannot be removed")
        membership.delete()
        audit_record(
            action="member.removed",
            request=request,
            organization=organization,
            actor=actor_membership.user,
            target=user.email,
            details={"role": membership.role},
        )
        ended = sessions_end_for_organization(user=user, organization=organization)
        publish_access_revoked(access_group(organization.schema_name, user.pk))
    return ended


def ownership_transfer(*, actor_membership, membership, request=None) -> None:
    """The acting owner makes `membership` owner and becomes admin."""
    if actor_membership.role != Role.OWNER:
        raise ValidationError("only an owner can transfer ownership")
    if membership.pk == actor_membership.pk:
        raise ValidationError("choose another member to transfer ownership to")
    if membership.organization_id != actor_membership.organization_id:
        raise ValidationError("that person is not a member of this organization")
    if membership.role == Role.OWNER:
        raise ValidationError(f"{membership.user.email} is already an owner")
    with transaction.atomic():
        before = membership.role
        membership.role = Role.OWNER
        membership.save(update_fields=["role"])
        actor_membership.role = Role.ADMIN
        actor_membership.save(update_fields=["role"])
        audit_record(
            action="member.ownership_transferred",
            request=request,
            organization=membership.organization,
            actor=actor_membership.user,
            target=membership.user.email,
            details={"new_owner_previous_role": before, "previous_owner_now": Role.ADMIN},
        )
