"""Signal ingestion: one transaction stores the raw request, the signals and their decisions.

Deduplication: an alert *series* is (source, fingerprint); an *episode* is one firing period of it.
A re-delivery of the same episode (Alertmanager's repeat interval, SNS or Datadog retries) updates
`last_received_at`/`delivery_count` and creates nothing; a resolved alert closes the open episode.
Concurrent deliveries of one series are serialized by transaction-scoped advisory locks (taken in
sorted order, so two requests never deadlock), with a partial unique index (one open episode per
series) behind them. A whole payload costs a fixed handful of queries, not a few per alert: the
series are locked and read in one query each, decided in memory, and written in bulk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.handoff import InvestigationRequest, investigations_open, signals_resolved
from alerts.models import Decision, Integration, RawPayload, Signal, SignalStatus
from alerts.rules.engine import Evaluation, subject_from_signal
from alerts.rules.loader import current_rule_set
from alerts.services.announce import announce_soon
from alerts.sources.base import STATUS_FIRING, STATUS_RESOLVED, NormalizedAlert, Rejection
from tenants.jobs import current_schema

logger = logging.getLogger(__name__)

_MAX_ALERTNAME = 500
_MAX_K8S_NAME = 253


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """What we keep of the HTTP request itself."""

    method: str
    content_type: str
    headers: Mapping[str, str]
    body: str
    size_bytes: int
    remote_addr: str | None
    note: str = ""


@dataclasses.dataclass
class IngestResult:
    payload: RawPayload
    signals: list[tuple[Signal, str]]  # (signal, outcome: new | duplicate | resolved | superseded)
    investigations: list[Any]  # what the investigations app opened (rows with a pk)
    rejected: list[Rejection] = dataclasses.field(default_factory=list)

    def response_body(self) -> dict[str, Any]:
        return {
            "accepted": len(self.signals),
            "signals": [
                {
                    "id": signal.pk,
                    "fingerprint": signal.fingerprint,
                    "status": signal.status,
                    "alertname": signal.alertname,
                    "outcome": outcome,
                }
                for signal, outcome in self.signals
            ],
            "investigations": [investigation.pk for investigation in self.investigations],
            # Alerts of the payload that could not be stored; the others above were.
            "rejected": [rejection.as_json() for rejection in self.rejected],
        }


def text(value: Any, limit: int | None = None) -> str:
    """Text as PostgreSQL can store it (no NUL), optionally cut to an indexed column's size."""
    result = str(value or "").replace("\x00", "")
    return result[:limit] if limit else result


