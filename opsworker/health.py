"""/healthz (process alive), /readyz (database and Redis reachable) and /metrics, on any Host.

Answered before tenant routing: probes and Prometheus scrapers address pods by IP, and a health
check must not depend on the tenant tables it is checking.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse

from opsworker.metrics import render_metrics

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
    return None


def check_redis() -> str | None:
    """None when Redis answers PING, else why not."""
    timeout = settings.READYZ_TIMEOUT_SECONDS
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as error:
        return str(error) or error.__class__.__name__
    finally:
        client.close()
    return None


def readiness() -> tuple[bool, dict]:
    checks = {}
    for name, check in (("database", check_database), ("redis", check_redis)):
        started = time.perf_counter()
        problem = check()
        checks[name] = {
            "ok": problem is None,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            **({"error": problem} if problem else {}),
        }
    ok = all(item["ok"] for item in checks.values())
    return ok, {
        "status": "ready" if ok else "not ready",
        "failed": [name for name, item in checks.items() if not item["ok"]],
        "checks": checks,
    }


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path == "/healthz":
            return JsonResponse({"status": "alive"})
        if path == "/readyz":
            ok, body = readiness()
            if not ok:
                logger.warning("opsworker.readyz.not_ready", extra={"failed": body["failed"]})
            return JsonResponse(body, status=200 if ok else 503)
        if path == "/metrics":
            payload, content_type = render_metrics()
            return HttpResponse(payload, content_type=content_type)
        return self.get_response(request)
