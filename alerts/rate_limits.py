"""Webhook rate limits in Redis, fixed one-minute windows: per integration, and per client address
for requests whose token matches no integration (someone guessing URLs)."""

from __future__ import annotations

from django.conf import settings

from opsworker.redis_client import fixed_window_wait

_UNAVAILABLE = "alerts.webhook.rate_limit_unavailable"


def check_rate(schema_name: str, integration_id: int, limit: int | None = None) -> int | None:
    """None when the request may proceed, else the seconds to wait (for Retry-After).

    When Redis cannot be reached the request proceeds: losing an alert is worse than a burst.
    """
    return fixed_window_wait(
        f"opsworker:ratelimit:{schema_name}:{integration_id}",
        limit or settings.WEBHOOK_RATE_LIMIT_PER_MINUTE,
        unavailable_event=_UNAVAILABLE,
    )


def check_unknown_token_rate(client_address: str | None) -> int | None:
    """Count one unknown-token request from `client_address`; None while under the limit, else
    the seconds to wait (for Retry-After).

    Only unknown tokens are counted, so a sender with a valid URL behind the same address is
    never slowed. The address is the one Django sees (REMOTE_ADDR), made trustworthy behind
    proxies by the proxy settings, never read from forwarded headers here. When Redis cannot be
    reached the request proceeds (to its 404).
    """
    return fixed_window_wait(
        f"opsworker:unknown-token:{client_address or 'unknown'}",
        settings.WEBHOOK_UNKNOWN_TOKEN_LIMIT_PER_MINUTE,
        unavailable_event=_UNAVAILABLE,
    )
