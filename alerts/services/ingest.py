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
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from alerts.models import Decision, Integration, RawPayload, Signal, SignalStatus
from alerts.rules.engine import Evaluation, subject_from_signal
from alerts.rules.loader import current_rule_set
from alerts.services.announce import announce_soon
from alerts.sources.base import STATUS_FIRING, STATUS_RESOLVED, NormalizedAlert, Rejection
from investigations.models import Investigation
from investigations.notify.services import notify_signals_resolved
from investigations.runner import publish_investigation
from investigations.services import investigation_enqueue
from tenants.jobs import current_schema
from tenants.quotas import INVESTIGATIONS_PER_DAY, organization_here, quota_remaining

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
    investigations: list[Investigation]
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
        notify_signals_resolved([s for s, outcome in outcomes if outcome == "resolved"])
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

    def save(self) -> list[Investigation]:
        if self.changed:
            # Closing superseded episodes first keeps the one-open-per-series index satisfied.
            Signal.objects.bulk_update(list(self.changed.values()), _CHANGED_FIELDS)
        to_investigate = [s for s in self.created if s.decision == Decision.INVESTIGATE]
        attach = self._apply_dedup_and_caps(to_investigate)
        if self.created:
            Signal.objects.bulk_create(self.created)
        starting = [s for s in to_investigate if s.decision == Decision.INVESTIGATE and id(s) not in attach]
        # Pending until the engine picks them up; a sweeper finds pending ones whose job was lost.
        investigations = (
            Investigation.objects.bulk_create(
                [_investigation_for(s, self.integration, self.evaluations[id(s)]) for s in starting]
            )
            if starting
            else []
        )

        for signal, investigation in zip(starting, investigations, strict=True):
            signal.investigation = investigation
            investigation_enqueue(investigation)
            publish_investigation(investigation)  # the list shows it (pending) before a worker takes it
        for signal in to_investigate:
            if id(signal) in attach:
                signal.investigation_id = attach[id(signal)]
        linked = [s for s in to_investigate if s.investigation_id]
        if linked:
            Signal.objects.bulk_update(linked, ["investigation"])
        return investigations

    def _apply_dedup_and_caps(self, signals: list[Signal]) -> dict[int, int]:
        """Attach repeats to a recent investigation (dedup window) and hold rules to their hourly cap.

        Returns id(signal) -> investigation id for attached signals; capped ones become `record`.
        Two queries for the whole payload, whatever its size.
        """
        if not signals:
            return {}
        rules = list(
            {
                ev.rule.id: ev.rule for s in signals if (ev := self.evaluations[id(s)]).rule is not None
            }.values()
        )
        widest = max((r.dedup_window_minutes for r in rules), default=0)
        recent: dict[tuple[str, str, str, str], list[tuple]] = {}
        if widest:
            rows = (
                Investigation.objects.filter(created_at__gte=self.now - timedelta(minutes=widest))
                .exclude(status="failed")
                .filter(namespace__in={s.namespace for s in signals})
                .values_list(
                    "pk", "created_at", "signal__alertname", "namespace", "resource_kind", "resource_name"
                )
            )
            for pk, created_at, alertname, namespace, kind, name in rows:
                recent.setdefault((alertname or "", namespace, kind, name), []).append((created_at, pk))
        capped_rules = [r.id for r in rules if r.max_investigations_per_hour is not None]
        started: dict[int, int] = {}
        if capped_rules:
            counts = (
                Investigation.objects.filter(
                    created_at__gte=self.now - timedelta(hours=1), signal__matched_rule_id__in=capped_rules
                )
                .values("signal__matched_rule_id")
                .annotate(n=Count("pk"))
            )
            started = {row["signal__matched_rule_id"]: row["n"] for row in counts}
        attach: dict[int, int] = {}
        batch_keys: dict[tuple, Signal] = {}

        organization = organization_here()
        remaining = (
            quota_remaining(organization, INVESTIGATIONS_PER_DAY) if organization is not None else None
        )
        for signal in signals:
            rule = self.evaluations[id(signal)].rule
            kind, name = _target(signal)
            key = (signal.alertname, signal.namespace, kind, name)
            if rule is not None and rule.dedup_window_minutes:
                window_start = self.now - timedelta(minutes=rule.dedup_window_minutes)
                earlier = [pk for created_at, pk in recent.get(key, []) if created_at >= window_start]
                if earlier:
                    attach[id(signal)] = max(earlier)
                    signal.decision_reason = text(
                        f"{signal.decision_reason}; attached to investigation #{max(earlier)} "
                        f"(same alert and resource within {rule.dedup_window_minutes} min)",
                        300,
                    )
                    continue
                if key in batch_keys:  # the same alert twice in one payload: one investigation
                    signal.decision = Decision.RECORD
                    signal.decision_reason = text(
                        f"{signal.decision_reason}; duplicate of another alert in this delivery", 300
                    )
                    continue
                batch_keys[key] = signal
            if rule is not None and rule.max_investigations_per_hour is not None:
                if started.get(rule.id, 0) >= rule.max_investigations_per_hour:
                    signal.decision = Decision.RECORD
                    signal.decision_reason = text(
                        f"rule {rule.name!r} matched, but its cap of {rule.max_investigations_per_hour} "
                        "investigations per hour is reached (recorded instead)",
                        300,
                    )
                    continue
                started[rule.id] = started.get(rule.id, 0) + 1
            if remaining is not None:
                if remaining <= 0:
                    signal.decision = Decision.RECORD
                    signal.decision_reason = text(
                        "the organization's daily investigation quota is reached (recorded instead)", 300
                    )
                    continue
                remaining -= 1
        return attach


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


def _investigation_for(signal: Signal, integration: Integration, evaluation: Evaluation) -> Investigation:
    kind, name = _target(signal)
    target_cluster = evaluation.rule.target_cluster if evaluation.rule is not None else ""
    return Investigation(
        signal=signal,
        trigger="rule",
        cluster=target_cluster or signal.cluster or integration.cluster_name,
        namespace=signal.namespace,
        resource_kind=kind,
        resource_name=name,
    )


def _target(signal: Signal) -> tuple[str, str]:
    if signal.pod:
        return "Pod", signal.pod
    if signal.workload:
        return signal.workload_kind or "Deployment", signal.workload
    if signal.node:
        return "Node", signal.node
    return "", ""
