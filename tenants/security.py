"""Sign-in lockout (per email and address, in Redis) and ending sessions of one organization.

Lockout: each failed sign-in is a timestamp in a Redis sorted set keyed by (email, IP); with
OPSWORKER_SIGNIN_MAX_FAILURES inside OPSWORKER_SIGNIN_LOCKOUT_SECONDS the pair is locked until
the oldest failure leaves the window. A correct password does not unlock early. Redis down: the
check fails open (sign-in keeps working; logged), because locking everyone out is worse.

Sessions: cookies are host-only, so a session belongs to the host it was signed in on. On a real
sign-in the audit receiver tags the session with that host's schema (`session_tag`); removing a
member ends their sessions tagged with that organization, and untagged ones (made before the tag
existed, or programmatically), while sessions of their other organizations live on.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid

import redis
from django import forms
from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone

from opsworker.redis_client import shared_redis
from tenants.audit import audit_record, client_ip
from tenants.forms import EmailAuthenticationForm

logger = logging.getLogger(__name__)

SESSION_SCHEMA_KEY = "opsworker_schema"


def _max_failures() -> int:
    return getattr(settings, "SIGNIN_MAX_FAILURES", 5)


def _window() -> int:
    return getattr(settings, "SIGNIN_LOCKOUT_SECONDS", 15 * 60)


def _now() -> float:
    return time.time()


def _key(email: str, ip: str | None) -> str:
    digest = hashlib.sha256(f"{email.strip().lower()}|{ip or '-'}".encode()).hexdigest()[:32]
    return f"{settings.REDIS_KEY_PREFIX}:signin-failures:{digest}"


def signin_failure_record(email: str, ip: str | None) -> int:
    """Count one failed sign-in; returns failures inside the window (0 when Redis is down)."""
    now, window, key = _now(), _window(), _key(email, ip)
    try:
        pipe = shared_redis().pipeline()
        pipe.zadd(key, {f"{now}:{uuid.uuid4().hex[:8]}": now})
        pipe.zremrangebyscore(key, 0, now - window)
        pipe.zcard(key)
        pipe.expire(key, window)
        return int(pipe.execute()[2])
    except redis.RedisError:
        logger.warning("tenants.signin.lockout_unavailable", exc_info=True)
        return 0


def signin_locked_for(email: str, ip: str | None) -> int:
    """Seconds until this email may try again from this address; 0 when not locked."""
    now, window, key = _now(), _window(), _key(email, ip)
    try:
        pipe = shared_redis().pipeline()
        pipe.zremrangebyscore(key, 0, now - window)
        pipe.zrange(key, 0, -1, withscores=True)
        failures = pipe.execute()[1]
    except redis.RedisError:
        logger.warning("tenants.signin.lockout_unavailable", exc_info=True)
        return 0
    limit = _max_failures()
    if len(failures) < limit:
        return 0
    # Unlocked when enough failures leave the window that fewer than `limit` remain.
    unlock_at = failures[len(failures) - limit][1] + window
    return max(1, math.ceil(unlock_at - now))


def signin_failures_clear(email: str, ip: str | None) -> None:
    try:
        shared_redis().delete(_key(email, ip))
    except redis.RedisError:
        logger.warning("tenants.signin.lockout_unavailable", exc_info=True)


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        f"Too many failed sign-ins for this email from your network. Sign-in is locked for "
        f"{minutes} more minute{'s' if minutes != 1 else ''}; try again later, or ask an owner or admin "
        f"of your organization to help if you forgot your password."
    )


class LockoutAuthenticationForm(EmailAuthenticationForm):
    """The sign-in form with rate limiting: locked pairs are refused before the password is checked."""

    def clean(self):
        email = (self.data.get("username") or "").strip().lower()
        ip = client_ip(self.request)
        if email:
            locked = signin_locked_for(email, ip)
            if locked:
                audit_record(
                    action="auth.sign_in_locked", request=self.request, actor_email=email, target=email
                )
                raise forms.ValidationError(lockout_message(locked), code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if email and signin_failure_record(email, ip) >= _max_failures():
                logger.warning("tenants.signin.locked", extra={"ip": ip})
                raise forms.ValidationError(lockout_message(_window()), code="locked") from None
            raise
        if email:
            signin_failures_clear(email, ip)
        return cleaned


# --- sessions ---------------------------------------------------------------------------------


def session_tag(request: HttpRequest) -> None:
    """Remember which host (schema) this session was signed in on."""
    tenant = getattr(request, "tenant", None)
    if tenant is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = tenant.schema_name


def sessions_end_for_organization(*, user, organization) -> int:
    """End `user`'s sessions on `organization`'s host (and untagged ones); returns how many."""
    ended = []
    live = Session.objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator(chunk_size=500):
        data = session.get_decoded()
        if str(data.get("_auth_user_id")) != str(user.pk):
            continue
        if data.get(SESSION_SCHEMA_KEY) in (None, organization.schema_name):
            ended.append(session.session_key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    logger.info(
        "tenants.sessions.ended",
        extra={"user": user.pk, "schema": organization.schema_name, "count": len(ended)},
    )
    return len(ended)
