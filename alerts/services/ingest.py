"""Signal ingestion: one transaction stores the raw request, the signals and their decisions.

Deduplication: an alert *series* is (source, fingerprint); an *episode* is one firing period of it.
A re-delivery of the same episode (Alertmanager's repeat interval, SNS or Datadog retries) updates
`last_received_at`/`delivery_count` and creates nothing; a resolved alert closes the open episode.
Concurrent deliveries of one series are serialized by a transaction-scoped advisory lock, with a
partial unique index (one open episode per series) behind it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from alerts.decisions import decide
from alerts.models import Decision, Integration, RawPayload, Signal, SignalStatus
from alerts.sources.base import STATUS_FIRING, STATUS_RESOLVED, NormalizedAlert
from investigations.models import Investigation
from tenants.jobs import current_schema, enqueue_in_tenant

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
    *, integration: Integration, request: RequestRecord, alerts: Iterable[NormalizedAlert]
) -> IngestResult:
    """Store one accepted webhook request and its alerts; start investigations after commit."""
    alerts = list(alerts)
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
        )
        result = IngestResult(payload, [], [])
        for alert in alerts:
            signal, outcome, investigation = _record(integration, payload, alert, now)
            result.signals.append((signal, outcome))
            if investigation is not None:
                result.investigations.append(investigation)
        Integration.objects.filter(pk=integration.pk).update(
            last_received_at=now,
            deliveries_total=F("deliveries_total") + 1,
            alerts_total=F("alerts_total") + len(alerts),
        )
        schema = current_schema()
        new_ids = [signal.pk for signal, outcome in result.signals if outcome != "duplicate"]
        if new_ids:
            enqueue_in_tenant("default", "alerts.tasks.signals_announce", schema, new_ids)
    return result


def _lock_series(source: str, fingerprint: str) -> None:
    key = int.from_bytes(
        hashlib.blake2b(f"{source}:{fingerprint}".encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _record(integration: Integration, payload: RawPayload, alert: NormalizedAlert, now):
    source = integration.source
    fingerprint = _hash(alert.fingerprint)
    episode = _hash(alert.episode) if alert.episode else ""
    delivery_id = text(alert.delivery_id, 200)
    _lock_series(source, fingerprint)
    series = Signal.objects.filter(source=source, fingerprint=fingerprint)

    if delivery_id:
        seen = series.filter(delivery_id=delivery_id).first()
        if seen is not None:  # the same message again (SNS/Datadog retry)
            return _bump(seen, now), "duplicate", None

    open_signal = series.filter(status=SignalStatus.FIRING).first()
    same_episode = open_signal is not None and (
        not episode or not open_signal.episode or open_signal.episode == episode
    )

    if alert.status == STATUS_FIRING:
        if same_episode:
            _refresh(open_signal, alert)
            return _bump(open_signal, now), "duplicate", None
        if episode:
            earlier = series.filter(episode=episode).order_by("-last_received_at").first()
            if earlier is not None:  # a late re-send of an episode that has already resolved
                return _bump(earlier, now), "duplicate", None
        if open_signal is not None:  # a new episode while the old one never resolved
            _close(open_signal, ends_at=alert.starts_at or now, reason="superseded by a new firing episode")
        signal = _create(integration, payload, alert, fingerprint, episode, delivery_id, now)
        return signal, "new", _decide(signal, integration)

    if alert.status == STATUS_RESOLVED:
        if same_episode:
            _refresh(open_signal, alert)
            _close(open_signal, ends_at=alert.ends_at or now)
            return _bump(open_signal, now), "resolved", None
        earlier = series.exclude(status=SignalStatus.FIRING)
        if episode:
            earlier = earlier.filter(episode=episode)
        earlier = earlier.order_by("-last_received_at").first()
        if earlier is not None and earlier.status == SignalStatus.RESOLVED:
            return _bump(earlier, now), "duplicate", None
        # A resolution for an episode we never saw firing: record it so it is visible.
        signal = _create(integration, payload, alert, fingerprint, episode, delivery_id, now)
        return signal, "new", _decide(signal, integration)

    # Neither firing nor resolved (e.g. CloudWatch INSUFFICIENT_DATA): recorded once per episode.
    if episode:
        earlier = series.filter(episode=episode, status=SignalStatus.UNKNOWN).first()
        if earlier is not None:
            return _bump(earlier, now), "duplicate", None
    signal = _create(integration, payload, alert, fingerprint, episode, delivery_id, now)
    return signal, "new", _decide(signal, integration)


def _create(integration, payload, alert: NormalizedAlert, fingerprint, episode, delivery_id, now) -> Signal:
    signal = Signal(
        integration=integration,
        first_payload=payload,
        source=integration.source,
        fingerprint=fingerprint,
        native_fingerprint=text(alert.native_fingerprint, 200),
        episode=episode,
        delivery_id=delivery_id,
        status=alert.status if alert.status in SignalStatus.values else SignalStatus.UNKNOWN,
        first_received_at=now,
        last_received_at=now,
    )
    _fill(signal, alert, integration)
    signal.save()
    return signal


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
    signal.starts_at = alert.starts_at
    signal.ends_at = alert.ends_at


def _refresh(signal: Signal, alert: NormalizedAlert) -> None:
    # Annotations and severity can change while an alert keeps firing; keep the latest.
    signal.summary = text(alert.summary)
    signal.description = text(alert.description)
    signal.annotations = json_safe(alert.annotations)
    signal.severity = alert.severity or signal.severity
    signal.severity_raw = text(alert.severity_raw, 100) or signal.severity_raw


def _close(signal: Signal, *, ends_at, reason: str = "") -> None:
    signal.status = SignalStatus.RESOLVED
    signal.ends_at = ends_at
    if reason:
        signal.decision_reason = text(
            f"{signal.decision_reason}; {reason}" if signal.decision_reason else reason, 300
        )
    signal.save()


def _bump(signal: Signal, now) -> Signal:
    signal.last_received_at = now
    signal.delivery_count = F("delivery_count") + 1
    signal.save()
    signal.refresh_from_db(fields=["delivery_count"])
    return signal


def _decide(signal: Signal, integration: Integration) -> Investigation | None:
    outcome = decide(signal)
    signal.decision, signal.decision_reason = outcome.decision, outcome.reason
    signal.save(update_fields=["decision", "decision_reason"])
    if outcome.decision != Decision.INVESTIGATE:
        return None
    kind, name = _target(signal)
    # Pending until the engine picks it up; a sweeper finds pending ones whose job was lost.
    return Investigation.objects.create(
        signal=signal,
        trigger="rule",
        cluster=signal.cluster or integration.cluster_name,
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
