"""Per-organization quotas (investigations per day, clusters, members) and usage figures.

    quota_check(organization, "clusters")   # raises QuotaExceeded(message) when the next one is over

Limits live on `OrganizationSettings` (empty = unlimited) and are set by the platform admin.
Usage of tenant data is counted inside the organization's schema by the app that owns the data:
the feature apps register their counters here (`usage_counter_register`, from their AppConfig.ready),
so this foundation module never imports the features it limits.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Invitation, Membership, Organization, OrganizationSettings

MEMBERS = "members"
CLUSTERS = "clusters"
INVESTIGATIONS_PER_DAY = "investigations_per_day"

_LIMIT_FIELD = {
    MEMBERS: "max_members",
    CLUSTERS: "max_clusters",
    INVESTIGATIONS_PER_DAY: "max_investigations_per_day",
}


# what -> counter(organization, day_start) -> int, run inside the organization's schema.
UsageCounter = Callable[[Organization, datetime], int]
_QUOTA_COUNTERS: dict[str, UsageCounter] = {}
# figure -> counter(organization, since) -> number, run inside the organization's schema; shown on the
# platform's organizations list ("signals", "investigations", "clusters", "model_cost").
_USAGE_FIGURES: dict[str, Callable[[Organization, datetime], int | Decimal]] = {}


def usage_counter_register(what: str, counter: UsageCounter) -> None:
    """Count `what` (CLUSTERS, INVESTIGATIONS_PER_DAY) for quotas; the owning app registers it at startup."""
    _QUOTA_COUNTERS[what] = counter


def usage_figure_register(figure: str, counter: Callable[[Organization, datetime], int | Decimal]) -> None:
    """Add a figure to `usage_for`; `counter(organization, since)` runs inside the organization's schema."""
    _USAGE_FIGURES[figure] = counter


class QuotaExceeded(ValidationError):
    """The organization reached a quota; `message` says which and what to do.

    A ValidationError, so views that already show a service's ValidationError show this one too.
    """

    def __init__(self, what: str, limit: int, used: int, message: str) -> None:
        super().__init__(message, code="quota_exceeded")
        self.what, self.limit, self.used = what, limit, used


def quota_limit(organization, what: str) -> int | None:
    field = _LIMIT_FIELD[what]
    row = OrganizationSettings.objects.filter(organization=organization).values(field).first()
    return row[field] if row else None


def _day_start(organization) -> datetime:
    """Midnight today in the organization's time zone: "per day" is the organization's day."""
    name = (
        OrganizationSettings.objects.filter(organization=organization)
        .values_list("time_zone", flat=True)
        .first()
    )
    try:
        zone = zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    now = timezone.now().astimezone(zone)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def quota_usage(organization, what: str) -> int:
    """How much of `what` the organization uses now (pending invitations count as members)."""
    if what == MEMBERS:
        return (
            Membership.objects.filter(organization=organization).count()
            + Invitation.objects.pending().filter(organization=organization).count()
        )
    if what not in _LIMIT_FIELD:
        raise ValueError(f"unknown quota {what!r}")
    counter = _QUOTA_COUNTERS.get(what)
    if counter is None:
        raise LookupError(f"no counter registered for quota {what!r} (the owning app's ready() registers it)")
    day_start = _day_start(organization)
    with schema_context(organization.schema_name):
        return counter(organization, day_start)


_MESSAGES = {
    MEMBERS: (
        "This organization has reached its limit of {limit} members (pending invitations count). "
        "Remove a member or revoke an invitation, or ask the installation's operator to raise the limit."
    ),
    CLUSTERS: (
        "This organization has reached its limit of {limit} clusters. Remove a cluster you no longer use, "
        "or ask the installation's operator to raise the limit."
    ),
    INVESTIGATIONS_PER_DAY: (
        "This organization has reached its limit of {limit} investigations today; the count starts again "
        "at midnight ({zone}). Ask the installation's operator to raise the limit."
    ),
}


def quota_check(organization, what: str, *, adding: int = 1) -> None:
    """Raise QuotaExceeded when adding `adding` more of `what` would go over the limit."""
    limit = quota_limit(organization, what)
    if limit is None:
        return
    used = quota_usage(organization, what)
    if used + adding > limit:
        zone = _day_start(organization).tzname() if what == INVESTIGATIONS_PER_DAY else ""
        raise QuotaExceeded(what, limit, used, _MESSAGES[what].format(limit=limit, zone=zone))


def quotas_for(organization) -> list[dict]:
    """Every quota with its limit and current use, for the settings and platform pages."""
    labels = {MEMBERS: "Members", CLUSTERS: "Clusters", INVESTIGATIONS_PER_DAY: "Investigations per day"}
    return [
        {
            "what": what,
            "label": label,
            "limit": quota_limit(organization, what),
            "used": quota_usage(organization, what),
        }
        for what, label in labels.items()
    ]


def usage_for(organization, *, cost_days: int = 30) -> dict:
    """Counts for the platform's organizations list (exact counts; the list is paginated).

    `since` (the last `cost_days` days) bounds the figures that are a period's total (model cost).
    """
    since = timezone.now() - timedelta(days=cost_days)
    with schema_context(organization.schema_name):
        usage = {figure: counter(organization, since) for figure, counter in _USAGE_FIGURES.items()}
    usage["members"] = Membership.objects.filter(organization=organization).count()
    return usage


def quota_remaining(organization, what: str) -> int | None:
    """How many more of `what` fit under the limit now (None: unlimited). For batch paths like ingest."""
    limit = quota_limit(organization, what)
    if limit is None:
        return None
    return max(0, limit - quota_usage(organization, what))


def organization_here():
    """The organization whose schema the connection is in (services that run inside a schema)."""
    # Organization rows live in public, which is on every tenant's search_path.
    return Organization.objects.filter(schema_name=connection.schema_name).first()


def quota_check_here(what: str, *, adding: int = 1) -> None:
    """`quota_check` for the organization of the current schema (no-op on public)."""
    organization = organization_here()
    if organization is not None and organization.schema_name != "public":
        quota_check(organization, what, adding=adding)
