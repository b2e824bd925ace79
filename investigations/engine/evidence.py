"""What the engine knows about the cluster around an alert, and the evidence it can cite.

`ClusterView` indexes the objects, events, logs and metrics that were read (through the agent or
from a scenario snapshot) and answers the questions an SRE asks: who owns this pod, which pods
does this Service select, what changed recently. `EvidenceLog` numbers the facts a result cites.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

CLUSTER_SCOPED = {
    "Node",
    "PersistentVolume",
    "StorageClass",
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "NodeMetrics",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet")


@dataclasses.dataclass(frozen=True, order=True)
class Ref:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}

    @classmethod
    def of(cls, obj: dict) -> Ref:
        meta = obj.get("metadata") or {}
        kind = obj.get("kind", "")
        return cls(
            kind, "" if kind in CLUSTER_SCOPED else meta.get("namespace") or "", meta.get("name") or ""
        )


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_quantity(value: Any) -> float | None:
    """Kubernetes quantity → bytes (memory) or cores (cpu); None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    units = {
        "Ki": 1024,
        "Mi": 1024**2,
        "Gi": 1024**3,
        "Ti": 1024**4,
        "Pi": 1024**5,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "m": 1e-3,
        "n": 1e-9,
        "u": 1e-6,
    }
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * units[suffix]
            except ValueError:
                return None
    try:
        return float(text)
    except ValueError:
        return None


