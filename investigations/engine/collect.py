"""Reading the cluster through the agent, in a few batched rounds (one agent round trip each).

    round 1  every allow-listed kind in the target's namespace + cluster-scoped kinds + metrics
    round 2  the same for other namespaces the first round points at (ExternalName Services,
             `<svc>.<namespace>.svc` hosts in env, ConfigMaps and Ingresses)
    round 3  current and previous logs of the in-scope containers that fail or restarted
    round 4  only when the logs name them: namespaces of `<svc>.<namespace>.svc` hosts not read yet,
             and the cluster DNS (kube-system's Services, pods, ConfigMaps, events and the DNS
             pods' logs) when lookups fail

Batching keeps an investigation to three agent round trips (five when DNS fails) whatever the
namespace holds. A kind the agent refuses or the cluster lacks (no metrics API) is a recorded gap,
not a failure; an add-on whose CRDs are not installed (cert-manager, Kyverno) is recorded as such.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from investigations.engine.evidence import ClusterView, Ref
from investigations.engine.facts import container_states
from investigations.engine.name_resolution import any_failed_lookup

NAMESPACED_KINDS = (
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "Ingress",
    "ConfigMap",
    "PersistentVolumeClaim",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Event",
    "Certificate",
    "CertificateRequest",
    "Issuer",
    "Order",
    "Challenge",
    "Policy",
)
CLUSTER_KINDS = (
    "Node",
    "PersistentVolume",
    "StorageClass",
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ClusterIssuer",
    "ClusterPolicy",
)
# Kinds a cluster serves only with an add-on (or a recent Kubernetes): `not_found` means "not installed".
ADDON_KINDS = frozenset(
    {
        "Certificate",
        "CertificateRequest",
        "Issuer",
        "ClusterIssuer",
        "Order",
        "Challenge",
        "Policy",
        "ClusterPolicy",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)
# What the cluster DNS round reads in its namespace.
DNS_NAMESPACE = "kube-system"
DNS_KINDS = (
    "Pod",
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "ConfigMap",
    "NetworkPolicy",
    "Event",
)
MAX_DNS_LOG_PODS = 4
METRIC_KINDS = ("PodMetrics",)
LOG_TAIL_LINES = 300
MAX_LOG_CONTAINERS = 24
MAX_EXTRA_NAMESPACES = 4
_SVC_HOST = re.compile(r"\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\b")


@dataclasses.dataclass
class Ask:
    """One read the engine wants; mirrors the gateway's CommandSpec without importing it."""

    op: str
    kind: str
    namespace: str | None = None
    name: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        where = f" -n {self.namespace}" if self.namespace else ""
        extra = " ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.op} {self.kind}{' ' + self.name if self.name else ''}{where} {extra}".strip()


@dataclasses.dataclass
class Answer:
    ask: Ask
    ok: bool
    data: Any = None
    error: str = ""
    truncated: bool = False
    redactions: int = 0


Reader = Callable[[list[Ask]], list[Answer]]


