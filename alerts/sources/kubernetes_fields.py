"""Where an alert's Kubernetes facts (cluster, namespace, pod, container, workload, node) come from.

Structured facts first: each adapter maps its labels, tags or dimensions to the fields, and
those win (`extraction[field] = "label"`). Only the fields still empty are then looked for in
the alert's free text with a few conservative patterns (`extraction[field] = "text"`):

* ``pod payments/api-7d9f-abc`` (and ``Pod ns/name (container)`` as kubernetes-mixin writes it)
* ``Deployment payments/api``, ``StatefulSet ns/name``, ``DaemonSet``, ``Job``, ``CronJob``
* ``ingress shop/web``, ``service shop/api`` (also ``svc``, ``hpa``, ``pvc``): the namespace only
* ``pod/api-7d9f``, ``deployment/api`` (kubectl's kind/name)
* ``pod api-7d9f``, ``namespace shop``, ``container api``, ``node ip-10-0-1-5``,
  ``deployment api`` (also with ``=``/``:`` and quotes)

Names must be valid Kubernetes names (lower case), common English words right after the
keyword ("pod is restarting") are ignored, and only the first 8 KiB of each text is read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping

from alerts.sources.base import METHOD_LABEL, METHOD_TEXT, NormalizedAlert

KUBERNETES_FIELDS = ("cluster", "namespace", "pod", "container", "workload", "workload_kind", "node")

# Prometheus label -> workload kind, top-level controller first (CronJob over Job, Deployment over
# ReplicaSet): the name people know and configure. kube-state-metrics names, then OpenTelemetry's
# `k8s.<kind>.name` resource attributes as Prometheus spells them.
_WORKLOAD_LABELS = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("cronjob", "CronJob"),
    ("job_name", "Job"),
    ("replicaset", "ReplicaSet"),
    ("k8s_deployment_name", "Deployment"),
    ("k8s_statefulset_name", "StatefulSet"),
    ("k8s_daemonset_name", "DaemonSet"),
    ("k8s_cronjob_name", "CronJob"),
    ("k8s_job_name", "Job"),
    ("k8s_replicaset_name", "ReplicaSet"),
)
# kube-prometheus recording rules (namespace_workload_pod:kube_pod_owner:relabel) say it this way.
_WORKLOAD_TYPES = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "job": "Job",
    "cronjob": "CronJob",
    "replicaset": "ReplicaSet",
}
_TEXT_LIMIT = 8192
# Label names per field, in order: kube-state-metrics/cAdvisor, the kubernetes_sd relabelling of the
# Prometheus example configs (`kubernetes_namespace`, `kubernetes_pod_name`), OpenTelemetry
# (`k8s_namespace_name`, ...), cAdvisor before Kubernetes 1.16 (`pod_name`, `container_name`), then
# what Prometheus renamed on a clash with the scrape target's own label (`exported_*`).
_FIELD_LABELS = {
    "cluster": ("cluster", "k8s_cluster_name"),
    "namespace": ("namespace", "kubernetes_namespace", "k8s_namespace_name", "exported_namespace"),
    "pod": ("pod", "kubernetes_pod_name", "k8s_pod_name", "pod_name", "exported_pod"),
    "container": (
        "container",
        "kubernetes_container_name",
        "k8s_container_name",
        "container_name",
        "exported_container",
    ),
    "node": ("node", "k8s_node_name", "exported_node"),
}
# Objects a series names by label; their namespace is the series' own one (see _scraped_from_elsewhere).
_OBJECT_LABELS = (
    *(key for key, _ in _WORKLOAD_LABELS),
    "ingress",
    "persistentvolumeclaim",
    "horizontalpodautoscaler",
)
# The monitoring stack's own components: exporters, scrapers and agents whose pods, containers,
# jobs and services appear as labels of the series they collect about *other* objects.
MONITORING_COMPONENT = re.compile(
    r"kube-state-metrics|node-exporter|prometheus|alertmanager|blackbox|pushgateway|"
    r"otel-?collector|opentelemetry-collector|grafana-agent|\balloy\b|vmagent|victoria-?metrics|"
    r"datadog-agent|telegraf|kube-rbac-proxy",
    re.IGNORECASE,
)


def is_monitoring_component(name: str) -> bool:
    """True for a pod, container, job or service name of the monitoring stack itself."""
    return bool(name) and len(name) <= 253 and MONITORING_COMPONENT.search(name) is not None


def from_prometheus_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Kubernetes fields named by Prometheus/kube-state-metrics/OpenTelemetry style labels.

    The first label of each field's conventions wins (`_FIELD_LABELS`), except when the series
    was scraped from another namespace's component (`_scraped_from_elsewhere`): then `namespace`,
    `pod` and `container` are that scraper's, and the series' own `exported_*` labels are the
    alert's subject. `instance` counts as the node only when it is clearly one: a host name, not
    host:port, not an IP address, on a node-level scrape job (node-exporter, kubelet).
    """
    found: dict[str, str] = {}
    elsewhere = _scraped_from_elsewhere(labels)
    for field, keys in _FIELD_LABELS.items():
        if elsewhere and field in ("namespace", "pod", "container"):
            # The scraper's own labels say nothing about the subject; the series' own ones do.
            keys = tuple(key for key in keys if key != field)
            keys = (f"exported_{field}", *keys)
        value = next((labels[key] for key in keys if labels.get(key)), "")
        if value:
            found[field] = value
    for key, kind in _WORKLOAD_LABELS:
        if labels.get(key):
            found["workload"], found["workload_kind"] = labels[key], kind
            break
    else:
        if labels.get("workload"):
            found["workload"] = labels["workload"]
            found["workload_kind"] = _WORKLOAD_TYPES.get(labels.get("workload_type", "").lower(), "")
    if "node" not in found and _is_node_instance(labels):
        found["node"] = labels["instance"]
    return found


