"""The audit log: who did what, when, in which organization, to what, from which address.

Public schema (organizations may be deleted; their audit trail of the deletion stays).
`audit_record(...)` is the one writer every app calls; the sign-in receivers below only record.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from tenants.models import AuditEvent

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 365


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address Django saw (X-Forwarded-For is not trusted: it is set by the client)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _organization_of(request: HttpRequest | None):
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        return None
    return tenant


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    organization=None,
    actor=None,
    actor_email: str = "",
    target: str | object = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Record one action. Organization, actor and IP default to the request's.

    Call it inside the service's transaction so the record and the change commit together.
    """
    if organization is None:
        organization = _organization_of(request)
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if actor is not None and not actor_email:
        actor_email = actor.email
    event = AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        actor_email=actor_email[:254],
        action=action[:64],
        target=str(target)[:300],
        details=details or {},
        ip=ip or client_ip(request),
    )
    logger.info(
        "tenants.audit.recorded",
        extra={"action": action, "organization": getattr(organization, "slug", ""), "actor": actor_email},
    )
    return event


def audit_events_for(
    organization,
    *,
    actor: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """An organization's events, newest first, filtered (actor: part of the email; action: prefix)."""
    events = AuditEvent.objects.filter(organization=organization)
    if actor:
        events = events.filter(actor_email__icontains=actor.strip())
    if action:
        events = events.filter(action__startswith=action.strip())
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.select_related("actor")


def audit_actions_for(organization) -> list[str]:
    """Distinct actions recorded for an organization (for the filter's choices)."""
    return list(
        AuditEvent.objects.filter(organization=organization)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def audit_prune(*, older_than_days: int | None = None, batch: int = 5000) -> int:
    """Delete events older than the retention (OPSWORKER_AUDIT_RETENTION_DAYS), in batches."""
    days = older_than_days or getattr(settings, "AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(AuditEvent.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += AuditEvent.objects.filter(pk__in=ids).delete()[0]


def audit_prune_everywhere() -> int:
    """Scheduler entry point. One table in the public schema holds every organization's events."""
    deleted = audit_prune()
    logger.info("tenants.audit.pruned", extra={"deleted": deleted})
    return deleted


# --- sign-in recording (receivers record; they decide nothing) --------------------------------


@receiver(user_logged_in, dispatch_uid="tenants.audit.signed_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    if request is None or getattr(request, "tenant", None) is None:
        return  # test clients' force_login and other programmatic logins: not a person signing in
    audit_record(action="auth.signed_in", request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="tenants.audit.sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is None or getattr(request, "tenant", None) is None:
        return
    email = str(credentials.get("username") or credentials.get("email") or "")[:254].lower()
    audit_record(action="auth.sign_in_failed", request=request, actor_email=email, target=email)
