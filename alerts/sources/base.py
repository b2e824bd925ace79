"""The one interface every alert source adapter implements, and the normalized alert it yields.

Adapters are pure: a parsed payload (and the request headers, for sources that put facts there)
goes in, a list of `NormalizedAlert` comes out, or a `PayloadError` whose message a person can act
on. They never touch the database, the network or Django settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol

STATUS_FIRING = "firing"
STATUS_RESOLVED = "resolved"
# Neither firing nor resolved: recorded only (CloudWatch INSUFFICIENT_DATA, SNS unsubscribe notices).
STATUS_UNKNOWN = "unknown"
STATUSES = (STATUS_FIRING, STATUS_RESOLVED, STATUS_UNKNOWN)

SEVERITIES = ("critical", "warning", "info")

# How a Kubernetes field (namespace, pod, ...) was found; recorded per field in `extraction`.
METHOD_LABEL = "label"  # a label, tag or dimension named for it
METHOD_TEXT = "text"  # a regex over summary/description/title


class PayloadError(ValueError):
    """The payload cannot be turned into alerts; the message names the field or the problem."""


@dataclasses.dataclass(slots=True)
class NormalizedAlert:
    """One alert of one payload, in the shape every later stage relies on (DESIGN.md §5)."""

    source: str
    # Stable id of the alert *series*, the same for its firing and resolved deliveries, unique
    # within the source (adapters derive it from the sender's id or the label set).
    fingerprint: str
    status: str
    alertname: str
    native_fingerprint: str = ""  # the sender's own id, verbatim ("" when it sends none)
    severity: str | None = None  # one of SEVERITIES, or None when unknown (never invented)
    severity_raw: str = ""
    summary: str = ""
    description: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    cluster: str = ""
    namespace: str = ""
    pod: str = ""
    container: str = ""
    workload: str = ""  # deployment/statefulset/daemonset/job name when known
    workload_kind: str = ""  # Deployment, StatefulSet, DaemonSet, Job, CronJob, ...
    node: str = ""
    starts_at: datetime | None = None  # timezone-aware UTC
    ends_at: datetime | None = None
    links: dict[str, str] = dataclasses.field(default_factory=dict)  # generator/runbook/dashboard/...
    # field name -> METHOD_LABEL | METHOD_TEXT, for every Kubernetes field that was filled in.
    extraction: dict[str, str] = dataclasses.field(default_factory=dict)
    # Per-delivery idempotency key when the sender has one (SNS MessageId, Datadog $ID).
    delivery_id: str = ""
    # Episode key: equal for re-sends of the same firing episode (fingerprint + startsAt,
    # Datadog's alert cycle key, ...). Empty means "fingerprint alone".
    episode: str = ""
    # True for alerts about the alerting pipeline itself (Watchdog, DatasourceNoData/Error).
    pipeline: bool = False
    # Group-level facts worth keeping (groupKey, receiver, truncatedAlerts, ...).
    group: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict; timestamps as ISO 8601 UTC with a trailing Z."""
        data = dataclasses.asdict(self)
        for key in ("starts_at", "ends_at"):
            value = data[key]
            data[key] = value.isoformat().replace("+00:00", "Z") if value else None
        return data


class SourceAdapter(Protocol):
    """What the registry holds for each source."""

    name: ClassVar[str]
    label: ClassVar[str]  # human name for the portal ("Prometheus Alertmanager")

    def parse(self, payload: Any, *, headers: Mapping[str, str]) -> list[NormalizedAlert]:
        """Turn one parsed request body into alerts or raise PayloadError."""
        ...
