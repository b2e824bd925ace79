"""A heartbeat the scheduler enqueues every minute, so operators can see it runs."""

from __future__ import annotations

import time

import django_rq

KEY = "opsworker:scheduler:last_beat"


def beat() -> float:
    """Store the time of this beat in Redis and return it."""
    now = time.time()
    django_rq.get_connection("default").set(KEY, now, ex=3600)
    return now


def last_beat() -> float | None:
    value = django_rq.get_connection("default").get(KEY)
    return float(value) if value else None
