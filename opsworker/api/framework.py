"""The API's request pipeline: authentication (bearer token or session), scopes, roles, CSRF,
rate limit, JSON bodies, pagination and the one error shape `{"error": {"code", "message", "details"}}`.

Order for every request: organization host → authentication (401) → organization active (403) →
method (405) → rate limit (429) → token scope (403) → role capability (403) → session CSRF for
unsafe methods (403) → the view, whose client errors become 400/404/409/413/415 JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from tenants.api_tokens import ApiToken, Scope, api_token_lookup, api_token_touch
from tenants.roles import role_allows
from tenants.selectors import membership_get

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class ApiError(Exception):
    """A client error with its HTTP status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details if details is not None else {}
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: Any = None, headers=None) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "message": message, "details": details if details is not None else {}}},
        status=status,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=DjangoJSONEncoder, safe=isinstance(data, dict))


def not_found(message: str = "not found") -> ApiError:
    return ApiError(404, "not_found", message)


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
    from django.db import connection

    return f"{settings.REDIS_KEY_PREFIX}:api-ratelimit:{connection.settings_dict['NAME']}"


def _check_rate(caller: ApiCaller, schema_name: str) -> None:
    limit = getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)
    who = f"t{caller.token.pk}" if caller.token else f"u{caller.user.pk}"
    now = time.time()
    window = int(now // 60)
    key = f"{rate_limit_key_prefix()}:{schema_name}:{who}:{window}"
    try:
        from opsworker.redis_client import shared_redis

        pipe = shared_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = pipe.execute()
    except redis.RedisError as error:  # an unreachable Redis must not take the API down
        logger.warning("api.rate_limit_unavailable", extra={"error": str(error)})
        return
    if count > limit:
        wait = max(1, int((window + 1) * 60 - now) + 1)
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
    """Record in the audit log (`tenants.audit.audit_record`, another part of issue 9) when present.

    Runs in a savepoint: a failing audit write is logged and never breaks the request's transaction.
    """
    try:
        from tenants.audit import audit_record
    except ImportError:
        return
    caller: ApiCaller | None = getattr(request, "api_caller", None)
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


def endpoint(capabilities: Mapping[str, str]) -> Callable:
    """Declare an API view: the methods it answers and the capability each requires."""
    methods = {method.upper(): capability for method, capability in capabilities.items()}

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            try:
                return _dispatch(view, methods, request, *args, **kwargs)
            except ApiError as error:
                return error_response(error.status, error.code, error.message, error.details, error.headers)

        # Read by the role-by-URL matrix test: the least capability any method needs, and all of them.
        wrapper.required_capability = min(
            methods.values(),
            key=lambda cap: ["view", "investigate", "configure", "manage_members", "own"].index(cap),
        )
        wrapper.api_capabilities = dict(methods)
        return wrapper

    return decorator


def _dispatch(view, methods, request, *args, **kwargs):
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        raise not_found("the API is served on organization hosts")
    caller = authenticate(request)
    request.api_caller = caller
    if not tenant.is_active:
        raise ApiError(403, "organization_suspended", f"{tenant.name} is suspended")
    if request.method not in methods:
        allowed = ", ".join(sorted(methods))
        raise ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; use {allowed}",
            headers={"Allow": allowed},
        )
    _check_rate(caller, tenant.schema_name)
    unsafe = request.method not in SAFE_METHODS
    if unsafe and caller.token is not None and caller.token.scope != Scope.WRITE:
        raise ApiError(403, "insufficient_scope", "this token is read-only (scope: read)")
    capability = methods[request.method]
    if not role_allows(caller.role, capability):
        raise ApiError(
            403, "forbidden", f"the {caller.role} role does not allow this", {"required": capability}
        )
    if unsafe and caller.token is None:
        _check_csrf(request)
    if caller.token is not None and api_token_touch(caller.token):
        audit(request, "api_token.used", target=caller.token.prefix, details={"name": caller.token.name})
    try:
        return view(request, *args, **kwargs)
    except Http404 as error:
        raise not_found(str(error) or "not found") from None
    except PermissionDenied as error:
        raise ApiError(403, "forbidden", str(error) or "forbidden") from None
    except ValidationError as error:
        raise ApiError(400, "invalid", "; ".join(error.messages), {"errors": error.messages}) from None
    except RequestDataTooBig:
        raise ApiError(413, "too_large", "the request body is too large") from None


