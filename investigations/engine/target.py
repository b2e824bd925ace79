"""Stage 1, extract: which cluster, namespace and resource the alert is about.

One alert (`alert_candidates`): labels first (what the monitoring system names), then the signal's
normalized fields, then what its text mentions. Exporter plumbing labels (the kube-state-metrics
`service`, scrape `job`) are not targets, nor is Datadog's `service` tag (an APM service name:
`kube_service` is the Kubernetes one), and the monitoring stack's own pods come last.

A group (`target_candidates`): the alert an investigation starts from and the other alerts that
arrived with it (`fields["group"]`) are all entry points; see `target_candidates` for the order.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from alerts.sources.kubernetes_fields import is_monitoring_component

# The kinds an investigation can be about (the "new investigation" form, the extraction model).
TARGET_KINDS = (
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "Ingress",
    "Node",
    "HorizontalPodAutoscaler",
    "PersistentVolumeClaim",
)
# A Kubernetes object or namespace name (DNS subdomain, lower case).
RESOURCE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

# Label → kind, most specific first (OpenTelemetry's `k8s_<kind>_name` beside kube-state-metrics').
_LABEL_KINDS = (
    ("pod", "Pod"),
    ("job_name", "Job"),
    ("k8s_job_name", "Job"),
    ("cronjob", "CronJob"),
    ("k8s_cronjob_name", "CronJob"),
    ("statefulset", "StatefulSet"),
    ("k8s_statefulset_name", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("k8s_daemonset_name", "DaemonSet"),
    ("deployment", "Deployment"),
    ("k8s_deployment_name", "Deployment"),
    ("horizontalpodautoscaler", "HorizontalPodAutoscaler"),
    ("persistentvolumeclaim", "PersistentVolumeClaim"),
    ("ingress", "Ingress"),
    ("service", "Service"),
    ("node", "Node"),
)
# Datadog tags that name a Kubernetes object the normalized fields have no place for.
_DATADOG_TAG_KINDS = (("kube_service", "Service"), ("kube_ingress", "Ingress"))
_EXPORTER_SERVICE = re.compile(
    r"(kube-state-metrics|node-exporter|prometheus|kubelet|alertmanager|blackbox)", re.I
)
# Traefik names services "<namespace>-<service>-<port>@kubernetes".
_TRAEFIK_SERVICE = re.compile(r"^(?P<rest>.+)-(?P<port>\d+)@kubernetes(crd)?$")
# A group is read up to this many alerts (a sender may group a whole cluster's alerts).
MAX_GROUP_ALERTS = 50


@dataclasses.dataclass
class Target:
    cluster: str = ""
    namespace: str = ""
    kind: str = ""
    name: str = ""
    container: str = ""
    method: str = ""  # label | signal | text | none | model
    alertname: str = ""
    text: str = ""  # summary + description, for analyzers that read the alert's words
    # Which alert of the group named it: 0 is the one the investigation started from.
    alert_index: int = 0
    # A pod or workload of the monitoring stack itself (the scraper, not what it reports on).
    monitoring: bool = False
    # A workload named without its kind: Deployment is assumed, the other controllers are tried too.
    kind_assumed: bool = False
    # How the target was settled when not straight from the alert (a gone pod's owner, ...).
    note: str = ""
    # What was looked up in the cluster and does not exist: the answer is then "not found".
    not_found: list[str] = dataclasses.field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.kind and self.name)

    @property
    def level(self) -> int:
        """0: a resource to inspect; 1: a namespace only; 2: a resource without a namespace; 3: nothing."""
        if self.known and (self.namespace or self.kind == "Node"):
            return 0
        if self.namespace:
            return 1
        return 2 if self.known else 3

    def describe(self) -> str:
        if self.known:
            where = "" if self.kind == "Node" or not self.namespace else f"{self.namespace}/"
            return f"{self.kind} {where}{self.name}"
        return f"namespace {self.namespace}" if self.namespace else "nothing"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "cluster": self.cluster,
            "namespace": self.namespace,
            "kind": self.kind,
            "name": self.name,
            "container": self.container,
            "method": self.method,
        }
        if self.alertname:
            data["alert"] = self.alertname
        if self.note:
            data["note"] = self.note
        if self.not_found:
            data["not_found"] = list(self.not_found)
        return data


def target_from_fields(fields: Mapping[str, Any]) -> Target:
    """The target one alert names (its best candidate); `method == "none"` when it names no resource."""
    return alert_candidates(fields)[0]


def alert_candidates(fields: Mapping[str, Any], index: int = 0) -> list[Target]:
    """Every resource one signal-like mapping names, best first; one namespace-only entry if none.

    Order: labels by `_LABEL_KINDS`, then the signal's pod, workload and node, then what its text
    mentions; the monitoring stack's own pods and workloads after everything else.
    """
    labels = {str(k): str(v) for k, v in (fields.get("labels") or {}).items()}
    extraction = fields.get("extraction") or {}
    namespace = fields.get("namespace") or labels.get("namespace") or labels.get("exported_namespace") or ""
    base = Target(
        cluster=fields.get("cluster") or labels.get("cluster") or "",
        namespace=namespace,
        container=fields.get("container") or labels.get("container") or "",
        alertname=fields.get("alertname") or labels.get("alertname") or "",
        text=" ".join(filter(None, [fields.get("summary") or "", fields.get("description") or ""])),
        alert_index=index,
    )
    found: list[Target] = []

    def add(kind: str, name: str, method: str, *, assumed: bool = False) -> None:
        if any(t.kind == kind and t.name == name for t in found):
            return
        found.append(
            dataclasses.replace(
                base,
                kind=kind,
                name=name,
                method=method,
                kind_assumed=assumed,
                monitoring=kind != "Node" and is_monitoring_component(name),
            )
        )

    datadog = fields.get("source") == "datadog"
    for label, kind, value in _label_resources(fields, labels, namespace):
        if label == "service" and datadog:
            continue  # Datadog's `service` tag is the APM service, not a Kubernetes Service
        add(kind, value, "label")
    if datadog:
        for tag, kind in _DATADOG_TAG_KINDS:
            if labels.get(tag):
                add(kind, labels[tag].split(",")[0], "label")
    method = {"text": "text"}
    if fields.get("pod"):
        add("Pod", fields["pod"], method.get(extraction.get("pod", ""), "signal"))
    if fields.get("workload"):
        add(
            fields.get("workload_kind") or "Deployment",
            fields["workload"],
            method.get(extraction.get("workload", ""), "signal"),
            assumed=not fields.get("workload_kind"),
        )
    if fields.get("node"):
        add("Node", fields["node"], method.get(extraction.get("node", ""), "signal"))
    if not any(t.kind != "Node" and not t.monitoring for t in found):
        for kind, namespace_named, name in _text_resources(base.text):
            if namespace_named and not base.namespace:
                base.namespace = namespace_named
            add(kind, name, "text")
            found[-1].namespace = namespace_named or base.namespace
    if any(t.kind != "Node" and not t.monitoring for t in found):
        # A pod's or workload's node is context (where it runs), not what the alert is about.
        found = [t for t in found if t.kind != "Node"]
    if not found:
        return [dataclasses.replace(base, method="none")]
    # Stable: within each group the order above holds.
    return sorted(found, key=lambda t: (t.monitoring, t.method == "text"))


# Kinds the normalized fields have no place for, as alert text names them ("ingress shop/web",
# "namespace shop, ingress web"). Pods and workloads in text are the sources' business.
_TEXT_KINDS = {
    "ingress": "Ingress",
    "service": "Service",
    "svc": "Service",
    "hpa": "HorizontalPodAutoscaler",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "pvc": "PersistentVolumeClaim",
    "persistentvolumeclaim": "PersistentVolumeClaim",
}
_NAME = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
_NS = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
_TEXT_WITH_NAMESPACE = re.compile(
    rf"\b(?P<kind>(?i:{'|'.join(_TEXT_KINDS)}))(?:\s+|\s*[:=]\s*)[\"'`]?(?P<ns>{_NS})/(?P<name>{_NAME})"
    r"[\"'`]?(?![A-Za-z0-9_/-])"
)
# Only "ingress <name>" alone: "service <word>" is too common in prose.
_TEXT_INGRESS = re.compile(
    rf"\b(?i:ingress)(?:\s+|\s*[:=]\s*)[\"'`]?(?P<name>{_NAME})[\"'`]?(?![A-Za-z0-9_/-])"
)
_NOT_NAMES = frozenset(
    (  # noqa: SIM905
        "a an and are as at be by class classes controller controllers for from gateway has in is it "
        "its not of on or rule rules that the to traffic was with"
    ).split()
)


def _text_resources(text: str) -> list[tuple[str, str, str]]:
    """(kind, namespace or "", name) of the ingresses, services, HPAs and PVCs `text` names."""
    head = text[:8192]
    found = [
        (_TEXT_KINDS[m["kind"].lower()], m["ns"], m["name"]) for m in _TEXT_WITH_NAMESPACE.finditer(head)
    ]
    found += [("Ingress", "", m["name"]) for m in _TEXT_INGRESS.finditer(head) if m["name"] not in _NOT_NAMES]
    return found[:3]


def _label_resources(
    fields: Mapping[str, Any], labels: dict[str, str], namespace: str
) -> list[tuple[str, str, str]]:
    """(label, kind, name) for every label of `_LABEL_KINDS` that names a resource."""
    # A signal's pod read from its labels wins over the `pod` label: when the series came from a
    # scraper in another namespace, the label is the scraper's pod and the normalized one (or
    # none) the subject's. Mappings without `extraction` (explicit targets, tests) use the label.
    if "extraction" in fields:
        from_labels = (fields.get("extraction") or {}).get("pod") == "label"
        pod = (fields.get("pod") or "") if from_labels else ""
    else:
        pod = labels.get("pod", "")
    result = []
    for label, kind in _LABEL_KINDS:
        value = pod if label == "pod" else labels.get(label)
        if not value:
            continue
        if label == "service":
            if _EXPORTER_SERVICE.search(value):
                continue
            match = _TRAEFIK_SERVICE.match(value)
            if match:
                rest = match.group("rest")
                value = rest[len(namespace) + 1 :] if namespace and rest.startswith(namespace + "-") else rest
        if label == "node" and pod:
            continue  # the pod's node is context, not the target
        result.append((label, kind, value))
    return result


def target_candidates(fields: Mapping[str, Any]) -> list[Target]:
    """Every target the alert and the other alerts of its group name, best first.

    `fields` is the alert the investigation started from; `fields["group"]` the other alerts
    delivered with it (same payload or sender group), in their order. Ranked by:

    1. the monitoring stack's own pods and workloads last;
    2. a resource with its namespace (or a Node), then a namespace alone, then a resource without
       a namespace; a resource's missing namespace is the one the group names most, when one does;
    3. firing alerts before resolved ones, what labels say before what text mentions;
    4. the alert the investigation started from first, then the namespace most alerts of the group
       name, then each alert's own order, then the group's order.
    """
    alerts = [fields, *list(fields.get("group") or [])[:MAX_GROUP_ALERTS]]
    per_alert = [alert_candidates(alert, index) for index, alert in enumerate(alerts)]
    votes: Counter[str] = Counter()
    for candidates in per_alert:
        best = next((t for t in candidates if not t.monitoring and t.namespace), None)
        if best is not None:
            votes[best.namespace] += 1
    ranked = votes.most_common(2)
    group_namespace = ranked[0][0] if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]) else ""
    entries: list[tuple[tuple, Target]] = []
    for candidates in per_alert:
        for position, target in enumerate(candidates):
            if target.known and target.kind != "Node" and not target.namespace and group_namespace:
                target.namespace = group_namespace
                target.note = f"namespace {group_namespace} from the other alerts of the group"
            firing = (alerts[target.alert_index].get("status") or "firing") == "firing"
            key = (
                target.monitoring,
                target.level,
                not firing,
                target.method == "text",
                target.alert_index != 0,
                -votes.get(target.namespace, 0),
                position,
                target.alert_index,
            )
            entries.append((key, target))
    entries.sort(key=lambda entry: entry[0])
    chosen = [target for _, target in entries]
    text = " ".join(t.text for t in _first_per_alert(chosen) if t.text)
    for target in chosen:
        target.text = text  # the group's words, the chosen alert's first
    return chosen


def _first_per_alert(targets: list[Target]) -> list[Target]:
    seen: set[int] = set()
    result = []
    for target in targets:
        if target.alert_index not in seen:
            seen.add(target.alert_index)
            result.append(target)
    return result


def group_size(fields: Mapping[str, Any]) -> int:
    """How many alerts the extract stage considers: the investigated one and its group."""
    return 1 + len(list(fields.get("group") or [])[:MAX_GROUP_ALERTS])
