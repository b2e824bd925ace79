"""Writes of organizations, domains, users and memberships."""

from __future__ import annotations

import dataclasses
import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.models import Domain, Membership, Organization, User, slug_validator
from tenants.roles import Role

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class OrganizationSetup:
    organization: Organization
    domain: Domain
    owner: User
    created: bool  # False when everything already existed
    changes: tuple[str, ...]  # what this call changed, for the command's output


def public_tenant_ensure(*, domain: str) -> Organization:
    """The public schema's own tenant row and domain, which django-tenants routes the public host to."""
    public, _ = Organization.objects.get_or_create(
        schema_name="public", defaults={"name": "Public", "slug": "public-host"}
    )
    Domain.objects.get_or_create(domain=domain, defaults={"tenant": public, "is_primary": True})
    return public


def organization_setup(
    *, name: str, slug: str, domain: str, owner_email: str, owner_password: str | None = None
) -> OrganizationSetup:
    """Create an organization with its schema, domain and owner membership — or confirm they exist.

    Idempotent: a second call with the same arguments changes nothing. An existing owner's password
    is only changed when one is given and differs.
    """
    slug_validator(slug)
    domain = domain.strip().lower()
    owner_email = owner_email.strip().lower()
    if not name.strip():
        raise ValidationError("name must not be empty")
    if slug == "public" or slug.startswith("pg_"):
        raise ValidationError(f"slug {slug!r} is reserved")
    existing_domain = Domain.objects.select_related("tenant").filter(domain=domain).first()
    if existing_domain and existing_domain.tenant.slug != slug:
        raise ValidationError(
            f"domain {domain} already belongs to organization {existing_domain.tenant.slug}"
        )

    changes: list[str] = []
    organization = Organization.objects.filter(slug=slug).first()
    created = organization is None
    if organization is None:
        # CREATE SCHEMA and its migrations run here; they cannot share a transaction with the
        # rows below on every backend path of django-tenants, so this step commits on its own.
        organization = Organization(name=name.strip(), slug=slug, schema_name=_schema_name(slug))
        organization.save(verbosity=0)
        changes.append(f"created organization {slug} (schema {organization.schema_name})")
        logger.info("tenants.organization.created", extra={"slug": slug, "schema": organization.schema_name})

    with transaction.atomic():
        domain_row = Domain.objects.filter(domain=domain).first()
        if domain_row is None:
            is_primary = not organization.domains.filter(is_primary=True).exists()
            domain_row = Domain.objects.create(domain=domain, tenant=organization, is_primary=is_primary)
            changes.append(f"added domain {domain}")

        owner = User.objects.filter(email=owner_email).first()
        if owner is None:
            owner = User.objects.create_user(owner_email, owner_password)
            changes.append(f"created user {owner_email}")
        elif owner_password and not owner.check_password(owner_password):
            owner.set_password(owner_password)
            owner.save(update_fields=["password"])
            changes.append(f"set password of {owner_email}")

        membership, made = Membership.objects.get_or_create(
            user=owner, organization=organization, defaults={"role": Role.OWNER}
        )
        if made:
            changes.append(f"made {owner_email} owner")
        elif membership.role != Role.OWNER:
            membership.role = Role.OWNER
            membership.save(update_fields=["role"])
            changes.append(f"promoted {owner_email} to owner")

    return OrganizationSetup(organization, domain_row, owner, created, tuple(changes))


def membership_grant(*, user: User, organization: Organization, role: str) -> Membership:
    """Give `user` `role` in `organization` (changing the role if they are already a member)."""
    membership, made = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not made and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def _schema_name(slug: str) -> str:
    # PostgreSQL identifiers: dashes are not allowed unquoted; prefix keeps org schemas apart
    # from extension and system schemas.
    return "org_" + slug.replace("-", "_")