# --- request bodies -------------------------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_text(value: Any, where: str) -> None:
    """PostgreSQL refuses NUL characters and lone surrogates; say so as a 400, never a 500."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, "invalid", f"{where}: NUL characters are not allowed", {"field": where})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "invalid", f"{where}: not valid Unicode text", {"field": where}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{where}[{index}]")


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object (415 for other content types, 400 for anything else wrong)."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json", {"content_type": content_type}
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "too_large", "the request body is too large") from None
    try:
        data = json.loads(raw.decode("utf-8") or "null", parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}"[:300]) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    _check_text(data, "")
    return data


class Fields:
    """Typed reads of a JSON object that name the offending field (400 with details)."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.errors: dict[str, str] = {}

    def _bad(self, name: str, message: str):
        self.errors[name] = message

    def string(self, name: str, *, required: bool = False, max_length: int = 253, default: str = ""):
        if name not in self.data:
            if required:
                self._bad(name, "this field is required")
            return default
        value = self.data[name]
        if not isinstance(value, str):
            self._bad(name, "must be a string")
            return default
        if len(value) > max_length:
            self._bad(name, f"at most {max_length} characters")
            return default
        if required and not value.strip():
            self._bad(name, "must not be empty")
        return value

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None, nullable=False):
        value = self.data.get(name)
        if value is None:
            if name in self.data and not nullable:
                self._bad(name, "must be an integer")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
            self.data[name] = value
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad(name, "must be an integer")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self._bad(name, f"must be between {minimum} and {maximum}")
            return None
        return value

    def boolean(self, name: str):
        value = self.data.get(name)
        if name in self.data and not isinstance(value, bool):
            self._bad(name, "must be true or false")
            return None
        return value

    def choice(self, name: str, choices, *, required: bool = False):
        value = self.string(name, required=required, max_length=100)
        if value and value not in choices:
            self._bad(name, f"must be one of {', '.join(choices)}")
        return value

    def array_of_objects(self, name: str, *, max_items: int = 50):
        value = self.data.get(name)
        if name not in self.data:
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self._bad(name, "must be a list of objects")
            return None
        if len(value) > max_items:
            self._bad(name, f"at most {max_items} items")
            return None
        return value

    def unknown(self, allowed) -> None:
        for name in self.data:
            if name not in allowed:
                self._bad(name, "unknown field")

    def raise_if_invalid(self) -> None:
        if self.errors:
            summary = "; ".join(f"{name}: {message}" for name, message in sorted(self.errors.items()))
            raise ApiError(400, "invalid", summary, {"fields": self.errors})


# --- query strings and pagination -------------------------------------------------------------------


def query_string(request: HttpRequest, name: str, *, max_length: int = 253) -> str:
    value = request.GET.get(name, "")
    if "\x00" in value:
        raise ApiError(400, "invalid", f"{name}: NUL characters are not allowed", {"parameter": name})
    if len(value) > max_length:
        raise ApiError(400, "invalid", f"{name}: at most {max_length} characters", {"parameter": name})
    return value


def query_choice(request: HttpRequest, name: str, choices) -> str:
    value = query_string(request, name, max_length=100)
    if (value or name in request.GET) and value not in choices:
        raise ApiError(400, "invalid", f"{name}: must be one of {', '.join(choices)}", {"parameter": name})
    return value


def query_datetime(request: HttpRequest, name: str) -> datetime | None:
    value = query_string(request, name, max_length=64)
    if name not in request.GET:
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "+"))  # a bare "+" in a query string is a space
    except ValueError:
        parsed = None
    if parsed is None:
        raise ApiError(
            400,
            "invalid",
            f"{name}: use an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z",
            {"parameter": name},
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        # PostgreSQL takes offsets up to ±15:59 only; Python up to ±23:59 (found by schemathesis).
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(
            400, "invalid", f"{name}: the date-time is out of range", {"parameter": name}
        ) from None


def _positive_int(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    if name not in request.GET:
        return default
    raw = request.GET[name]
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiError(400, "invalid", f"{name}: a whole number from 1 to {maximum}", {"parameter": name})
    return int(raw)


def paginate(request: HttpRequest, queryset, serialize: Callable[[Any], dict]) -> dict[str, Any]:
    """Page-number pagination: `?page=N&limit=M` (limit 1..200, default 50) with `next`/`previous` links."""
    limit = _positive_int(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    page = _positive_int(request, "page", 1, 1_000_000)
    count = len(queryset) if isinstance(queryset, list) else queryset.count()
    offset = (page - 1) * limit
    rows = list(queryset[offset : offset + limit]) if offset < count else []

    def link(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        query["limit"] = str(limit)
        return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(query.items()))

    return {
        "count": count,
        "page": page,
        "limit": limit,
        "next": link(page + 1) if offset + limit < count else None,
        "previous": link(min(page - 1, max(1, -(-count // limit)))) if page > 1 else None,
        "results": [serialize(row) for row in rows],
    }


def path_id(value) -> int:
    """Path ids are `<int:...>` already; refuse ones PostgreSQL cannot hold as 404, not 500."""
    number = int(value)
    if number > 2**63 - 1:
        raise not_found()
    return number
