"""API tokens (public schema): scripts call `/api/v1/` with `Authorization: Bearer owk_…`.

A token belongs to one organization. A personal token (`user` set) acts with that user's *current*
role in the organization (removed from it: the token stops working); an organization token (`user`
empty) acts with the fixed `role` chosen at creation. `scope` read allows safe methods only. The
token is shown once; only its SHA-256 (`tenants.secret_box.digest`) and a short prefix are stored.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.utils import timezone

from tenants.models import ApiToken, Scope
from tenants.roles import Role
from tenants.secret_box import digest

TOKEN_PREFIX = "owk_"  # noqa: S105 (a marker, not a secret)
PREFIX_SHOWN = 12  # "owk_" + 8 characters: enough to recognise a token in a list
LAST_USED_RESOLUTION_SECONDS = 60
ORG_TOKEN_ROLES = (Role.ADMIN, Role.MEMBER, Role.VIEWER)  # an organization token is never an owner


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def api_token_create(
    *,
    organization,
    name: str,
    scope: str,
    created_by: str,
    user=None,
    role: str = "",
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns (row, secret). The secret is never stored and cannot be shown again."""
    if scope not in Scope.values:
        raise ValueError(f"scope must be one of {', '.join(Scope.values)}")
    if user is None and role not in ORG_TOKEN_ROLES:
        raise ValueError("an organization token needs a role: admin, member or viewer")
    secret = _new_secret()
    token = ApiToken.objects.create(
        organization=organization,
        user=user,
        role="" if user is not None else role,
        scope=scope,
        name=name.strip()[:100] or "token",
        prefix=secret[:PREFIX_SHOWN],
        token_hash=digest(secret),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, secret


def api_token_revoke(*, token: ApiToken, revoked_by: str) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by = timezone.now(), revoked_by
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def api_token_lookup(secret: str) -> ApiToken | None:
    """The token row for a presented secret (any organization, any state), or None."""
    if not secret or len(secret) > 200 or not secret.startswith(TOKEN_PREFIX):
        return None
    return ApiToken.objects.select_related("organization", "user").filter(token_hash=digest(secret)).first()


def api_token_touch(token: ApiToken) -> bool:
    """Record use (at most once a minute per token). True when the row was written."""
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < LAST_USED_RESOLUTION_SECONDS:
        return False
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    return True