@dataclasses.dataclass
class RoundReport:
    """What one round asked and got: recorded as (part of) an investigation step."""

    name: str
    asked: list[str] = dataclasses.field(default_factory=list)
    objects: int = 0
    gaps: list[str] = dataclasses.field(default_factory=list)
    not_installed: list[str] = dataclasses.field(default_factory=list)  # add-on kinds the cluster lacks
    truncated: list[str] = dataclasses.field(default_factory=list)
    redactions: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Collector:
    """Accumulates what the rounds read and builds the ClusterView analyzers use."""

    def __init__(self, read: Reader, *, now=None):
        self.read = read
        self.objects: list[dict] = []
        self.logs: dict[tuple[str, str, str], str] = {}
        self.previous_logs: dict[tuple[str, str, str], str] = {}
        self.namespaces_read: set[str] = set()
        # (kind, namespace or "") of every complete list the agent answered: only there can an
        # object's absence be told from a read that failed.
        self.listed: set[tuple[str, str]] = set()
        self.metrics_available = False
        self.now = now
        self.reports: list[RoundReport] = []

    def view(self) -> ClusterView:
        return ClusterView(
            self.objects,
            logs=self.logs,
            previous_logs=self.previous_logs,
            now=self.now,
            metrics_available=self.metrics_available,
        )

    def _run(self, name: str, asks: list[Ask]) -> list[Answer]:
        started = time.perf_counter()
        answers = self.read(asks) if asks else []
        report = RoundReport(name, [a.describe() for a in asks])
        for answer in answers:
            report.redactions += answer.redactions
            if answer.truncated:
                report.truncated.append(answer.ask.describe())
            if not answer.ok and answer.ask.kind in ADDON_KINDS and answer.error.startswith("not_found"):
                if answer.ask.kind not in report.not_installed:
                    report.not_installed.append(answer.ask.kind)
            elif not answer.ok:
                report.gaps.append(f"{answer.ask.describe()}: {answer.error}")
        report.seconds = time.perf_counter() - started
        self.reports.append(report)
        return answers

    def _take_lists(self, answers: Iterable[Answer], report: RoundReport) -> None:
        for answer in answers:
            if not answer.ok or answer.ask.op != "list":
                continue
            if not answer.ask.params and not answer.truncated:
                self.listed.add((answer.ask.kind, answer.ask.namespace or ""))
            items = (answer.data or {}).get("items") if isinstance(answer.data, dict) else None
            for item in items or []:
                if isinstance(item, dict):
                    item.setdefault("kind", answer.ask.kind)
                    self.objects.append(item)
                    report.objects += 1
            if answer.ask.kind in METRIC_KINDS and items is not None:
                self.metrics_available = True

    # -- rounds ----------------------------------------------------------------------------------

    def namespace_round(self, namespace: str, *, cluster_scoped: bool, name: str = "topology") -> RoundReport:
        asks = [Ask("list", kind, namespace) for kind in NAMESPACED_KINDS + METRIC_KINDS]
        if cluster_scoped:
            asks += [Ask("list", kind) for kind in CLUSTER_KINDS]
        answers = self._run(name, asks)
        self._take_lists(answers, self.reports[-1])
        self.namespaces_read.add(namespace)
        return self.reports[-1]

    def was_listed(self, kind: str, namespace: str) -> bool:
        """Whether every `kind` object of `namespace` ("" for cluster-scoped kinds) was read."""
        return (kind, namespace) in self.listed

    def node_pods_round(self, node: str) -> RoundReport:
        """For a Node target: the pods scheduled on it, in every namespace."""
        answers = self._run(
            "pods on the node", [Ask("list", "Pod", None, params={"field_selector": f"spec.nodeName={node}"})]
        )
        self._take_lists(answers, self.reports[-1])
        return self.reports[-1]

    def referenced_namespaces(self) -> list[str]:
        """Other namespaces the objects read so far point at (bounded)."""
        known = {(o.get("metadata") or {}).get("name") for o in self.objects if o.get("kind") == "Namespace"}
        found: list[str] = []

        def consider(text: str) -> None:
            for match in _SVC_HOST.finditer(text or ""):
                namespace = match.group(3)
                if (
                    namespace not in self.namespaces_read
                    and namespace not in found
                    and (not known or namespace in known)
                ):
                    found.append(namespace)

        for obj in self.objects:
            kind = obj.get("kind")
            if kind == "Service" and (obj.get("spec") or {}).get("type") == "ExternalName":
                consider((obj.get("spec") or {}).get("externalName", ""))
            elif kind == "ConfigMap":
                for value in (obj.get("data") or {}).values():
                    consider(str(value)[:20000])
            elif kind in ("Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob"):
                consider(str(obj.get("spec"))[:50000])
        return found[:MAX_EXTRA_NAMESPACES]

    def log_namespaces(self) -> list[str]:
        """Namespaces of `<svc>.<namespace>.svc` hosts the logs name that were not read yet (bounded)."""
        known = {(o.get("metadata") or {}).get("name") for o in self.objects if o.get("kind") == "Namespace"}
        found: list[str] = []
        for text in list(self.logs.values()) + list(self.previous_logs.values()):
            for match in _SVC_HOST.finditer(text[-200_000:]):
                namespace = match.group(3)
                if namespace in self.namespaces_read or namespace in found:
                    continue
                if not known or namespace in known:
                    found.append(namespace)
        return found[:MAX_EXTRA_NAMESPACES]

    def lookups_failed(self) -> bool:
        """Whether a log read so far reports a failed name lookup (see name_resolution)."""
        return any_failed_lookup(list(self.logs.values()) + list(self.previous_logs.values()))

    def dns_round(self) -> list[RoundReport]:
        """The cluster DNS: kube-system's Services, DNS pods, ConfigMaps, events; then the DNS pods' logs."""
        reports = []
        if DNS_NAMESPACE not in self.namespaces_read:
            answers = self._run("cluster DNS", [Ask("list", kind, DNS_NAMESPACE) for kind in DNS_KINDS])
            self._take_lists(answers, self.reports[-1])
            reports.append(self.reports[-1])
        pods = self.view().all("Pod", DNS_NAMESPACE)
        dns_pods = [p for p in pods if _serves_dns(p, self.view())][:MAX_DNS_LOG_PODS]
        read = {key[:2] for key in self.logs} | {key[:2] for key in self.previous_logs}
        dns_pods = [p for p in dns_pods if (Ref.of(p).namespace, Ref.of(p).name) not in read]
        if dns_pods:
            reports.append(self.logs_round(dns_pods, name="cluster DNS logs"))
        return reports

    def logs_round(self, pods: list[dict], *, name: str = "logs") -> RoundReport:
        asks: list[Ask] = []
        for pod in pods:
            ref = Ref.of(pod)
            for state in container_states(pod):
                if len(asks) >= MAX_LOG_CONTAINERS * 2:
                    break
                waiting_never_started = (
                    state.waiting_reason
                    in (
                        "ContainerCreating",
                        "CreateContainerConfigError",
                        "ErrImagePull",
                        "ImagePullBackOff",
                        "PodInitializing",
                    )
                    and state.restarts == 0
                )
                if waiting_never_started:
                    continue
                params = {"container": state.name, "tail_lines": LOG_TAIL_LINES}
                asks.append(Ask("logs", "Pod", ref.namespace, ref.name, dict(params)))
                if state.restarts > 0 or state.last_reason:
                    asks.append(Ask("logs", "Pod", ref.namespace, ref.name, {**params, "previous": True}))
        answers = self._run(name, asks)
        report = self.reports[-1]
        for answer in answers:
            if not answer.ok or not isinstance(answer.data, str):
                continue
            key = (answer.ask.namespace or "", answer.ask.name or "", answer.ask.params.get("container", ""))
            (self.previous_logs if answer.ask.params.get("previous") else self.logs)[key] = answer.data
            report.objects += 1
        return report


def _serves_dns(pod: dict, view: ClusterView) -> bool:
    """A pod that serves DNS: a container port 53 (CoreDNS, a node-local cache), or behind a Service on 53."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        if any(int(p.get("containerPort") or 0) == 53 for p in container.get("ports") or []):
            return True
    for service in view.services_selecting(pod):
        if any(int(p.get("port") or 0) == 53 for p in (service.get("spec") or {}).get("ports") or []):
            return True
    return False
