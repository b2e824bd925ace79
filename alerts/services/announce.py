"""Live notice to open Alerts pages that new or changed signals arrived."""

from __future__ import annotations

from django.template.loader import render_to_string

from alerts.models import Signal
from tenants.realtime import org_group, publish_html


def signals_announce_now(*, schema_name: str, signal_ids: list[int]) -> int:
    signals = list(Signal.objects.filter(pk__in=signal_ids).order_by("-last_received_at")[:5])
    if not signals:
        return 0
    html = render_to_string(
        "alerts/partials/_live_notice.html", {"signals": signals, "count": len(signal_ids), "oob": True}
    )
    publish_html(org_group(schema_name), html)
    return len(signals)
