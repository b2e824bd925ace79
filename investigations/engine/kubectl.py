"""Copy-paste kubectl commands with real names. The system only ever shows them; it never runs them."""

from __future__ import annotations

import dataclasses
import shlex

from investigations.engine.evidence import Ref

_RESOURCE = {
    "Deployment": "deployment",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
    "Job": "job",
    "CronJob": "cronjob",
    "ReplicaSet": "replicaset",
    "Pod": "pod",
    "Service": "service",
    "Ingress": "ingress",
    "ConfigMap": "configmap",
    "Secret": "secret",
    "PersistentVolumeClaim": "pvc",
    "PersistentVolume": "pv",
    "StorageClass": "storageclass",
    "Node": "node",
    "HorizontalPodAutoscaler": "hpa",
    "ResourceQuota": "resourcequota",
    "LimitRange": "limitrange",
    "Role": "role",
    "RoleBinding": "rolebinding",
    "ClusterRole": "clusterrole",
    "ServiceAccount": "serviceaccount",
    "Endpoints": "endpoints",
    "NetworkPolicy": "networkpolicy",
}


@dataclasses.dataclass
class Recommendation:
    title: str
    kind: str  # immediate | preventive
    rationale: str
    commands: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "kind": self.kind,
            "rationale": self.rationale,
            "commands": self.commands,
        }


def q(value: str) -> str:
    """Shell-quote a name taken from the cluster (names are validated, but never trust text)."""
    return shlex.quote(str(value))


def resource(ref: Ref) -> str:
    return f"{_RESOURCE.get(ref.kind, ref.kind.lower())}/{q(ref.name)}"


def ns(ref: Ref) -> str:
    return f"-n {q(ref.namespace)} " if ref.namespace else ""


def describe(ref: Ref) -> str:
    return f"kubectl {ns(ref)}describe {resource(ref)}"


def get_yaml(ref: Ref) -> str:
    return f"kubectl {ns(ref)}get {resource(ref)} -o yaml"


def events(ref: Ref) -> str:
    flag = f"-n {q(ref.namespace)} " if ref.namespace else ""
    selector = f"involvedObject.name={q(ref.name)}"
    return f"kubectl {flag}get events --field-selector {selector} --sort-by=.lastTimestamp"


def logs(pod: Ref, container: str = "", previous: bool = False, tail: int = 100) -> str:
    parts = [f"kubectl {ns(pod)}logs {q(pod.name)}"]
    if container:
        parts.append(f"-c {q(container)}")
    if previous:
        parts.append("--previous")
    parts.append(f"--tail={tail}")
    return " ".join(parts)


def rollout_undo(ref: Ref, revision: int | None = None) -> str:
    to = f" --to-revision={revision}" if revision else ""
    return f"kubectl {ns(ref)}rollout undo {resource(ref)}{to}"


def rollout_history(ref: Ref) -> str:
    return f"kubectl {ns(ref)}rollout history {resource(ref)}"


def rollout_restart(ref: Ref) -> str:
    return f"kubectl {ns(ref)}rollout restart {resource(ref)}"


def rollout_status(ref: Ref) -> str:
    return f"kubectl {ns(ref)}rollout status {resource(ref)}"


def set_resources(
    ref: Ref, container: str, *, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> str:
    parts = [f"kubectl {ns(ref)}set resources {resource(ref)} -c {q(container)}"]
    if requests:
        parts.append("--requests=" + ",".join(f"{k}={v}" for k, v in requests.items()))
    if limits:
        parts.append("--limits=" + ",".join(f"{k}={v}" for k, v in limits.items()))
    return " ".join(parts)


def scale(ref: Ref, replicas: int) -> str:
    return f"kubectl {ns(ref)}scale {resource(ref)} --replicas={replicas}"


def edit(ref: Ref) -> str:
    return f"kubectl {ns(ref)}edit {resource(ref)}"


def patch_merge(ref: Ref, patch: str) -> str:
    return f"kubectl {ns(ref)}patch {resource(ref)} --type merge -p {q(patch)}"