def _scraped_from_elsewhere(labels: Mapping[str, str]) -> bool:
    """True when `namespace` is the scrape target's and `exported_namespace` the subject's.

    Prometheus renames a series' own `namespace` to `exported_namespace` when the target it
    scrapes (kube-state-metrics in `monitoring`, an ingress controller, an OpenTelemetry collector)
    has one too. Both present is not proof on its own (an application may export a `namespace` of
    its own meaning), so one more sign is required: the series kept its own pod or container
    (`exported_pod`, `exported_container`), it names a Kubernetes object (`deployment`,
    `ingress`, ...), or the scrape target is a monitoring component.
    """
    exported = labels.get("exported_namespace", "")
    if not exported or not labels.get("namespace") or exported == labels.get("namespace"):
        return False
    if labels.get("exported_pod") or labels.get("exported_container"):
        return True
    if any(labels.get(key) for key in _OBJECT_LABELS):
        return True
    return any(is_monitoring_component(labels.get(key, "")) for key in ("pod", "container", "job", "service"))


def _is_node_instance(labels: Mapping[str, str]) -> bool:
    instance = labels.get("instance", "")
    job = labels.get("job", "").lower()
    if not instance or not ("node" in job or "kubelet" in job):
        return False
    if len(instance) > 253 or ":" in instance or "/" in instance:
        return False
    try:
        ipaddress.ip_address(instance)
    except ValueError:
        return bool(re.fullmatch(_NAME, instance))
    return False


_NAME = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
_NS = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
_Q = r"[\"'`]?"
_END = r"(?![A-Za-z0-9_-])"
_SEP = r"(?:\s+|\s*[:=]\s*)"
_KIND_WORDS = r"deployment|statefulset|daemonset|cronjob|job|replicaset"
_KINDS = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "cronjob": "CronJob",
    "job": "Job",
    "replicaset": "ReplicaSet",
}
# Words that follow "pod"/"node"/... in prose and are not names ("pod is not ready").
_STOPWORDS = frozenset(
    (  # noqa: SIM905
        "a an and are as at be been being by can could did does for from had has have in is it its "
        "keeps may might no not of on or should that the this to was were which will with without "
        "name names namespace pod pods container containers node nodes status ready running "
        "restarting restarted restarts failed failing crashing crashlooping level usage cannot "
        "memory cpu disk network utilization pressure"
    ).split()
)

_Handler = Callable[[re.Match[str]], dict[str, str] | None]


def _pod_with_namespace(match: re.Match[str]) -> dict[str, str]:
    found = {"namespace": match["ns"], "pod": match["name"]}
    if match["container"]:
        found["container"] = match["container"]
    return found


def _workload_with_namespace(match: re.Match[str]) -> dict[str, str]:
    kind = _KINDS[match["kind"].lower()]
    return {"namespace": match["ns"], "workload": match["name"], "workload_kind": kind}


def _single(field: str) -> _Handler:
    def handler(match: re.Match[str]) -> dict[str, str] | None:
        name = match["name"]
        return None if name in _STOPWORDS else {field: name}

    return handler


