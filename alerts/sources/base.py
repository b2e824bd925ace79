"""The one interface every alert source adapter implements, and the normalized alert it yields.

Adapters are pure: a parsed payload (and the request headers, for sources that put facts there)
goes in, a list of `NormalizedAlert` comes out, or a `PayloadError` whose message a person can act
on. They never touch the database, the network or Django settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
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
    # A sender's test notification (Datadog "Test Notifications"): its own series, never investigated.
    test: bool = False

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict; timestamps as ISO 8601 UTC with a trailing Z."""
        data = dataclasses.asdict(self)
        for key in ("starts_at", "ends_at"):
            value = data[key]
            data[key] = value.isoformat().replace("+00:00", "Z") if value else None
        return data


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    """One alert of a payload that could not be stored: its position and why."""

    index: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "reason": self.reason}


@dataclasses.dataclass(slots=True)
class ParseResult:
    """The alerts of a payload that could be read, and the ones that could not.

    A sender that never retries a 4xx (Alertmanager) would lose a whole group for one bad
    alert; the webhook stores `alerts` and reports `rejected`, answering 400 only when
    `alerts` is empty and something was rejected.
    """

    alerts: list[NormalizedAlert]
    rejected: list[Rejection] = dataclasses.field(default_factory=list)

    def strict(self) -> list[NormalizedAlert]:
        """Every alert, or PayloadError naming the first one that could not be read."""
        if self.rejected:
            raise PayloadError(self.rejected[0].reason)
        return self.alerts

    @property
    def nothing_usable(self) -> bool:
        return not self.alerts and bool(self.rejected)

    def refusal(self) -> str:
        """The message for a payload none of whose alerts could be read."""
        if len(self.rejected) == 1:
            return self.rejected[0].reason
        shown = "; ".join(r.reason for r in self.rejected[:5])
        more = f" (and {len(self.rejected) - 5} more)" if len(self.rejected) > 5 else ""
        return f"none of the {len(self.rejected)} alerts could be stored: {shown}{more}"


def parse_each(items: list[Any], parse_one: Callable[[int, Any], NormalizedAlert]) -> ParseResult:
    """`parse_one(index, item)` for every item; a PayloadError rejects that item only."""
    result = ParseResult(alerts=[])
    for index, item in enumerate(items):
        try:
            result.alerts.append(parse_one(index, item))
        except PayloadError as error:
            result.rejected.append(Rejection(index, str(error)))
    return result


class SourceAdapter(Protocol):
    """What the registry holds for each source."""

    name: ClassVar[str]
    label: ClassVar[str]  # human name for the portal ("Prometheus Alertmanager")

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        """The readable alerts and the rejected ones; PayloadError if the payload itself is unusable."""
        ...

    def parse(self, payload: Any, *, headers: Mapping[str, str]) -> list[NormalizedAlert]:
        """Every alert, or PayloadError for the first problem (all or nothing)."""
        ...


class AdapterBase:
    """`parse` in terms of `parse_partial`, for adapters to inherit."""

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        raise NotImplementedError

    def parse(self, payload: Any, *, headers: Mapping[str, str]) -> list[NormalizedAlert]:
        """Every alert, or PayloadError for the first problem (all or nothing)."""
        return self.parse_partial(payload, headers=headers).strict()