def json_safe(value: Any) -> Any:
    """Strip NUL characters throughout a JSON value (jsonb refuses \\u0000)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def signals_ingest(
    *,
    integration: Integration,
    request: RequestRecord,
    alerts: Iterable[NormalizedAlert],
    rejected: Iterable[Rejection] = (),
) -> IngestResult:
    """Store one accepted webhook request and its alerts; announce them after commit.

    `rejected` are the payload's alerts the adapter could not read: recorded on the raw payload
    (shown on the integration's page) and returned in the answer, never silently dropped.
    """
    alerts = list(alerts)
    rejected = list(rejected)
    now = timezone.now()
    with transaction.atomic():
        payload = RawPayload.objects.create(
            integration=integration,
            source=integration.source,
            received_at=now,
            method=request.method,
            content_type=text(request.content_type, 200),
            headers=json_safe(dict(request.headers)),
            body=text(request.body),
            size_bytes=request.size_bytes,
            remote_addr=request.remote_addr,
            alert_count=len(alerts),
            note=text(request.note, 300),
            rejected=json_safe([rejection.as_json() for rejection in rejected]),
        )
        batch = _Batch(integration, payload, now)
        batch.load(alerts)
        outcomes = [batch.apply(alert) for alert in alerts]
        investigations = batch.save()

        # A resolved alert updates its investigation's Slack message instead of posting again.
        signals_resolved([s for s, outcome in outcomes if outcome == "resolved"])
        counters = {}
        if rejected:
            counters = {
                "last_error": text(
                    f"202, {len(rejected)} of {len(alerts) + len(rejected)} alerts not stored: "
                    f"{rejected[0].reason}",
                    500,
                ),
                "last_error_at": now,
            }
        Integration.objects.filter(pk=integration.pk).update(
            last_received_at=now,
            deliveries_total=F("deliveries_total") + 1,
            alerts_total=F("alerts_total") + len(alerts),
            **counters,
        )
        announce_soon(
            current_schema(),
            new_ids=[s.pk for s, outcome in outcomes if outcome == "new"],
            changed_ids=[s.pk for s, outcome in outcomes if outcome != "new"],
        )
    return IngestResult(payload, outcomes, investigations, rejected)


class _Batch:
    """The series a payload touches, locked and loaded once, then changed in memory and saved in bulk."""

    def __init__(self, integration: Integration, payload: RawPayload, now):
        self.integration, self.payload, self.now = integration, payload, now
        self.source = integration.source
        self.series: dict[str, list[Signal]] | None = None
        self.created: list[Signal] = []
        self.changed: dict[int, Signal] = {}
        self.rule_set = current_rule_set()
        self.evaluations: dict[int, Evaluation] = {}  # id(signal) -> why it was decided so

    # -- reading ---------------------------------------------------------------------------------

    def apply(self, alert: NormalizedAlert) -> tuple[Signal, str]:
        if self.series is None:
            raise RuntimeError("load() first")
        return self._apply(alert)

    def load(self, alerts: list[NormalizedAlert]) -> None:
        keys = [
            (_hash(a.fingerprint), _hash(a.episode) if a.episode else "", text(a.delivery_id, 200))
            for a in alerts
        ]
        fingerprints = sorted({fingerprint for fingerprint, _e, _d in keys})
        self.series = {fingerprint: [] for fingerprint in fingerprints}
        if not fingerprints:
            return
        _lock_series(self.source, fingerprints)
        episodes = {episode for _f, episode, _d in keys if episode}
        deliveries = {delivery for _f, _e, delivery in keys if delivery}
        wanted = Q(status=SignalStatus.FIRING)
        if episodes:
            wanted |= Q(episode__in=episodes)
        if deliveries:
            wanted |= Q(delivery_id__in=deliveries)
        rows = Signal.objects.filter(source=self.source, fingerprint__in=fingerprints).filter(wanted)
        seen = set()
        for signal in rows.order_by("-last_received_at", "-pk"):
            self.series[signal.fingerprint].append(signal)
            seen.add(signal.pk)
        # A resolution without an episode key (e.g. CloudWatch OK) needs the series' latest closed one.
        bare = sorted(
            {f for a, (f, e, _d) in zip(alerts, keys, strict=True) if a.status == STATUS_RESOLVED and not e}
        )
        if bare:
            latest = (
                Signal.objects.filter(source=self.source, fingerprint__in=bare)
                .exclude(status=SignalStatus.FIRING)
                .order_by("fingerprint", "-last_received_at")
                .distinct("fingerprint")
            )
            for signal in latest:
                if signal.pk not in seen:
                    self.series[signal.fingerprint].append(signal)
            for fingerprint in bare:
                self.series[fingerprint].sort(key=lambda s: s.last_received_at, reverse=True)

    # -- deciding --------------------------------------------------------------------------------

    def _apply(self, alert: NormalizedAlert) -> tuple[Signal, str]:
        fingerprint = _hash(alert.fingerprint)
        episode = _hash(alert.episode) if alert.episode else ""
        delivery_id = text(alert.delivery_id, 200)
        series = self.series[fingerprint]

        if delivery_id:
            seen = next((s for s in series if s.delivery_id == delivery_id), None)
            if seen is not None:  # the same message again (SNS/Datadog retry)
                return self._bump(seen), "duplicate"

        open_signal = next((s for s in series if s.status == SignalStatus.FIRING), None)
        same_episode = open_signal is not None and (
            not episode or not open_signal.episode or open_signal.episode == episode
        )

        if alert.status == STATUS_FIRING:
            if same_episode:
                _refresh(open_signal, alert)
                return self._bump(open_signal), "duplicate"
            if episode:
                earlier = next((s for s in series if s.episode == episode), None)
                if earlier is not None:  # a late re-send of an episode that has already resolved
                    return self._bump(earlier), "duplicate"
            if open_signal is not None:  # a new episode while the old one never resolved
                self._close(open_signal, alert.starts_at or self.now, "superseded by a new firing episode")
            return self._create(alert, fingerprint, episode, delivery_id, series), "new"

        if alert.status == STATUS_RESOLVED:
            if same_episode:
                _refresh(open_signal, alert)
                self._close(open_signal, alert.ends_at or self.now)
                return self._bump(open_signal), "resolved"
            closed = [
                s for s in series if s.status != SignalStatus.FIRING and (not episode or s.episode == episode)
            ]
            if closed and closed[0].status == SignalStatus.RESOLVED:
                return self._bump(closed[0]), "duplicate"
            # A resolution for an episode we never saw firing: record it so it is visible.
            return self._create(alert, fingerprint, episode, delivery_id, series), "new"

        # Neither firing nor resolved (e.g. CloudWatch INSUFFICIENT_DATA): recorded once per episode.
        if episode:
            earlier = next(
                (s for s in series if s.episode == episode and s.status == SignalStatus.UNKNOWN), None
            )
            if earlier is not None:
                return self._bump(earlier), "duplicate"
        return self._create(alert, fingerprint, episode, delivery_id, series), "new"

    def _create(self, alert, fingerprint, episode, delivery_id, series) -> Signal:
        signal = Signal(
            integration=self.integration,
            first_payload=self.payload,
            source=self.source,
            fingerprint=fingerprint,
            native_fingerprint=text(alert.native_fingerprint, 200),
            episode=episode,
            delivery_id=delivery_id,
            status=alert.status if alert.status in SignalStatus.values else SignalStatus.UNKNOWN,
            first_received_at=self.now,
            last_received_at=self.now,
        )
        _fill(signal, alert, self.integration)
        self._decide(signal)
        series.insert(0, signal)
        self.created.append(signal)
        return signal

    def _decide(self, signal: Signal) -> None:
        evaluation = self.rule_set.evaluate(subject_from_signal(signal, self.integration.name), now=self.now)
        action, reason = evaluation.action, evaluation.reason
        if action == Decision.INVESTIGATE and signal.test:
            # A sender's test notification names a real monitor's resources; nothing happened there.
            action, reason = Decision.RECORD, f"{reason}, but test notifications are never investigated"
        elif action == Decision.INVESTIGATE and signal.status != SignalStatus.FIRING:
            action, reason = Decision.RECORD, f"{reason}, but {signal.status} alerts are not investigated"
        elif action == Decision.INVESTIGATE and signal.pipeline:
            # Watchdog, no-data and portal test alerts describe the alerting pipeline, not a workload.
            action, reason = (
                Decision.RECORD,
                f"{reason}, but alerts about the alerting pipeline are not investigated",
            )
        signal.decision, signal.decision_reason = action, text(reason, 300)
        if evaluation.rule is not None:
            signal.matched_rule_id, signal.matched_rule_name = evaluation.rule.id, evaluation.rule.name[:120]
        if evaluation.silence is not None:
            signal.silence_id = evaluation.silence.id
        self.evaluations[id(signal)] = evaluation

    def _touch(self, signal: Signal) -> None:
        if signal.pk is not None:
            self.changed[signal.pk] = signal

    def _bump(self, signal: Signal) -> Signal:
        # Safe without F(): the series is locked for this transaction and was read after locking.
        signal.last_received_at = self.now
        signal.delivery_count += 1
        self._touch(signal)
        return signal

    def _close(self, signal: Signal, ends_at, reason: str = "") -> None:
        signal.status = SignalStatus.RESOLVED
        signal.ends_at = ends_at
        if reason:
            joined = f"{signal.decision_reason}; {reason}" if signal.decision_reason else reason
            signal.decision_reason = text(joined, 300)
        self._touch(signal)

    # -- writing ---------------------------------------------------------------------------------

    def save(self) -> list[Any]:
        if self.changed:
            # Closing superseded episodes first keeps the one-open-per-series index satisfied.
            Signal.objects.bulk_update(list(self.changed.values()), _CHANGED_FIELDS)
        if self.created:
            Signal.objects.bulk_create(self.created)
        # Same transaction: a 2xx means the signals are stored and their investigations decided.
        requests = [
            InvestigationRequest(
                signal=signal,
                rule=self.evaluations[id(signal)].rule,
                cluster=signal.cluster or self.integration.cluster_name,
            )
            for signal in self.created
            if signal.decision == Decision.INVESTIGATE
        ]
        return investigations_open(requests, self.now)


_CHANGED_FIELDS = [
    "status",
    "ends_at",
    "decision_reason",
    "summary",
    "description",
    "annotations",
    "severity",
    "severity_raw",
    "last_received_at",
    "delivery_count",
]


def _lock_series(source: str, fingerprints: list[str]) -> None:
    """Transaction-scoped advisory locks on every series, in one statement, in a fixed order."""
    keys = sorted(
        int.from_bytes(hashlib.blake2b(f"{source}:{f}".encode(), digest_size=8).digest(), "big", signed=True)
        for f in fingerprints
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [keys])


def _fill(signal: Signal, alert: NormalizedAlert, integration: Integration) -> None:
    signal.alertname = text(alert.alertname, _MAX_ALERTNAME) or "(no name)"
    signal.severity = alert.severity or ""
    signal.severity_raw = text(alert.severity_raw, 100)
    signal.summary = text(alert.summary)
    signal.description = text(alert.description)
    signal.labels = json_safe(alert.labels)
    signal.annotations = json_safe(alert.annotations)
    signal.links = json_safe(alert.links)
    signal.extraction = json_safe(alert.extraction)
    signal.group = json_safe(alert.group)
    signal.cluster = text(alert.cluster or integration.cluster_name, _MAX_K8S_NAME)
    for field in ("namespace", "pod", "container", "workload", "node"):
        setattr(signal, field, text(getattr(alert, field), _MAX_K8S_NAME))
    signal.workload_kind = text(alert.workload_kind, 40)
    signal.pipeline = alert.pipeline
    signal.test = alert.test
    signal.starts_at = alert.starts_at
    signal.ends_at = alert.ends_at


def _refresh(signal: Signal, alert: NormalizedAlert) -> None:
    # Annotations and severity can change while an alert keeps firing; keep the latest.
    signal.summary = text(alert.summary)
    signal.description = text(alert.description)
    signal.annotations = json_safe(alert.annotations)
    signal.severity = alert.severity or signal.severity
    signal.severity_raw = text(alert.severity_raw, 100) or signal.severity_raw
