"""Stage 1, extract: which cluster, namespace and resource the alert is about.

Labels first (what the monitoring system names), then the signal's extracted fields, then text.
Exporter plumbing labels (the kube-state-metrics `service`, scrape `job`) are not targets.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

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

# Label → kind, most specific first.
_LABEL_KINDS = (
    ("pod", "Pod"),
    ("job_name", "Job"),
    ("cronjob", "CronJob"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("deployment", "Deployment"),
    ("horizontalpodautoscaler", "HorizontalPodAutoscaler"),
    ("persistentvolumeclaim", "PersistentVolumeClaim"),
    ("ingress", "Ingress"),
    ("service", "Service"),
    ("node", "Node"),
)
_EXPORTER_SERVICE = re.compile(
    r"(kube-state-metrics|node-exporter|prometheus|kubelet|alertmanager|blackbox)", re.I
)
# Traefik names services "<namespace>-<service>-<port>@kubernetes".
_TRAEFIK_SERVICE = re.compile(r"^(?P<rest>.+)-(?P<port>\d+)@kubernetes(crd)?$")


@dataclasses.dataclass
class Target:
    cluster: str = ""
    namespace: str = ""
    kind: str = ""
    name: str = ""
    container: str = ""
    method: str = ""  # label | signal | text | none
    alertname: str = ""
    text: str = ""  # summary + description, for analyzers that read the alert's words

    @property
    def known(self) -> bool:
        return bool(self.kind and self.name)

    def as_dict(self) -> dict[str, str]:
        return {
            "cluster": self.cluster,
            "namespace": self.namespace,
            "kind": self.kind,
            "name": self.name,
            "container": self.container,
            "method": self.method,
        }


def target_from_fields(fields: Mapping[str, Any]) -> Target:
    """From a signal-like mapping: labels, namespace, pod, workload(+kind), node, cluster, texts."""
    labels = {str(k): str(v) for k, v in (fields.get("labels") or {}).items()}
    namespace = fields.get("namespace") or labels.get("namespace") or labels.get("exported_namespace") or ""
    target = Target(
        cluster=fields.get("cluster") or labels.get("cluster") or "",
        namespace=namespace,
        container=fields.get("container") or labels.get("container") or "",
        alertname=fields.get("alertname") or labels.get("alertname") or "",
        text=" ".join(filter(None, [fields.get("summary") or "", fields.get("description") or ""])),
    )
    for label, kind in _LABEL_KINDS:
        value = labels.get(label)
        if not value:
            continue
        if label == "service":
            if _EXPORTER_SERVICE.search(value):
                continue
            match = _TRAEFIK_SERVICE.match(value)
            if match:
                rest = match.group("rest")
                value = rest[len(namespace) + 1 :] if namespace and rest.startswith(namespace + "-") else rest
        if label == "node" and labels.get("pod"):
            continue  # the pod's node is context, not the target
        target.kind, target.name, target.method = kind, value, "label"
        return target
    if fields.get("pod"):
        target.kind, target.name, target.method = "Pod", fields["pod"], "signal"
    elif fields.get("workload"):
        target.kind, target.name, target.method = (
            fields.get("workload_kind") or "Deployment",
            fields["workload"],
            "signal",
        )
    elif fields.get("node"):
        target.kind, target.name, target.method = "Node", fields["node"], "signal"
    else:
        target.method = "none"
    return target
