"""One Redis client per process for hot paths (rate limits, announcements).

`django_rq.get_connection()` builds a new client and connection pool on every call; on the webhook
path that cost more than the database work. redis-py clients are thread-safe and reset their pool
after a fork, so one cached client serves every request thread and forked worker.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def shared_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
