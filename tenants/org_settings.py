"""Organization-level settings (public schema) and the organization's lifecycle: suspend, reactivate, delete.

Settings live in the public schema, beside the organization: the platform admin reads and writes
quotas of every organization without entering schemas, and settings survive a suspension. The
default rule action stays in the organization's own `alerts.RuleSettings` (the rule engine reads
it there): the alerts app registers how to read and write it (`default_action_provider_register`),
so this module never imports the alerts app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.audit import audit_record
from tenants.models import OrganizationSettings, time_zone_validate
from tenants.quotas import organization_here
from tenants.realtime import access_group, publish_access_revoked

logger = logging.getLogger(__name__)


def settings_for(organization) -> OrganizationSettings:
    """The organization's settings row (created with defaults on first use)."""
    row, _ = OrganizationSettings.objects.get_or_create(organization=organization)
    return row


def retention_days(organization, kind: str) -> int | None:
    """Days to keep `kind` (signals, raw_payloads, investigations) for this organization, or None.

    None means: no organization setting, use the installation's default.
    """
    field = {
        "signals": "signal_retention_days",
        "raw_payloads": "raw_payload_retention_days",
        "investigations": "investigation_retention_days",
    }[kind]
    row = OrganizationSettings.objects.filter(organization=organization).values(field).first()
    return row[field] if row else None


def retention_days_here(kind: str, default: int) -> int:
    """Days to keep `kind` for the organization whose schema the connection is in, else `default`."""
    organization = organization_here()
    own = retention_days(organization, kind) if organization is not None else None
    return own or default


@dataclass(frozen=True)
class DefaultActionProvider:
    """How the alerts app reads and writes the default rule action; both run inside the schema."""

    choices: list[tuple[str, str]]
    get: Callable[[], str]
    set: Callable[..., None]  # set(*, action: str, author: str)


_default_action: DefaultActionProvider | None = None


def default_action_provider_register(provider: DefaultActionProvider) -> None:
    """Called once by the alerts app at startup (alerts/apps.py)."""
    global _default_action
    _default_action = provider


def _default_action_provider() -> DefaultActionProvider:
    if _default_action is None:
        raise LookupError("no default action provider registered (alerts/apps.py registers it)")
    return _default_action


def default_action_choices() -> list[tuple[str, str]]:
    return _default_action_provider().choices


def default_action_get(organization) -> str:
    with schema_context(organization.schema_name):
        return _default_action_provider().get()


@dataclass(frozen=True)
class SettingsChange:
    name: str
    time_zone: str
    signal_retention_days: int | None
    raw_payload_retention_days: int | None
    investigation_retention_days: int | None
    default_action: str
    allowed_email_domains: list[str]


_ROW_FIELDS = (
    "time_zone",
    "signal_retention_days",
    "raw_payload_retention_days",
    "investigation_retention_days",
    "allowed_email_domains",
)


def organization_settings_update(*, organization, change: SettingsChange, actor, request=None) -> dict:
    """Apply the settings form; returns {field: [before, after]} of what changed (also audited)."""
    time_zone_validate(change.time_zone)
    if not change.name.strip():
        raise ValidationError("the organization needs a name")
    row = settings_for(organization)
    changed: dict[str, list] = {}
    with transaction.atomic():
        if organization.name != change.name.strip():
            changed["name"] = [organization.name, change.name.strip()]
            organization.name = change.name.strip()
            organization.save(update_fields=["name"])
        for field in _ROW_FIELDS:
            before, after = getattr(row, field), getattr(change, field)
            if before != after:
                changed[field] = [before, after]
                setattr(row, field, after)
        if any(field in changed for field in _ROW_FIELDS):
            row.updated_at = timezone.now()
            row.save()
        before_action = default_action_get(organization)
        if before_action != change.default_action:
            with schema_context(organization.schema_name):
                _default_action_provider().set(action=change.default_action, author=actor.email)
            changed["default_action"] = [before_action, change.default_action]
        if changed:
            audit_record(
                action="organization.settings_changed",
                request=request,
                organization=organization,
                actor=actor,
                target=organization.slug,
                details=changed,
            )
    return changed


def quotas_update(*, organization, actor, request=None, **limits: int | None) -> dict:
    """Set quotas (max_investigations_per_day, max_clusters, max_members); None = unlimited."""
    row = settings_for(organization)
    changed = {}
    for field, value in limits.items():
        if field not in ("max_investigations_per_day", "max_clusters", "max_members"):
            raise ValueError(f"unknown quota {field}")
        if getattr(row, field) != value:
            changed[field] = [getattr(row, field), value]
            setattr(row, field, value)
    if changed:
        with transaction.atomic():
            row.updated_at = timezone.now()
            row.save()
            audit_record(
                action="organization.quotas_changed",
                request=request,
                organization=organization,
                actor=actor,
                target=organization.slug,
                details=changed,
            )
    return changed


# --- lifecycle --------------------------------------------------------------------------------


def organization_suspend(*, organization, actor, reason: str = "", request=None) -> None:
    """Suspend: webhooks and agents get 404, members see the suspended page, jobs are skipped.

    Nothing is deleted. Takes effect on the next request: every refusal reads `is_active` from the
    organization row that request loads; open WebSockets are closed when the transaction commits.
    """
    if organization.schema_name == "public":
        raise ValidationError("the public host cannot be suspended")
    with transaction.atomic():
        row = settings_for(organization)
        organization.is_active = False
        organization.save(update_fields=["is_active"])
        row.suspended_at = timezone.now()
        row.suspended_reason = reason.strip()[:300]
        row.save(update_fields=["suspended_at", "suspended_reason"])
        audit_record(
            action="organization.suspended",
            request=request,
            organization=organization,
            actor=actor,
            target=organization.slug,
            details={"reason": row.suspended_reason},
        )
        publish_access_revoked(access_group(organization.schema_name))
    logger.warning("tenants.organization.suspended", extra={"slug": organization.slug})


def organization_reactivate(*, organization, actor, request=None) -> None:
    with transaction.atomic():
        row = settings_for(organization)
        organization.is_active = True
        organization.save(update_fields=["is_active"])
        row.suspended_at = None
        row.suspended_reason = ""
        row.save(update_fields=["suspended_at", "suspended_reason"])
        audit_record(
            action="organization.reactivated",
            request=request,
            organization=organization,
            actor=actor,
            target=organization.slug,
        )
    logger.warning("tenants.organization.reactivated", extra={"slug": organization.slug})


def organization_delete(*, organization, actor, confirmation: str, request=None) -> None:
    """Delete a suspended organization for good: its schema (all its data) is dropped.

    `confirmation` must be the organization's slug, typed by the person deleting it.
    """
    if organization.schema_name == "public":
        raise ValidationError("the public host cannot be deleted")
    if organization.is_active:
        raise ValidationError("suspend the organization first; only a suspended organization can be deleted")
    if confirmation.strip() != organization.slug:
        raise ValidationError(f"type the organization's slug, {organization.slug}, to confirm")
    slug, schema = organization.slug, organization.schema_name
    with transaction.atomic():
        # Recorded without the organization (the row goes); the slug and schema say which one.
        audit_record(
            action="organization.deleted",
            request=request,
            organization=None,
            actor=actor,
            target=slug,
            details={"schema": schema, "name": organization.name},
        )
        with schema_context("public"):
            organization.delete(force_drop=True)
    logger.warning("tenants.organization.deleted", extra={"slug": slug, "schema": schema})
