"""What the scheduler says and how pods fit nodes, shared by the scheduling and storage analyzers.

- scheduler messages: `parse_scheduling` splits a FailedScheduling message ("0/4 nodes are available:
  1 node(s) had untolerated taint {…}, 3 Insufficient memory") into classified reasons, and
  `unschedulable_pods` finds the in-scope pods the scheduler could not place;
- pods vs nodes: requests, taints and tolerations, nodeSelector/affinity matching, instance types,
  node pools, and what is already used on a node.
"""

from __future__ import annotations

import dataclasses
import re

from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Ref, labels_of, parse_quantity
from investigations.engine.facts import pod_condition, pod_spec

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
# Labels that name a node pool / node group on the common providers; any key naming a pool also counts.
POOL_LABELS = (
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "alpha.eksctl.io/nodegroup-name",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "node.kubernetes.io/pool",
    "doks.digitalocean.com/node-pool",
)
_POOLISH = re.compile(r"pool|nodegroup|node-group|instance-group", re.I)


# ------------------------------------------------------------------------------------------------
# scheduler messages


@dataclasses.dataclass
class SchedReason:
    count: int | None
    text: str
    kind: str  # resources | selector | taint | pod-affinity | spread | cordoned | ports | storage | other
    resource: str = ""  # for kind == resources: cpu, memory, nvidia.com/gpu, pods


def classify_reason(text: str) -> SchedReason:
    lowered = text.lower()
    insufficient = re.search(r"insufficient ([\w./-]+)", text, re.I)
    if insufficient:
        return SchedReason(None, text, "resources", insufficient.group(1))
    if "too many pods" in lowered:
        return SchedReason(None, text, "resources", "pods")
    if (
        "persistentvolumeclaim" in lowered
        or "volume node affinity conflict" in lowered
        or "persistent volumes to bind" in lowered
    ):
        return SchedReason(None, text, "storage")
    if "node affinity/selector" in lowered or "node selector" in lowered or "node affinity" in lowered:
        return SchedReason(None, text, "selector")
    if "taint" in lowered:
        return SchedReason(None, text, "taint")
    if "anti-affinity" in lowered or "pod affinity" in lowered:
        return SchedReason(None, text, "pod-affinity")
    if "topology spread" in lowered:
        return SchedReason(None, text, "spread")
    if "were unschedulable" in lowered or "unschedulable:" in lowered:
        return SchedReason(None, text, "cordoned")
    if "free ports" in lowered:
        return SchedReason(None, text, "ports")
    return SchedReason(None, text, "other")


def parse_scheduling(message: str) -> tuple[int | None, list[SchedReason]]:
    """'0/4 nodes are available: 1 node(s) had untolerated taint {…}, 3 Insufficient memory. preemption: …'
    → (4, [taint x1, resources(memory) x3]). Counts are None when the scheduler gives none."""
    head = re.split(r"\.?\s*preemption:", message or "", maxsplit=1)[0].strip()
    total = None
    match = re.search(r"\d+/(\d+) nodes are available:?\s*(.*)", head, re.S)
    if match:
        total = int(match.group(1))
        head = match.group(2)
    head = head.strip().rstrip(".")
    parts: list[str] = []
    for piece in re.split(r",\s*(?![^{]*\})", head):
        piece = piece.strip()
        if not piece:
            continue
        if parts and piece.lower().startswith("that the pod"):
            parts[-1] += ", " + piece
        else:
            parts.append(piece)
    reasons = []
    for part in parts:
        counted = re.match(r"(\d+)\s+(.*)", part)
        reason = classify_reason(counted.group(2) if counted else part)
        reason.count = int(counted.group(1)) if counted else None
        reason.text = part
        reasons.append(reason)
    return total, reasons


@dataclasses.dataclass
class Unschedulable:
    pod: dict
    message: str
    event: dict | None
    total: int | None
    reasons: list[SchedReason]

    def kinds(self) -> set[str]:
        return {r.kind for r in self.reasons}

    def nodes_for(self, kind: str) -> int:
        return sum(r.count or 0 for r in self.reasons if r.kind == kind)


def unschedulable_pods(ctx: Context) -> list[Unschedulable]:
    """In-scope pods the scheduler could not place, with its latest message parsed."""
    found = []
    for pod in ctx.in_scope_pods():
        if (pod.get("status") or {}).get("phase") != "Pending" or (pod.get("spec") or {}).get("nodeName"):
            continue
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        events = [e for e in ctx.view.events_for(pod) if e.get("reason") == "FailedScheduling"]
        condition = pod_condition(pod, "PodScheduled") or {}
        event = events[-1] if events else None
        message = (event or {}).get("message") or ""
        if not message and condition.get("status") == "False" and condition.get("reason") == "Unschedulable":
            message = condition.get("message") or ""
        if not message:
            continue
        total, reasons = parse_scheduling(message)
        found.append(Unschedulable(pod, message.strip(), event, total, reasons))
    return found


