"""Live notice to open Alerts pages that new or changed signals arrived.

During an alert storm every webhook request would otherwise enqueue its own job; instead the first
request in each short window enqueues one, which shows the latest signals when it runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import django_rq
import redis
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import Signal
from opsworker.redis_client import shared_redis
from tenants.realtime import org_group, publish_html

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 2


def announce_soon(schema_name: str) -> None:
    """After commit: enqueue one announcement for this organization unless one is already due."""

    def send() -> None:
        try:
            if shared_redis().set(f"opsworker:announce:{schema_name}", "1", nx=True, ex=WINDOW_SECONDS):
                django_rq.get_queue("default", commit_mode="auto").enqueue(
                    "alerts.tasks.signals_announce", schema_name
                )
        except redis.RedisError as error:  # live updates are best-effort; the data is committed
            logger.warning(
                "alerts.announce.enqueue_failed", extra={"schema": schema_name, "error": str(error)}
            )

    transaction.on_commit(send)


def signals_announce_now(*, schema_name: str) -> int:
    """Push the live notice with the latest signals of the last minute; returns how many there were."""
    since = timezone.now() - timedelta(seconds=60)
    recent = Signal.objects.filter(last_received_at__gte=since)
    count = recent.count()
    if not count:
        return 0
    latest = list(recent.order_by("-last_received_at")[:5])
    html = render_to_string(
        "alerts/partials/_live_notice.html", {"signals": latest, "count": count, "oob": True}
    )
    publish_html(org_group(schema_name), html)
    return count