def human_age(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def labels_match(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """An equality selector (Service spec.selector, matchLabels) against labels; empty selects nothing."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(key) == value for key, value in selector.items())


def selector_matches(selector: dict | None, labels: dict[str, str] | None) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against labels."""
    if not selector:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


class ClusterView:
    """Indexed, read-only view of what was collected."""

    def __init__(
        self,
        objects: Iterable[dict],
        *,
        logs: dict[tuple[str, str, str], str] | None = None,
        previous_logs: dict[tuple[str, str, str], str] | None = None,
        now: datetime | None = None,
        metrics_available: bool = False,
    ):
        self.objects: dict[Ref, dict] = {}
        self.by_uid: dict[str, dict] = {}
        self.by_kind: dict[str, list[dict]] = {}
        for obj in objects:
            if not isinstance(obj, dict) or not obj.get("kind"):
                continue
            ref = Ref.of(obj)
            if ref in self.objects:
                continue
            self.objects[ref] = obj
            self.by_kind.setdefault(ref.kind, []).append(obj)
            uid = (obj.get("metadata") or {}).get("uid")
            if uid:
                self.by_uid[uid] = obj
        self.logs = logs or {}
        self.previous_logs = previous_logs or {}
        self.now = now or datetime.now(UTC)
        self.metrics_available = metrics_available

    # -- lookups ---------------------------------------------------------------------------------

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        return self.objects.get(Ref(kind, "" if kind in CLUSTER_SCOPED else namespace or "", name))

    def all(self, kind: str, namespace: str | None = None) -> list[dict]:
        items = self.by_kind.get(kind, [])
        if namespace is None or kind in CLUSTER_SCOPED:
            return list(items)
        return [o for o in items if (o.get("metadata") or {}).get("namespace") == namespace]

    def age_seconds(self, timestamp: Any) -> float | None:
        when = parse_time(timestamp)
        return None if when is None else (self.now - when).total_seconds()

    # -- ownership -------------------------------------------------------------------------------

    def owner(self, obj: dict) -> dict | None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            found = self.by_uid.get(ref.get("uid", ""))
            if found is None:
                found = self.get(
                    ref.get("kind", ""), (obj.get("metadata") or {}).get("namespace", ""), ref.get("name", "")
                )
            if found is not None:
                return found
        return None

    def owner_chain(self, obj: dict) -> list[dict]:
        """obj's owners, nearest first (Pod → ReplicaSet → Deployment)."""
        chain, seen, current = [], set(), obj
        while (parent := self.owner(current)) is not None and id(parent) not in seen:
            seen.add(id(parent))
            chain.append(parent)
            current = parent
        return chain

    def top_owner(self, obj: dict) -> dict:
        chain = self.owner_chain(obj)
        return chain[-1] if chain else obj

    def owned_by(self, owner: dict, kind: str | None = None) -> list[dict]:
        uid = (owner.get("metadata") or {}).get("uid")
        result = []
        for candidate in self.objects.values():
            if kind and candidate.get("kind") != kind:
                continue
            for ref in (candidate.get("metadata") or {}).get("ownerReferences") or []:
                if (uid and ref.get("uid") == uid) or (
                    not uid and ref.get("kind") == owner.get("kind") and ref.get("name") == Ref.of(owner).name
                ):
                    result.append(candidate)
                    break
        return result

    def pods_of(self, workload: dict) -> list[dict]:
        """Pods a workload runs (through ReplicaSets/Jobs for Deployments/CronJobs), else by selector."""
        kind = workload.get("kind")
        if kind == "Pod":
            return [workload]
        pods = []
        if kind in ("Deployment", "CronJob"):
            for child in self.owned_by(workload):
                pods.extend(self.owned_by(child, "Pod"))
        else:
            pods = self.owned_by(workload, "Pod")
        if not pods:
            selector = (workload.get("spec") or {}).get("selector")
            namespace = Ref.of(workload).namespace
            if selector and kind in WORKLOAD_KINDS:
                pods = [p for p in self.all("Pod", namespace) if selector_matches(selector, _labels(p))]
        return pods

    # -- services and routing --------------------------------------------------------------------

    def services_selecting(self, pod: dict) -> list[dict]:
        namespace = Ref.of(pod).namespace
        return [
            s
            for s in self.all("Service", namespace)
            if labels_match((s.get("spec") or {}).get("selector"), _labels(pod))
        ]

    def pods_selected_by(self, service: dict) -> list[dict]:
        namespace = Ref.of(service).namespace
        selector = (service.get("spec") or {}).get("selector")
        return [p for p in self.all("Pod", namespace) if labels_match(selector, _labels(p))]

    def endpoints(self, service: dict) -> tuple[int, int]:
        """(ready, not ready) addresses of a Service, from Endpoints or EndpointSlices."""
        ref = Ref.of(service)
        endpoints = self.get("Endpoints", ref.namespace, ref.name)
        if endpoints is not None:
            ready = sum(len(s.get("addresses") or []) for s in endpoints.get("subsets") or [])
            not_ready = sum(len(s.get("notReadyAddresses") or []) for s in endpoints.get("subsets") or [])
            return ready, not_ready
        ready = not_ready = 0
        for piece in self.all("EndpointSlice", ref.namespace):
            if _labels(piece).get("kubernetes.io/service-name") != ref.name:
                continue
            for endpoint in piece.get("endpoints") or []:
                if (endpoint.get("conditions") or {}).get("ready", True):
                    ready += 1
                else:
                    not_ready += 1
        return ready, not_ready

    def ingress_backends(self, ingress: dict) -> list[tuple[str, Any, str]]:
        """(service name, port number or name, path/host description) for every backend of an Ingress."""
        spec = ingress.get("spec") or {}
        backends = []
        default = (spec.get("defaultBackend") or {}).get("service")
        if default:
            port = default.get("port") or {}
            backends.append(
                (default.get("name", ""), port.get("number") or port.get("name"), "default backend")
            )
        for rule in spec.get("rules") or []:
            for path in ((rule.get("http") or {}).get("paths")) or []:
                service = (path.get("backend") or {}).get("service") or {}
                port = service.get("port") or {}
                where = f"{rule.get('host', '*')}{path.get('path', '/')}"
                backends.append((service.get("name", ""), port.get("number") or port.get("name"), where))
        return backends

    # -- events and logs -------------------------------------------------------------------------

    def events_for(self, obj: dict) -> list[dict]:
        ref = Ref.of(obj)
        uid = (obj.get("metadata") or {}).get("uid")
        found = []
        for event in self.by_kind.get("Event", []):
            involved = event.get("involvedObject") or event.get("regarding") or {}
            if involved.get("kind") != ref.kind or involved.get("name") != ref.name:
                continue
            if ref.namespace and (involved.get("namespace") or "") not in ("", ref.namespace):
                continue
            if uid and involved.get("uid") and involved.get("uid") != uid:
                continue
            found.append(event)
        return sorted(found, key=_event_time)

    def events_in(self, namespace: str | None = None) -> list[dict]:
        events = self.by_kind.get("Event", [])
        if namespace is not None:
            events = [e for e in events if (e.get("metadata") or {}).get("namespace") == namespace]
        return sorted(events, key=_event_time)

    def log(self, pod: dict, container: str, *, previous: bool = False) -> str:
        ref = Ref.of(pod)
        source = self.previous_logs if previous else self.logs
        return source.get((ref.namespace, ref.name, container), "")

    def node_of(self, pod: dict) -> dict | None:
        node_name = (pod.get("spec") or {}).get("nodeName")
        return self.get("Node", "", node_name) if node_name else None

    def metrics_for(self, pod: dict) -> dict | None:
        ref = Ref.of(pod)
        return self.get("PodMetrics", ref.namespace, ref.name)


def _labels(obj: dict) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _event_time(event: dict) -> str:
    return event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or ""


def labels_of(obj: dict) -> dict[str, str]:
    return _labels(obj)


def event_time(event: dict) -> str:
    return _event_time(event)


@dataclasses.dataclass
class EvidenceItem:
    id: str
    kind: str  # status, event, log, previous_log, spec, change, metric, endpoints, config
    resource: Ref
    excerpt: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "resource": self.resource.as_dict(),
            "excerpt": self.excerpt,
        }


class EvidenceLog:
    """Numbered facts (E1, E2, …) that findings cite; the same fact is cited once."""

    MAX_EXCERPT = 1500

    def __init__(self):
        self.items: list[EvidenceItem] = []
        self._index: dict[tuple[str, Ref, str], str] = {}

    def cite(self, kind: str, resource: Ref, excerpt: str) -> str:
        excerpt = excerpt.strip()
        if len(excerpt) > self.MAX_EXCERPT:
            excerpt = excerpt[: self.MAX_EXCERPT] + " …"
        key = (kind, resource, excerpt)
        if key in self._index:
            return self._index[key]
        item = EvidenceItem(f"E{len(self.items) + 1}", kind, resource, excerpt)
        self.items.append(item)
        self._index[key] = item.id
        return item.id


@dataclasses.dataclass
class Contributing:
    resource: Ref
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource.as_dict(), "detail": self.detail}


@dataclasses.dataclass
class Finding:
    """One candidate root cause produced by an analyzer."""

    category: str
    resource: Ref
    confidence: float  # 0..1
    summary: str
    explanation: str  # cites evidence ids like [E3]
    evidence: list[str] = dataclasses.field(default_factory=list)
    contributing: list[Contributing] = dataclasses.field(default_factory=list)
    facts: dict[str, Any] = dataclasses.field(default_factory=dict)
    recommendations: list[Any] = dataclasses.field(default_factory=list)  # kubectl.Recommendation
    analyzer: str = ""
