"""Alert source adapters: one module per source behind `base.SourceAdapter`, looked up here.

Adding a source: one module, one line in REGISTRY, one fixtures folder, one test module, and a
setup section on the integrations page.
"""

from __future__ import annotations

from alerts.sources.base import NormalizedAlert, ParseResult, PayloadError, Rejection, SourceAdapter

REGISTRY: dict[str, SourceAdapter] = {}


def get_adapter(source: str) -> SourceAdapter:
    """The adapter for `source`, or KeyError."""
    _load()
    return REGISTRY[source]


def _load() -> None:
    # Imported lazily so `alerts.sources.base` stays importable on its own.
    if REGISTRY:
        return
    from alerts.sources import alertmanager, cloudwatch, datadog, generic, grafana

    for module in (alertmanager, grafana, datadog, cloudwatch, generic):
        REGISTRY[module.ADAPTER.name] = module.ADAPTER


__all__ = [
    "REGISTRY",
    "NormalizedAlert",
    "ParseResult",
    "PayloadError",
    "Rejection",
    "SourceAdapter",
    "get_adapter",
]