def _kubectl_style(match: re.Match[str]) -> dict[str, str]:
    kind = match["kind"].lower()
    if kind in ("pod", "node"):
        return {kind: match["name"]}
    return {"workload": match["name"], "workload_kind": _KINDS[kind]}


def _workload_single(match: re.Match[str]) -> dict[str, str] | None:
    name = match["name"]
    if name in _STOPWORDS:
        return None
    return {"workload": name, "workload_kind": _KINDS[match["kind"].lower()]}


_PATTERNS: tuple[tuple[re.Pattern[str], _Handler], ...] = (
    (
        re.compile(
            rf"\b(?i:pod){_SEP}{_Q}(?P<ns>{_NS})/(?P<name>{_NAME}){_Q}{_END}"
            rf"(?:\s*\((?P<container>{_NAME})\))?"
        ),
        _pod_with_namespace,
    ),
    (
        re.compile(rf"\b(?P<kind>(?i:{_KIND_WORDS})){_SEP}{_Q}(?P<ns>{_NS})/(?P<name>{_NAME}){_Q}{_END}"),
        _workload_with_namespace,
    ),
    # Other namespaced objects the fields have no place for still tell the namespace.
    (
        re.compile(
            rf"\b(?i:ingress|service|svc|hpa|pvc|persistentvolumeclaim){_SEP}{_Q}(?P<ns>{_NS})/(?P<name>{_NAME}){_Q}{_END}"
        ),
        lambda match: {"namespace": match["ns"]},
    ),
    # kubectl's kind/name: "pod/cart-6d8f9-zz81k", "deployment/checkout-web".
    (
        re.compile(rf"\b(?P<kind>(?i:pod|node|{_KIND_WORDS}))/(?P<name>{_NAME}){_END}(?!/)"),
        _kubectl_style,
    ),
    (re.compile(rf"\b(?i:pod){_SEP}{_Q}(?P<name>{_NAME}){_Q}{_END}(?!/)"), _single("pod")),
    (re.compile(rf"\b(?i:namespace){_SEP}{_Q}(?P<name>{_NS}){_Q}{_END}(?!/)"), _single("namespace")),
    (re.compile(rf"\b(?i:container){_SEP}{_Q}(?P<name>{_NAME}){_Q}{_END}"), _single("container")),
    (re.compile(rf"\b(?i:node){_SEP}{_Q}(?P<name>{_NAME}){_Q}{_END}"), _single("node")),
    # "job" alone is left out: in Prometheus text it is usually the scrape job.
    (
        re.compile(
            rf"\b(?P<kind>(?i:deployment|statefulset|daemonset|cronjob)){_SEP}{_Q}(?P<name>{_NAME}){_Q}{_END}(?!/)"
        ),
        _workload_single,
    ),
)


def from_text(texts: Iterable[str]) -> dict[str, str]:
    """Kubernetes fields mentioned in free text.

    The more specific forms win (``pod ns/name`` over ``pod name``), then the earlier text, then
    the earlier mention.
    """
    found: dict[str, str] = {}
    for text in texts:
        head = text[:_TEXT_LIMIT]
        for pattern, handler in _PATTERNS:
            for match in pattern.finditer(head):
                facts = handler(match)
                if facts is None:
                    continue
                # A workload and its kind travel together: never pair one mention's name with another's kind.
                if "workload" in facts and "workload" in found:
                    facts = {k: v for k, v in facts.items() if k not in ("workload", "workload_kind")}
                for field, value in facts.items():
                    found.setdefault(field, value)
    return found


def apply_kubernetes_fields(alert: NormalizedAlert, found: Mapping[str, str], texts: Iterable[str]) -> None:
    """Fill `alert`'s Kubernetes fields from `found` (structured) then from `texts`, recording how."""
    for field in KUBERNETES_FIELDS:
        value = found.get(field, "")
        if value:
            setattr(alert, field, value)
            alert.extraction[field] = METHOD_LABEL
    missing = [field for field in KUBERNETES_FIELDS if not getattr(alert, field)]
    if not missing:
        return
    mentioned = from_text(texts)
    if alert.workload:
        # The kind belongs to the structured workload even when it was unknown there.
        mentioned.pop("workload_kind", None)
    for field in missing:
        value = mentioned.get(field, "")
        if value:
            setattr(alert, field, value)
            alert.extraction[field] = METHOD_TEXT
