"""One Redis client per process for hot paths (rate limits, announcements).

`django_rq.get_connection()` builds a new client and connection pool on every call; on the webhook
path that cost more than the database work. redis-py clients are thread-safe and reset their pool
after a fork, so one cached client serves every request thread and forked worker.
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


@functools.cache
def shared_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def fixed_window_wait(key_prefix: str, limit: int, *, unavailable_event: str) -> int | None:
    """Count one request in this minute's window of `key_prefix`: None while at most `limit`, else
    the seconds to the next window (for Retry-After). Redis unreachable: None (let it through,
    logging `unavailable_event`): a rate limit must never take the service down."""
    now = time.time()
    window = int(now // 60)
    key = f"{key_prefix}:{window}"
    try:
        pipe = shared_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = pipe.execute()
    except redis.RedisError as error:
        logger.warning(unavailable_event, extra={"error": str(error), "key": key_prefix})
        return None
    if count > limit:
        return max(1, int((window + 1) * 60 - now) + 1)
    return None
