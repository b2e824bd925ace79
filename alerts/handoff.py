"""The hand-off from alerts to the features that act on signals, without alerts importing them.

Ingestion decides and stores signals; the signals a rule says to investigate are passed, inside
the same transaction, to the investigation opener the investigations app registers at startup
(`investigations/apps.py`). It applies the dedup window, the rules' hourly caps and the daily quota,
downgrades what it will not open to `record` (with the reason), links the signals and returns the
investigations it opened. Resolved signals are passed to the resolved-signal listener (Slack updates).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from alerts.models import Signal
from alerts.rules.engine import RuleSpec


@dataclasses.dataclass
class InvestigationRequest:
    """A stored signal a rule (or the default action) decided to investigate."""

    signal: Signal
    rule: RuleSpec | None  # the matched rule: dedup window, hourly cap, target cluster
    cluster: str  # the signal's cluster, else the integration's


InvestigationOpener = Callable[[list[InvestigationRequest], datetime], list[Any]]
ResolvedListener = Callable[[list[Signal]], None]

_opener: InvestigationOpener | None = None
_resolved_listeners: list[ResolvedListener] = []


def investigation_opener_register(opener: InvestigationOpener) -> None:
    """Called once by the investigations app at startup."""
    global _opener
    _opener = opener


def resolved_listener_register(listener: ResolvedListener) -> None:
    if listener not in _resolved_listeners:
        _resolved_listeners.append(listener)


def investigations_open(requests: list[InvestigationRequest], now: datetime) -> list[Any]:
    """Open investigations for `requests` (inside the caller's transaction); returns them."""
    if not requests:
        return []
    if _opener is None:
        raise LookupError("no investigation opener registered (investigations/apps.py registers it)")
    return _opener(requests, now)


def signals_resolved(signals: list[Signal]) -> None:
    for listener in _resolved_listeners:
        listener(signals)
