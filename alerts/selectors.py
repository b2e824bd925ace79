"""Reads of the alerts app. Callers are inside the organization's schema already."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from alerts.models import Decision, Integration, RawPayload, Signal, SignalStatus, Source
from tenants.secret_box import digest


def integration_for_token(token: str, source: str) -> Integration | None:
    """The enabled integration of this organization whose URL token is `token`, for `source`.

    Looked up by the token's SHA-256, so the comparison never touches the secret itself; unknown,
    disabled and wrong-source tokens are indistinguishable to the caller.
    """
    if not token or len(token) > 128:
        return None
    integration = Integration.objects.filter(token_hash=digest(token)).first()
    if integration is None or not integration.enabled or integration.source != source:
        return None
    return integration


def integrations_list() -> QuerySet[Integration]:
    return Integration.objects.all().order_by("name")


def integration_get(pk: int) -> Integration:
    integration = Integration.objects.filter(pk=pk).first()
    if integration is None:
        raise Http404("no such integration")
    return integration


SORTS = {
    "last": "-last_received_at",
    "-last": "last_received_at",
    "first": "-first_received_at",
    "-first": "first_received_at",
    "name": "alertname",
    "-name": "-alertname",
    "severity": "-severity_rank",  # most severe first
    "-severity": "severity_rank",
    "namespace": "namespace",
    "-namespace": "-namespace",
    "deliveries": "-delivery_count",
    "-deliveries": "delivery_count",
}


@dataclasses.dataclass
class SignalFilters:
    status: str = ""
    severity: str = ""
    source: str = ""
    cluster: str = ""
    namespace: str = ""
    q: str = ""
    sort: str = "last"
    show_suppressed: bool = False

    @classmethod
    def from_query(cls, query) -> SignalFilters:
        filters = cls(
            status=query.get("status", ""),
            severity=query.get("severity", ""),
            source=query.get("source", ""),
            cluster=query.get("cluster", "")[:253],
            namespace=query.get("namespace", "")[:253],
            q=query.get("q", "")[:200],
            sort=query.get("sort", "last"),
            show_suppressed=query.get("suppressed") == "1",
        )
        if filters.status not in SignalStatus.values:
            filters.status = ""
        if filters.severity not in ("critical", "warning", "info", "none"):
            filters.severity = ""
        if filters.source not in Source.values:
            filters.source = ""
        if filters.sort not in SORTS:
            filters.sort = "last"
        return filters

    def as_query(self, **changes) -> dict[str, str]:
        """GET parameters for this filter set (defaults left out), with `changes` applied."""
        values = {
            "status": self.status,
            "severity": self.severity,
            "source": self.source,
            "cluster": self.cluster,
            "namespace": self.namespace,
            "q": self.q,
            "sort": "" if self.sort == "last" else self.sort,
            "suppressed": "1" if self.show_suppressed else "",
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}

    @property
    def active(self) -> bool:
        return any((self.status, self.severity, self.source, self.cluster, self.namespace, self.q))


def signals_filtered(filters: SignalFilters) -> QuerySet[Signal]:
    signals = Signal.objects.select_related("integration").annotate(
        severity_rank=Case(
            When(severity="critical", then=Value(3)),
            When(severity="warning", then=Value(2)),
            When(severity="info", then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    if not filters.show_suppressed:
        signals = signals.exclude(decision=Decision.SUPPRESS)
    if filters.status:
        signals = signals.filter(status=filters.status)
    if filters.severity == "none":
        signals = signals.filter(severity="")
    elif filters.severity:
        signals = signals.filter(severity=filters.severity)
    if filters.source:
        signals = signals.filter(source=filters.source)
    if filters.cluster:
        signals = signals.filter(cluster=filters.cluster)
    if filters.namespace:
        signals = signals.filter(namespace=filters.namespace)
    if filters.q:
        signals = signals.filter(
            Q(alertname__icontains=filters.q)
            | Q(summary__icontains=filters.q)
            | Q(pod__icontains=filters.q)
            | Q(workload__icontains=filters.q)
            | Q(node__icontains=filters.q)
            | Q(namespace__icontains=filters.q)
        )
    return signals.order_by(SORTS[filters.sort], "-pk")


def signals_page(filters: SignalFilters, page: str | int | None, per_page: int = 50):
    """One page of the filtered signals (an out-of-range or garbage page number gives the nearest page)."""
    paginator = Paginator(signals_filtered(filters), per_page)
    return paginator.get_page(page)


def signals_exist() -> bool:
    """Whether the organization has received any alert at all (tells the two empty states apart)."""
    return Signal.objects.exists()


def signal_counts(since_hours: int = 24) -> dict:
    """Header figures for the Alerts page."""
    since = timezone.now() - timedelta(hours=since_hours)
    totals = Signal.objects.exclude(decision=Decision.SUPPRESS).aggregate(
        firing=Count("pk", filter=Q(status=SignalStatus.FIRING)),
        recent=Count("pk", filter=Q(last_received_at__gte=since)),
        critical=Count("pk", filter=Q(status=SignalStatus.FIRING, severity="critical")),
    )
    return totals


def signal_facets() -> dict[str, list[str]]:
    """Values to offer in the filter menus (bounded)."""
    return {
        "clusters": list(
            Signal.objects.exclude(cluster="")
            .order_by("cluster")
            .values_list("cluster", flat=True)
            .distinct()[:100]
        ),
        "namespaces": list(
            Signal.objects.exclude(namespace="")
            .order_by("namespace")
            .values_list("namespace", flat=True)
            .distinct()[:200]
        ),
    }


def signal_get(pk: int) -> Signal:
    signal = Signal.objects.select_related("integration", "first_payload").filter(pk=pk).first()
    if signal is None:
        raise Http404("no such alert")
    return signal


# Alerts of one sender group (the same `groupKey`) count as delivered together when they were
# received within this long of each other: Alertmanager re-sends every firing alert of a group at
# each notification, so what fires together is received together.
GROUP_WINDOW = timedelta(hours=1)


def signals_of_group(signal: Signal, limit: int = 50) -> list[Signal]:
    """The other alerts delivered with `signal`, in delivery order (bounded).

    Those first stored from the same delivery, and those of the same sender group (Alertmanager's
    and Grafana's `groupKey`, same integration) received within `GROUP_WINDOW` of it. Alerts
    about the alerting pipeline itself (Watchdog) and test notifications are left out.
    """
    together = Q(first_payload_id=signal.first_payload_id) if signal.first_payload_id else Q(pk__in=[])
    group_key = (signal.group or {}).get("groupKey") if isinstance(signal.group, dict) else None
    if group_key and isinstance(group_key, str):
        together |= Q(
            source=signal.source,
            integration_id=signal.integration_id,
            group__groupKey=group_key,
            last_received_at__gte=signal.first_received_at - GROUP_WINDOW,
            first_received_at__lte=signal.last_received_at + GROUP_WINDOW,
        )
    return list(
        Signal.objects.filter(together)
        .exclude(pk=signal.pk)
        .exclude(pipeline=True)
        .exclude(test=True)
        .order_by("first_received_at", "pk")[:limit]
    )


def signal_related_payloads(signal: Signal, limit: int = 20) -> list[RawPayload]:
    """Deliveries that mention this signal's series since it first arrived, newest first (bounded).

    A heuristic (the body names the sender's fingerprint, else the alert name): payloads are not
    linked to every signal they touched, only the first one is.
    """
    if not signal.integration_id:
        return [signal.first_payload] if signal.first_payload else []
    return list(
        RawPayload.objects.filter(
            integration_id=signal.integration_id,
            received_at__gte=signal.first_received_at - timedelta(seconds=1),
        )
        .filter(body__contains=signal.native_fingerprint or signal.alertname[:100])
        .defer("body", "headers")
        .order_by("-received_at")[:limit]
    )


def integration_recent_payloads(integration: Integration, limit: int = 20) -> list[RawPayload]:
    """The integration's latest accepted deliveries, without their bodies (bounded)."""
    return list(
        RawPayload.objects.filter(integration=integration)
        .defer("body", "headers")
        .order_by("-received_at")[:limit]
    )


def signals_count(organization, since) -> int:
    """Every signal of the organization (a usage figure registered with tenants.quotas in alerts/apps.py)."""
    return Signal.objects.count()
