"""Webhook rate limits in Redis, fixed one-minute windows: per integration, and per client address
for requests whose token matches no integration (someone guessing URLs)."""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

from opsworker.redis_client import shared_redis

logger = logging.getLogger(__name__)


def _fixed_window(key_prefix: str, limit: int) -> int | None:
    """Count one request in this minute's window of `key_prefix`; None while at most `limit`, else
    the seconds to the next window (for Retry-After). Redis unreachable: None (let it through)."""
    now = time.time()
    window = int(now // 60)
    key = f"{key_prefix}:{window}"
    try:
        pipe = shared_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = pipe.execute()
    except redis.RedisError as error:
        logger.warning(
            "alerts.webhook.rate_limit_unavailable", extra={"error": str(error), "key": key_prefix}
        )
        return None
    if count > limit:
        return max(1, int((window + 1) * 60 - now) + 1)
    return None


def check_rate(schema_name: str, integration_id: int, limit: int | None = None) -> int | None:
    """None when the request may proceed, else the seconds to wait (for Retry-After).

    When Redis cannot be reached the request proceeds: losing an alert is worse than a burst.
    """
    return _fixed_window(
        f"opsworker:ratelimit:{schema_name}:{integration_id}", limit or settings.WEBHOOK_RATE_LIMIT_PER_MINUTE
    )


def check_unknown_token_rate(client_address: str | None) -> int | None:
    """Count one unknown-token request from `client_address`; None while under the limit, else
    the seconds to wait (for Retry-After).

    Only unknown tokens are counted, so a sender with a valid URL behind the same address is
    never slowed. The address is the one Django sees (REMOTE_ADDR), made trustworthy behind
    proxies by the proxy settings, never read from forwarded headers here. When Redis cannot be
    reached the request proceeds (to its 404).
    """
    return _fixed_window(
        f"opsworker:unknown-token:{client_address or 'unknown'}",
        settings.WEBHOOK_UNKNOWN_TOKEN_LIMIT_PER_MINUTE,
    )
