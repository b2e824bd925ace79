"""Where an alert's Kubernetes facts (cluster, namespace, pod, container, workload, node) come from.

Structured facts first: each adapter maps its labels, tags or dimensions to the fields, and
those win (`extraction[field] = "label"`). Only the fields still empty are then looked for in
the alert's free text with a few conservative patterns (`extraction[field] = "text"`):

* ``pod payments/api-7d9f-abc`` (and ``Pod ns/name (container)`` as kubernetes-mixin writes it)
* ``Deployment payments/api``, ``StatefulSet ns/name``, ``DaemonSet``, ``Job``, ``CronJob``
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
# ReplicaSet): the name people know and configure. kube-state-metrics names.
_WORKLOAD_LABELS = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("cronjob", "CronJob"),
    ("job_name", "Job"),
    ("replicaset", "ReplicaSet"),
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


def from_prometheus_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Kubernetes fields named by Prometheus/kube-state-metrics style labels.

    `namespace` beats `exported_namespace` (ingress-nginx keeps its own namespace there).
    `instance` counts as the node only when it is clearly one: a host name, not host:port, not
    an IP address, on a node-level scrape job (node-exporter, kubelet).
    """
    found: dict[str, str] = {}
    for field, keys in (
        ("cluster", ("cluster",)),
        ("namespace", ("namespace", "exported_namespace")),
        ("pod", ("pod",)),
        ("container", ("container",)),
        ("node", ("node",)),
    ):
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
        "restarting restarted restarts failed failing crashing crashlooping level usage"
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
