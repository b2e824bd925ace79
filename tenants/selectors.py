"""Reads of organizations and memberships, always scoped to who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Domain, Membership, Organization, User


def organization_for_host(host: str) -> Organization | None:
    """The organization a host name routes to (public host and unknown hosts give None)."""
    domain = Domain.objects.select_related("tenant").filter(domain=host.lower()).first()
    if domain is None or domain.tenant.schema_name == "public":
        return None
    return domain.tenant


def membership_get(*, user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization").filter(user=user, organization=organization).first()
    )


def memberships_for_user(user: User) -> QuerySet[Membership]:
    """The organizations a user may enter, active ones first, with their primary domains."""
    return (
        Membership.objects.filter(user=user)
        .exclude(organization__schema_name="public")
        .select_related("organization")
        .prefetch_related("organization__domains")
        .order_by("-organization__is_active", "organization__name")
    )


def members_of(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("user__email")
