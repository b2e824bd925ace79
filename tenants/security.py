"""Sign-in throttling (per account and per address, in Redis) and ending sessions of one organization.

Throttling: failed sign-ins are counted twice, per account (the email, whether or not it exists)
and per client address (`REMOTE_ADDR`, which `opsworker.client_address` sets from
X-Forwarded-For only when the peer is a trusted proxy). Each counter allows some failures for free
(OPSWORKER_SIGNIN_MAX_FAILURES per account, OPSWORKER_SIGNIN_ADDRESS_MAX_FAILURES per address,
higher because many people share an office NAT); past that, the next attempt must wait
2 s, 4 s, 8 s … up to OPSWORKER_SIGNIN_LOCKOUT_SECONDS after the last failure. An attempt made
too early is answered 429 "try again in N s" without checking the password, and is not counted,
so a delay never becomes a permanent lock: the right password works once the delay has passed.
Guessing one account from many addresses is slowed by the account counter; spraying many
accounts from one address by the address counter; a colleague behind the same NAT is slowed
only when the address itself passes its larger allowance. A successful sign-in clears the
account's counter (not the address's: one valid account must not reset a spraying address).
Counters expire after the longest delay without failures. Redis down: the check fails open
(sign-in keeps working; logged), because locking everyone out is worse.

Sessions: cookies are host-only, so a session belongs to the host it was signed in on. On a real
sign-in a receiver below tags the session with that host's schema (`session_tag`); removing a
member ends their sessions tagged with that organization, and untagged ones (made before the tag
existed, or programmatically), while sessions of their other organizations live on.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

import redis
from django import forms
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from opsworker.redis_client import shared_redis
from tenants.audit import audit_record, client_ip
from tenants.forms import EmailAuthenticationForm

logger = logging.getLogger(__name__)

SESSION_SCHEMA_KEY = "opsworker_schema"
FIRST_DELAY_SECONDS = 2
THROTTLED = "throttled"


def _free_failures(scope: str) -> int:
    if scope == "address":
        return getattr(settings, "SIGNIN_ADDRESS_MAX_FAILURES", 10)
    return getattr(settings, "SIGNIN_MAX_FAILURES", 5)


def _max_delay() -> int:
    return getattr(settings, "SIGNIN_LOCKOUT_SECONDS", 15 * 60)


def _now() -> float:
    return time.time()


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(f"{scope}|{value.strip().lower()}".encode()).hexdigest()[:32]
    return f"{settings.REDIS_KEY_PREFIX}:signin-throttle:{scope}:{digest}"


def _keys(email: str, ip: str | None) -> list[tuple[str, str]]:
    keys = [("address", _key("address", ip))] if ip else []
    if email:
        keys.append(("account", _key("account", email)))
    return keys


def _delay(scope: str, failures: int) -> float:
    """Seconds the next attempt must wait after the last failure, for this many failures."""
    over = failures - _free_failures(scope)
    if over < 0:
        return 0.0
    return float(min(_max_delay(), FIRST_DELAY_SECONDS * 2 ** min(over, 30)))


def _wait_from(states: list[tuple[str, dict]]) -> int:
    now, wait = _now(), 0.0
    for scope, state in states:
        failures, last = int(state.get(b"failures") or 0), float(state.get(b"last") or 0)
        wait = max(wait, last + _delay(scope, failures) - now)
    return math.ceil(wait) if wait > 0 else 0


def signin_wait(email: str, ip: str | None) -> int:
    """Whole seconds before this email may try again from this address; 0 when it may now."""
    keys = _keys(email, ip)
    try:
        pipe = shared_redis().pipeline()
        for _scope, key in keys:
            pipe.hgetall(key)
        states = pipe.execute()
    except redis.RedisError:
        logger.warning("tenants.signin.throttle_unavailable", exc_info=True)
        return 0
    return _wait_from([(scope, state) for (scope, _key_), state in zip(keys, states, strict=True)])


def signin_failure_record(email: str, ip: str | None) -> int:
    """Count one failed sign-in for the account and the address; returns the wait it now causes."""
    keys, now = _keys(email, ip), _now()
    try:
        pipe = shared_redis().pipeline()
        for _scope, key in keys:
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", repr(now))
            pipe.expire(key, _max_delay() + 60)
        counts = pipe.execute()[0::3]
    except redis.RedisError:
        logger.warning("tenants.signin.throttle_unavailable", exc_info=True)
        return 0
    states = [
        (scope, {b"failures": count, b"last": now})
        for (scope, _key_), count in zip(keys, counts, strict=True)
    ]
    return _wait_from(states)


def signin_failures_clear(email: str) -> None:
    """Forget an account's failures (after a successful sign-in)."""
    _delete(_key("account", email))


def signin_address_clear(ip: str) -> None:
    """Forget an address's failures (tests, and an operator unblocking an office)."""
    _delete(_key("address", ip))


def _delete(key: str) -> None:
    try:
        shared_redis().delete(key)
    except redis.RedisError:
        logger.warning("tenants.signin.throttle_unavailable", exc_info=True)


def throttle_message(seconds: int) -> str:
    when = f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return (
        f"Too many failed sign-ins for this account or from your network. Try again in {when}. "
        f"If you forgot your password, ask an owner or admin of your organization."
    )


class ThrottledAuthenticationForm(EmailAuthenticationForm):
    """Sign-in with throttling: an attempt inside its delay is refused before the password is checked."""

    retry_after: int = 0

    def clean(self):
        email = (self.data.get("username") or "").strip().lower()
        ip = client_ip(self.request)
        wait = signin_wait(email, ip)
        if wait:
            self.retry_after = wait
            audit_record(
                action="auth.sign_in_throttled", request=self.request, actor_email=email, target=email
            )
            raise forms.ValidationError(throttle_message(wait), code=THROTTLED)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            wait = signin_failure_record(email, ip)
            if wait:
                logger.warning("tenants.signin.throttled", extra={"ip": ip, "wait_seconds": wait})
            raise
        if email:
            signin_failures_clear(email)
        return cleaned

    @property
    def throttled(self) -> bool:
        return any(error.code == THROTTLED for error in self.errors.as_data().get("__all__", []))


# --- sessions ---------------------------------------------------------------------------------


def session_tag(request: HttpRequest) -> None:
    """Remember which host (schema) this session was signed in on."""
    tenant = getattr(request, "tenant", None)
    if tenant is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = tenant.schema_name


@receiver(user_logged_in, dispatch_uid="tenants.security.session_tag")
def _signed_in(sender, request, user, **kwargs) -> None:
    if request is None or getattr(request, "tenant", None) is None:
        return  # test clients' force_login and other programmatic logins: not a person signing in
    session_tag(request)


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