def scheduling_message(view: ClusterView, pod: dict) -> str:
    events = [e for e in view.events_for(pod) if e.get("reason") == "FailedScheduling"]
    if events:
        return (events[-1].get("message") or "").strip()
    return ((pod_condition(pod, "PodScheduled") or {}).get("message") or "").strip()


# ------------------------------------------------------------------------------------------------
# pods vs nodes


def pod_requests(obj: dict) -> dict[str, float]:
    """Effective requests of a pod (or a workload's template): sum of containers, max of init
    containers; a limit without a request counts as the request, as the API server defaults it."""
    spec = pod_spec(obj)
    totals: dict[str, float] = {}

    def amounts(container: dict) -> dict[str, float]:
        resources = container.get("resources") or {}
        merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        return {k: v for k, v in ((k, parse_quantity(v)) for k, v in merged.items()) if v is not None}

    for container in spec.get("containers") or []:
        for key, value in amounts(container).items():
            totals[key] = totals.get(key, 0.0) + value
    for container in spec.get("initContainers") or []:
        for key, value in amounts(container).items():
            totals[key] = max(totals.get(key, 0.0), value)
    return totals


def request_text(obj: dict, resource: str) -> str:
    """How the request is written in the spec: '32Gi', or 'server=16Gi + sidecar=1Gi'."""
    spec = pod_spec(obj)
    parts = []
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        value = (resources.get("requests") or {}).get(resource) or (resources.get("limits") or {}).get(
            resource
        )
        if value is not None:
            parts.append((container.get("name"), str(value)))
    if len(parts) == 1:
        return parts[0][1]
    return " + ".join(f"{name}={value}" for name, value in parts)


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for toleration in tolerations or []:
        operator = toleration.get("operator") or "Equal"
        key = toleration.get("key") or ""
        if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
            continue
        if not key and operator == "Exists":
            return True
        if key != taint.get("key"):
            continue
        if operator == "Exists" or (toleration.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def blocking_taints(node: dict, tolerations: list[dict]) -> list[dict]:
    return [
        taint
        for taint in (node.get("spec") or {}).get("taints") or []
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint)
    ]


def expression_matches(expression: dict, labels: dict[str, str], name: str, field: bool = False) -> bool:
    key = expression.get("key", "")
    operator = expression.get("operator")
    values = [str(v) for v in expression.get("values") or []]
    actual = name if field else labels.get(key)
    present = actual is not None if not field else True
    if operator == "In":
        return present and actual in values
    if operator == "NotIn":
        return not present or actual not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and values and actual is not None:
        try:
            return int(actual) > int(values[0]) if operator == "Gt" else int(actual) < int(values[0])
        except ValueError:
            return False
    return False


def required_affinity_terms(spec: dict) -> list[dict]:
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    return required.get("nodeSelectorTerms") or []


def node_matches(spec: dict, node: dict) -> bool:
    """nodeSelector and required node affinity of a pod spec against a node's labels."""
    labels = labels_of(node)
    name = Ref.of(node).name
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            return False
    terms = required_affinity_terms(spec)
    if terms:
        return any(
            all(expression_matches(e, labels, name) for e in term.get("matchExpressions") or [])
            and all(expression_matches(e, labels, name, True) for e in term.get("matchFields") or [])
            for term in terms
        )
    return True


def instance_type(node: dict) -> str:
    labels = labels_of(node)
    for key in INSTANCE_TYPE_LABELS:
        if labels.get(key):
            return labels[key]
    return ""


def pool_of(node: dict) -> tuple[str, str]:
    """(label key, value) naming the node's pool / node group, or ('', '')."""
    labels = labels_of(node)
    for key in POOL_LABELS:
        if labels.get(key):
            return key, labels[key]
    for key, value in sorted(labels.items()):
        if _POOLISH.search(key) and value:
            return key, value
    return "", ""


def is_pool_label(key: str) -> bool:
    return key in POOL_LABELS or bool(_POOLISH.search(key))


def node_used(view: ClusterView, node: dict) -> dict[str, float]:
    """Requests of the pods bound to a node (what the scheduler counts as allocated)."""
    name = Ref.of(node).name
    used: dict[str, float] = {"pods": 0.0}
    for pod in view.all("Pod"):
        if (pod.get("spec") or {}).get("nodeName") != name:
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        used["pods"] += 1
        for key, value in pod_requests(pod).items():
            used[key] = used.get(key, 0.0) + value
    return used


def pod_owner_text(view: ClusterView, pods: list[dict]) -> tuple[dict, Ref]:
    workload = view.top_owner(pods[0])
    return workload, Ref.of(workload)
