"""Per-integration request rate limit (fixed one-minute windows in Redis)."""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

from opsworker.redis_client import shared_redis

logger = logging.getLogger(__name__)


def check_rate(schema_name: str, integration_id: int, limit: int | None = None) -> int | None:
    """None when the request may proceed, else the seconds to wait (for Retry-After).

    When Redis cannot be reached the request proceeds: losing an alert is worse than a burst.
    """
    limit = limit or settings.WEBHOOK_RATE_LIMIT_PER_MINUTE
    now = time.time()
    window = int(now // 60)
    key = f"opsworker:ratelimit:{schema_name}:{integration_id}:{window}"
    try:
        pipe = shared_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = pipe.execute()
    except redis.RedisError as error:
        logger.warning("alerts.webhook.rate_limit_unavailable", extra={"error": str(error)})
        return None
    if count > limit:
        return max(1, int((window + 1) * 60 - now) + 1)
    return None
