"""Live updates of open Alerts pages: new rows, changed rows, and the "received" notice.

During an alert storm every webhook request would otherwise enqueue its own job; instead each
request pushes the ids it created or changed onto per-organization Redis lists, and the first
request in each short window enqueues one job that drains the lists atomically. So every new
signal is announced exactly once, and a changed one is re-rendered in place wherever it is shown.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import Decision, Signal
from opsworker.redis_client import shared_redis
from tenants.jobs import enqueue_in_tenant
from tenants.realtime import org_group, publish_html
from tenants.side_effects import after_commit_best_effort

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 2
MAX_PENDING = 1000  # ids kept per list while no worker drains them; the notice still counts
MAX_NEW_ROWS = 50  # rows prepended per announcement; beyond that the notice says "show"


def _keys(schema_name: str) -> tuple[str, str, str]:
    base = f"opsworker:announce:{schema_name}"
    return f"{base}:new", f"{base}:changed", f"{base}:window"


def announce_soon(schema_name: str, *, new_ids: list[int], changed_ids: list[int]) -> None:
    """After commit: remember what changed and enqueue one announcement unless one is already due."""
    if not new_ids and not changed_ids:
        return
    new_key, changed_key, window_key = _keys(schema_name)

    def send() -> None:
        pipe = shared_redis().pipeline()
        if new_ids:
            pipe.rpush(new_key, *new_ids)
            pipe.ltrim(new_key, -MAX_PENDING, -1)
            pipe.expire(new_key, 3600)
        if changed_ids:
            pipe.rpush(changed_key, *changed_ids)
            pipe.ltrim(changed_key, -MAX_PENDING, -1)
            pipe.expire(changed_key, 3600)
        pipe.set(window_key, "1", nx=True, ex=WINDOW_SECONDS)
        *_, first_in_window = pipe.execute()
        if first_in_window:
            enqueue_in_tenant("default", "alerts.tasks.signals_announce", schema_name)

    # Live updates are best-effort; the data is committed and the page shows it on load.
    after_commit_best_effort(
        send,
        event="alerts.announce.enqueue_failed",
        schema=schema_name,
        object_id=(new_ids or changed_ids)[0],
        signals=len(new_ids) + len(changed_ids),
    )


def _drain(schema_name: str) -> tuple[list[int], list[int]]:
    new_key, changed_key, _window = _keys(schema_name)
    pipe = shared_redis().pipeline(transaction=True)
    pipe.lrange(new_key, 0, -1)
    pipe.delete(new_key)
    pipe.lrange(changed_key, 0, -1)
    pipe.delete(changed_key)
    new_raw, _d1, changed_raw, _d2 = pipe.execute()
    new_ids = list(dict.fromkeys(int(x) for x in new_raw))
    changed_ids = [i for i in dict.fromkeys(int(x) for x in changed_raw) if i not in set(new_ids)]
    return new_ids, changed_ids


def signals_announce_now(*, schema_name: str) -> int:
    """Push new rows, changed rows and the notice to this organization's open pages."""
    new_ids, changed_ids = _drain(schema_name)
    if not new_ids and not changed_ids:
        return 0
    signals = {
        s.pk: s for s in Signal.objects.select_related("integration").filter(pk__in=[*new_ids, *changed_ids])
    }
    fresh = sorted(
        (signals[i] for i in new_ids if i in signals and signals[i].decision != Decision.SUPPRESS),
        key=lambda s: s.last_received_at,
        reverse=True,
    )[:MAX_NEW_ROWS]
    changed = [signals[i] for i in changed_ids if i in signals]
    parts = []
    if fresh:
        # Only the unfiltered first page has #signal-rows-live; elsewhere this part is ignored.
        rows = "".join(render_to_string("alerts/partials/_signal_row.html", {"signal": s}) for s in fresh)
        parts.append(f'<tbody hx-swap-oob="afterbegin:#signal-rows-live">{rows}</tbody>')
    parts += [
        render_to_string("alerts/partials/_signal_row.html", {"signal": s, "oob": True}) for s in changed
    ]
    since = timezone.now() - timedelta(seconds=60)
    recent = Signal.objects.filter(last_received_at__gte=since)
    latest = list(recent.order_by("-last_received_at")[:5])
    parts.append(
        render_to_string(
            "alerts/partials/_live_notice.html", {"signals": latest, "count": recent.count(), "oob": True}
        )
    )
    publish_html(org_group(schema_name), "".join(parts))
    return len(fresh) + len(changed)
