"""Who is calling the API and may they: the django-ninja auth callable `ApiAuth`.

Order for every operation: authentication (401) → organization active (403) → rate limit (429) →
token scope (403) → role capability (403) → session CSRF for unsafe methods (403). Method (405) and
unknown paths (404) come after authentication too (`opsworker/api/routing.py`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security.base import AuthBase

from opsworker.api.errors import ApiError, not_found
from opsworker.redis_client import fixed_window_wait
from tenants.api_tokens import ApiToken, Scope, api_token_lookup, api_token_touch
from tenants.audit import audit_record
from tenants.roles import role_allows
from tenants.selectors import membership_get

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclasses.dataclass
class ApiCaller:
    """Who is calling: the role the request acts with, and through which credential."""

    role: str
    user: Any = None  # tenants.User or None (organization token)
    token: ApiToken | None = None

    @property
    def via_token(self) -> bool:
        return self.token is not None

    @property
    def actor(self) -> str:
        """For `requested_by`/`author` fields (email columns): the user, or the token's creator."""
        if self.user is not None:
            return self.user.email
        return self.token.created_by if self.token else ""

    @property
    def label(self) -> str:
        if self.token is None:
            return self.actor
        return f"{self.actor} via token {self.token.prefix}… ({self.token.name})"


def _unauthenticated(message: str, code: str = "authentication_required") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def authenticate(request: HttpRequest) -> ApiCaller:
    """Bearer token of THIS organization, else the browser session's membership; raises ApiError."""
    tenant = request.tenant
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            raise _unauthenticated("use 'Authorization: Bearer <token>'", "invalid_authorization_header")
        token = api_token_lookup(secret.strip())
        # Another organization's token is indistinguishable from an unknown one.
        if token is None or token.organization_id != tenant.pk:
            raise _unauthenticated("unknown token", "invalid_token")
        if token.revoked_at is not None:
            raise _unauthenticated("this token was revoked", "invalid_token")
        if token.is_expired():
            raise _unauthenticated("this token has expired", "invalid_token")
        if token.user_id is not None:
            membership = (
                membership_get(user=token.user, organization=tenant) if token.user.is_active else None
            )
            if membership is None:
                raise _unauthenticated("the token's owner is no longer a member", "invalid_token")
            role = membership.role
        else:
            role = token.role
        return ApiCaller(role=role, user=token.user, token=token)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise _unauthenticated("send 'Authorization: Bearer <token>' or sign in")
    membership = membership_get(user=user, organization=tenant)
    if membership is None:
        raise ApiError(403, "not_a_member", f"you are not a member of {tenant.name}")
    request.membership = membership
    return ApiCaller(role=membership.role, user=user)


def rate_limit_key_prefix() -> str:
    """Per installation and database (test runs sharing one Redis must not share counters)."""
    return f"{settings.REDIS_KEY_PREFIX}:api-ratelimit:{connection.settings_dict['NAME']}"


def _check_rate(caller: ApiCaller, schema_name: str) -> None:
    limit = getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)
    who = f"t{caller.token.pk}" if caller.token else f"u{caller.user.pk}"
    wait = fixed_window_wait(
        f"{rate_limit_key_prefix()}:{schema_name}:{who}",
        limit,
        unavailable_event="api.rate_limit_unavailable",
    )
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"more than {limit} requests in a minute; retry in {wait} s",
            {"limit_per_minute": limit},
            headers={"Retry-After": str(wait)},
        )


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _check_csrf(request: HttpRequest) -> None:
    check = _CsrfCheck(lambda _request: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise ApiError(403, "csrf_failed", f"CSRF check failed: {reason}")


def audit(request: HttpRequest, action: str, target: str = "", details: Mapping | None = None) -> None:
    """Record in the audit log; in a savepoint, so a failing audit write never breaks the request."""
    caller: ApiCaller | None = getattr(request, "auth", None)
    extra = dict(details or {})
    if caller is not None and caller.token is not None:
        extra.update(via="api token", token=caller.token.prefix, token_name=caller.token.name)
    elif caller is not None:
        extra.update(via="api session")
    try:
        with transaction.atomic():
            audit_record(
                action=action,
                request=request,
                organization=getattr(request, "tenant", None),
                actor=caller.user if caller else None,
                actor_email=caller.actor if caller else "",
                target=target,
                details=extra,
            )
    except Exception:  # the audit trail must never turn a done change into an error response
        logger.exception("api.audit_failed", extra={"action": action})


class ApiAuth(AuthBase):
    """django-ninja `auth=` for one operation: who calls, and whether the role and scope allow it.

    `capability` is what the operation needs (`tenants.roles.Capability`); the permission matrix
    test reads it from the routes. `checks=False` only authenticates (the 405 and 404 answers).
    """

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = "an API token (`owk_...`) from Settings → API tokens, or the browser session"

    def __init__(self, capability: str, *, checks: bool = True):
        super().__init__()
        self.capability = capability
        self.checks = checks

    def __call__(self, request: HttpRequest) -> ApiCaller:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == "public":
            raise not_found("the API is served on organization hosts")
        caller = authenticate(request)
        request.auth = caller
        if not tenant.is_active:
            raise ApiError(403, "organization_suspended", f"{tenant.name} is suspended")
        if not self.checks:
            return caller
        _check_rate(caller, tenant.schema_name)
        unsafe = request.method not in SAFE_METHODS
        if unsafe and caller.token is not None and caller.token.scope != Scope.WRITE:
            raise ApiError(403, "insufficient_scope", "this token is read-only (scope: read)")
        if not role_allows(caller.role, self.capability):
            raise ApiError(
                403,
                "forbidden",
                f"the {caller.role} role does not allow this",
                {"required": self.capability},
            )
        if unsafe and caller.token is None:
            _check_csrf(request)
        if caller.token is not None and api_token_touch(caller.token):
            audit(request, "api_token.used", target=caller.token.prefix, details={"name": caller.token.name})
        return caller
