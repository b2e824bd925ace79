"""The platform family: scheduling, storage, nodes, autoscaling, quotas and Jobs.

unschedulable-resources    FailedScheduling "Insufficient cpu/memory": pod requests vs node allocatable
unschedulable-constraints  FailedScheduling "didn't match node affinity/selector", untolerated taints:
                           the pod's nodeSelector/affinity/tolerations vs the labels and taints nodes have
pvc-unbound                a claim stays Pending: StorageClass not found, Released PV with a stale
                           claimRef, no matching PV, zone conflict
node-problem               Ready False/Unknown, Memory/Disk/PID pressure True, evictions, stuck pods
hpa-at-max                 currentReplicas == maxReplicas, ScalingLimited TooManyReplicas, metric > target
quota-exceeded             FailedCreate "exceeded quota" / LimitRange "forbidden: maximum"
job-failed                 Job condition Failed: DeadlineExceeded / BackoffLimitExceeded

Each analyzer looks only at what objects, events and metrics say (never at names), and stands down
when the symptom it sees is the consequence of a more specific cause another category explains
(a Pending pod whose claim is unbound is not a scheduling-constraints problem).

`unknown_notes(ctx)` and `unknown_recommendations(ctx)` support the honest `unknown` answer: what
the alerting containers' terminations say, and what would settle it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections import Counter
from typing import Any

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.context import Context
from investigations.engine.evidence import (
    ClusterView,
    Contributing,
    Finding,
    Ref,
    event_time,
    human_age,
    labels_of,
    parse_quantity,
    parse_time,
)
from investigations.engine.facts import container_states, pod_condition, pod_spec, rollout_changes, ts
from investigations.engine.kubectl import Recommendation

RECENT = 6 * 3600  # "changed recently"
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
# formatting


def fmt_bytes(value: float | None) -> str:
    """Bytes → 27.7Gi / 512Mi, rounded like a person would say it."""
    if value is None:
        return "?"
    gib = value / 1024**3
    if gib >= 1:
        return f"{round(gib)}Gi" if abs(gib - round(gib)) < 0.05 else f"{gib:.1f}Gi"
    mib = value / 1024**2
    return f"{round(mib)}Mi"


def fmt_amount(resource: str, value: float | None) -> str:
    if value is None:
        return "?"
    if resource == "cpu":
        return f"{value:g}" if value >= 1 and float(value).is_integer() else f"{round(value * 1000)}m"
    if resource in ("memory", "ephemeral-storage") or resource.startswith("hugepages"):
        return fmt_bytes(value)
    return f"{value:g}"


def fmt_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s"


def _ago(view: ClusterView, timestamp: Any) -> str:
    age = view.age_seconds(timestamp)
    return f"{human_age(age)} ago" if age is not None else "at an unknown time"


def _count(event: dict) -> str:
    count = event.get("count") or (event.get("series") or {}).get("count")
    return f" (x{count})" if count and int(count) > 1 else ""


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


def _expression_matches(expression: dict, labels: dict[str, str], name: str, field: bool = False) -> bool:
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
            all(_expression_matches(e, labels, name) for e in term.get("matchExpressions") or [])
            and all(_expression_matches(e, labels, name, True) for e in term.get("matchFields") or [])
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


def _grouped_types(nodes: list[dict]) -> str:
    counter = Counter(instance_type(n) or "unknown type" for n in nodes)
    return ", ".join(f"{count} {kind}" for kind, count in counter.most_common())


def _pod_owner_text(view: ClusterView, pods: list[dict]) -> tuple[dict, Ref]:
    workload = view.top_owner(pods[0])
    return workload, Ref.of(workload)


# ------------------------------------------------------------------------------------------------
# unschedulable-resources


@analyzer("unschedulable-resources")
def unschedulable_resources(ctx: Context) -> list[Finding]:
    stuck = [
        u
        for u in unschedulable_pods(ctx)
        if "resources" in u.kinds() and "storage" not in u.kinds() and u.nodes_for("resources") > 0
    ]
    if not stuck:
        return []
    view = ctx.view
    first = stuck[0]
    pod = first.pod
    workload, workload_ref = _pod_owner_text(view, [u.pod for u in stuck])
    resource_reasons = [r for r in first.reasons if r.kind == "resources"]
    main = max(resource_reasons, key=lambda r: r.count or 0)
    resource = main.resource
    spec = pod_spec(pod)
    requested = pod_requests(pod).get(resource)
    written = request_text(pod, resource) or fmt_amount(resource, requested)
    nodes = view.all("Node")
    eligible = [
        n
        for n in nodes
        if node_matches(spec, n)
        and not blocking_taints(n, spec.get("tolerations") or [])
        and not (n.get("spec") or {}).get("unschedulable")
    ]
    evidence = []
    names = ", ".join(Ref.of(u.pod).name for u in stuck[:4])
    evidence.append(
        ctx.cite(
            "event",
            pod,
            f"FailedScheduling{_count(first.event or {})}: {first.message}",
        )
    )
    parts = [
        f"{len(stuck)} pod(s) of {workload_ref.kind} {workload_ref.name} stay Pending ({names}): "
        "the scheduler "
        f'reports FailedScheduling "{first.message}" [{evidence[0]}] — {main.count} node(s) have '
        f"Insufficient {resource}."
    ]
    confidence = 0.6
    never_fits = False
    fits_nowhere_now = False
    allocatable_text = ""
    if requested is not None and nodes:
        evidence.append(
            ctx.cite(
                "spec",
                workload,
                f"pod requests {resource}={written} (effective {fmt_amount(resource, requested)})",
            )
        )
        parts.append(f"Each pod requests {resource} {written} [{evidence[-1]}].")
        considered = eligible or nodes
        allocs = [
            (n, parse_quantity(((n.get("status") or {}).get("allocatable") or {}).get(resource)) or 0.0)
            for n in considered
        ]
        biggest_node, biggest = max(allocs, key=lambda item: item[1])
        raw = ((biggest_node.get("status") or {}).get("allocatable") or {}).get(resource)
        kinds = _grouped_types(considered)
        allocatable_text = f"{fmt_amount(resource, biggest)}" + (
            f" ({raw})" if raw and str(raw) != fmt_amount(resource, biggest) else ""
        )
        scope_text = "every schedulable node" if eligible else "every node"
        evidence.append(
            ctx.cite(
                "status",
                biggest_node,
                f"allocatable {resource}={raw} on {biggest_node['metadata']['name']}; nodes: {kinds}",
            )
        )
        if requested > biggest:
            never_fits = True
            confidence = 0.9
            parts.append(
                f"That is more than the allocatable {resource} of {scope_text}: at most "
                f"{allocatable_text} on {kinds} node(s) [{evidence[-1]}]. The pod can never fit "
                "this node size "
                f"(instance type {instance_type(biggest_node) or 'unknown'}); the cluster autoscaler would "
                "not help either, since a new node of the same instance type is just as small."
            )
        else:
            free = []
            for node, alloc in allocs:
                used = node_used(view, node).get(resource, 0.0)
                free.append((node, alloc - used))
            best_node, best_free = max(free, key=lambda item: item[1])
            if requested > best_free:
                fits_nowhere_now = True
                confidence = 0.8
                parts.append(
                    f"It would fit the allocatable {resource} of a {instance_type(best_node) or ''} node "
                    f"({allocatable_text}) [{evidence[-1]}], but the requests of pods already running leave "
                    f"at most {fmt_amount(resource, best_free)} free on any node: the cluster is full for "
                    f"this request (nodes: {kinds})."
                )
            else:
                parts.append(
                    f"Allocatable {resource} is up to {allocatable_text} per node ({kinds}) [{evidence[-1]}]."
                )
    other = [r for r in first.reasons if r.kind not in ("resources",) and r.count]
    if other:
        excluded = "; ".join(r.text for r in other)
        parts.append(
            f"The remaining nodes are excluded for other reasons ({excluded}); that is expected for them "
            f"and not what blocks the pod — the nodes it may use lack {resource}."
        )
    contributing = []
    recommendations = []
    changed = _resource_change(view, workload, resource)
    if changed:
        change, details = changed
        evidence.append(ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(details)}"))
        parts.append(
            f"What changed: {change.what}, {change.age} before the alert, changed {'; '.join(details)} "
            f"[{evidence[-1]}]."
        )
        contributing.append(Contributing(workload_ref, f"{change.what}: {'; '.join(details)}"))
        recommendations.append(
            Recommendation(
                "Roll back to the revision that fit",
                "immediate",
                f"The last rollout raised the {resource} request; the previous revision still schedules.",
                [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
            )
        )
    if requested is not None and (never_fits or fits_nowhere_now):
        container = _largest_container(pod, resource)
        target_value = _fit_value(resource, requested, view, eligible or nodes)
        commands = []
        if container and target_value and workload_ref.kind in ("Deployment", "StatefulSet", "DaemonSet"):
            commands.append(
                kubectl.set_resources(
                    workload_ref,
                    container,
                    requests={resource: target_value},
                    limits={resource: target_value} if resource == "memory" else None,
                )
            )
        recommendations.append(
            Recommendation(
                f"Make the {resource} request fit a node, or add bigger nodes",
                "immediate",
                f"Either lower requests.{resource} below what a node offers"
                + (f" (for example {target_value})" if target_value else "")
                + ", or add a node pool whose instance type has more allocatable "
                f"{resource} than {written}.",
                [*commands, kp.get_nodes(*INSTANCE_TYPE_LABELS[:1]), kp.describe_nodes_allocated()],
            )
        )
    recommendations.append(
        Recommendation(
            "Confirm what the scheduler sees",
            "immediate",
            "The pod's scheduling events and every node's allocatable and allocated resources.",
            [kubectl.describe(Ref.of(pod)), kp.get_pods_pending(workload_ref.namespace)],
        )
    )
    recommendations.append(
        Recommendation(
            "Check requests against the largest node before rollout",
            "preventive",
            "Validate in CI (or with an admission policy) that requests fit the largest node type, "
            "and alert on "
            "pods Pending with FailedScheduling for more than a few minutes.",
            [],
        )
    )
    what = "can never fit" if never_fits else "does not fit"
    summary = (
        f"{workload_ref.kind} {workload_ref.name}: pods Pending, FailedScheduling Insufficient {resource} — "
        f"requests.{resource} {written} {what} "
        + (
            f"the {allocatable_text} allocatable of any "
            f"{instance_type(eligible[0] if eligible else nodes[0])} node"
            if allocatable_text and nodes
            else "the nodes"
        )
    )
    return [
        Finding(
            category="unschedulable-resources",
            resource=workload_ref,
            confidence=confidence,
            summary=summary,
            explanation=" ".join(parts),
            evidence=evidence,
            contributing=contributing,
            facts={"resource": resource, "requested": written, "allocatable": allocatable_text},
            recommendations=recommendations,
        )
    ]


def _resource_change(view: ClusterView, workload: dict, resource: str):
    for change in rollout_changes(view, workload)[:1]:
        age = view.age_seconds(change.when)
        details = [d for d in change.details if f".{resource}:" in d]
        if details and age is not None and age <= 7 * 86400:
            return change, details
    return None


def _largest_container(pod: dict, resource: str) -> str:
    best, best_value = "", -1.0
    for container in pod_spec(pod).get("containers") or []:
        resources = container.get("resources") or {}
        value = parse_quantity(
            (resources.get("requests") or {}).get(resource) or (resources.get("limits") or {}).get(resource)
        )
        if value is not None and value > best_value:
            best, best_value = container.get("name", ""), value
    return best


def _fit_value(resource: str, requested: float, view: ClusterView, nodes: list[dict]) -> str | None:
    allocs = [
        parse_quantity(((n.get("status") or {}).get("allocatable") or {}).get(resource)) or 0.0 for n in nodes
    ]
    if not allocs or not max(allocs):
        return None
    target = max(allocs) * 0.8
    if resource == "memory":
        return f"{int(target / 1024**3)}Gi" if target >= 1024**3 else f"{int(target / 1024**2)}Mi"
    if resource == "cpu":
        return f"{int(target * 1000)}m"
    return None


# ------------------------------------------------------------------------------------------------
# unschedulable-constraints


@analyzer("unschedulable-constraints")
def unschedulable_constraints(ctx: Context) -> list[Finding]:
    stuck = [
        u
        for u in unschedulable_pods(ctx)
        if "storage" not in u.kinds()
        and u.nodes_for("resources") == 0
        and (u.kinds() & {"selector", "taint", "pod-affinity", "spread", "cordoned", "ports"})
    ]
    if not stuck:
        return []
    view = ctx.view
    first = stuck[0]
    pod = first.pod
    workload, workload_ref = _pod_owner_text(view, [u.pod for u in stuck])
    spec = pod_spec(pod)
    nodes = view.all("Node")
    evidence = [ctx.cite("event", pod, f"FailedScheduling{_count(first.event or {})}: {first.message}")]
    names = ", ".join(Ref.of(u.pod).name for u in stuck[:4])
    kinds = first.kinds()
    scheduler_quote = "; ".join(r.text for r in first.reasons)
    parts = [
        f"{len(stuck)} pod(s) of {workload_ref.kind} {workload_ref.name} stay Pending ({names}): "
        "FailedScheduling "
        f'"{first.message}" [{evidence[0]}].'
    ]
    confidence = 0.6
    summary_cause = scheduler_quote
    fix_patch = ""
    verified = False
    if "selector" in kinds and nodes:
        missing = _selector_mismatches(spec, nodes)
        selector = spec.get("nodeSelector") or {}
        if selector:
            shown = ", ".join(f"{k}={v}" for k, v in selector.items())
            evidence.append(ctx.cite("spec", workload, f"spec.template.spec.nodeSelector: {shown}"))
            parts.append(f"The pod template's nodeSelector requires {shown} [{evidence[-1]}].")
        terms = required_affinity_terms(spec)
        if terms:
            evidence.append(ctx.cite("spec", workload, f"required node affinity: {_terms_text(terms)}"))
            parts.append(f"Its required node affinity is {_terms_text(terms)} [{evidence[-1]}].")
        if missing:
            verified = not any(node_matches(spec, n) for n in nodes)
            details = []
            for key, wanted, existing in missing:
                pool = " (the node pool label)" if is_pool_label(key) else ""
                if existing:
                    have = ", ".join(f"{key}={value} ({count} node(s))" for value, count in existing.items())
                    details.append(f"no node has {key}={wanted}{pool}; the nodes carry {have}")
                else:
                    details.append(f"no node carries the label {key} at all{pool}")
            evidence.append(
                ctx.cite(
                    "status",
                    {"kind": "Node", "metadata": {"name": Ref.of(nodes[0]).name}},
                    "; ".join(details),
                )
            )
            parts.append(
                f"But {'; '.join(details)} [{evidence[-1]}], so every node is filtered out: the pods "
                "didn't match any node's labels."
            )
            key, wanted, existing = missing[0]
            pool_word = "node pool " if is_pool_label(key) else ""
            summary_cause = f"nodeSelector {key}={wanted} matches no node" + (
                f" (nodes have {pool_word}{', '.join(str(v) for v in existing)})" if existing else ""
            )
            if existing and selector.get(key) is not None:
                replacement = next(iter(existing))
                fix_patch = json.dumps({"spec": {"template": {"spec": {"nodeSelector": {key: replacement}}}}})
            confidence = 0.9 if verified else 0.8
        else:
            confidence = 0.7
    if "taint" in kinds and nodes:
        tolerations = spec.get("tolerations") or []
        blocked = [(n, blocking_taints(n, tolerations)) for n in nodes]
        blocked = [(n, t) for n, t in blocked if t]
        if blocked:
            taint_text = "; ".join(
                f"{Ref.of(n).name}: "
                + ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in taints)
                for n, taints in blocked[:5]
            )
            evidence.append(ctx.cite("status", blocked[0][0], f"untolerated taints: {taint_text}"))
            parts.append(
                f"Taints the pod does not tolerate: {taint_text} [{evidence[-1]}] "
                f"({len(blocked)} of {len(nodes)} nodes)."
            )
            if len(blocked) == len(nodes) or (first.total and first.nodes_for("taint") >= first.total):
                confidence = max(confidence, 0.85)
                if "selector" not in kinds:
                    summary_cause = f"every node has a taint the pods do not tolerate ({taint_text[:120]})"
            else:
                confidence = max(confidence, 0.6)
    if kinds & {"pod-affinity", "spread", "cordoned", "ports"} and confidence < 0.6:
        confidence = 0.6
    contributing = []
    for change in rollout_changes(view, workload)[:1]:
        details = [
            d for d in change.details if d.split(":")[0] in ("nodeSelector", "affinity", "tolerations")
        ]
        age = view.age_seconds(change.when)
        if details and age is not None and age <= RECENT:
            evidence.append(
                ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(details)}")
            )
            parts.append(
                f"What changed: {change.what}, {change.age} ago: {'; '.join(details)} [{evidence[-1]}]."
            )
            contributing.append(Contributing(workload_ref, f"{change.what}: {'; '.join(details)}"))
    node_churn = _node_churn(view)
    if node_churn:
        node_ref, text, removed_age = node_churn
        evidence.append(ctx.cite("event", {"kind": "Node", "metadata": {"name": node_ref.name}}, text))
        pod_age = view.age_seconds((pod.get("metadata") or {}).get("creationTimestamp"))
        after = pod_age is not None and pod_age <= removed_age
        parts.append(
            f"What changed on the nodes: {text} [{evidence[-1]}]"
            + ("; the Pending pods were created after that." if after else ".")
        )
    recommendations = []
    if fix_patch:
        recommendations.append(
            Recommendation(
                "Point the nodeSelector at nodes that exist",
                "immediate",
                "Update the pod template's selector to a label value the current nodes carry (or remove it).",
                [kubectl.patch_merge(workload_ref, fix_patch), kubectl.rollout_status(workload_ref)],
            )
        )
    recommendations.append(
        Recommendation(
            "Compare the pod's constraints with the nodes",
            "immediate",
            "The pod's nodeSelector/affinity/tolerations and the labels and taints of every node.",
            [
                kubectl.describe(Ref.of(pod)),
                kp.get_nodes(*list(spec.get("nodeSelector") or {})[:3]),
                "kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints",
            ],
        )
    )
    recommendations.append(
        Recommendation(
            "Do not pin workloads to a node pool's name",
            "preventive",
            "Select nodes by a stable role label (workload=apps) that every pool of that role "
            "carries, and check "
            "for workloads pinned to a pool before retiring it.",
            [],
        )
    )
    return [
        Finding(
            category="unschedulable-constraints",
            resource=workload_ref,
            confidence=confidence,
            summary=f"{workload_ref.kind} {workload_ref.name}: pods Pending — {summary_cause}",
            explanation=" ".join(parts),
            evidence=evidence,
            contributing=contributing,
            facts={"reasons": [r.text for r in first.reasons]},
            recommendations=recommendations,
        )
    ]


def _selector_mismatches(spec: dict, nodes: list[dict]) -> list[tuple[str, str, dict[str, int]]]:
    """(label key, wanted value, {value present on nodes: count}) for selector terms no node satisfies."""
    result = []
    for key, value in (spec.get("nodeSelector") or {}).items():
        values = Counter(labels_of(n)[key] for n in nodes if key in labels_of(n))
        if str(value) not in values:
            result.append((key, str(value), dict(values)))
    for term in required_affinity_terms(spec):
        for expression in term.get("matchExpressions") or []:
            if expression.get("operator") not in ("In", "Exists"):
                continue
            key = expression.get("key", "")
            if any(_expression_matches(expression, labels_of(n), Ref.of(n).name) for n in nodes):
                continue
            values = Counter(labels_of(n)[key] for n in nodes if key in labels_of(n))
            wanted = "|".join(expression.get("values") or []) or "(exists)"
            result.append((key, wanted, dict(values)))
    return result


def _terms_text(terms: list[dict]) -> str:
    texts = []
    for term in terms:
        texts.append(
            " and ".join(
                f"{e.get('key')} {e.get('operator')} {','.join(e.get('values') or [])}".strip()
                for e in term.get("matchExpressions") or []
            )
        )
    return " or ".join(f"({t})" for t in texts if t)


def _node_churn(view: ClusterView) -> tuple[Ref, str, float] | None:
    """Nodes removed/registered recently (RemovingNode/RegisteredNode events)."""
    removed, added = [], []
    for event in view.by_kind.get("Event", []):
        involved = event.get("involvedObject") or {}
        if involved.get("kind") != "Node":
            continue
        age = view.age_seconds(event_time(event))
        if age is None or age > RECENT:
            continue
        name = involved.get("name") or ""
        if not name:
            continue
        if event.get("reason") == "RemovingNode" and view.get("Node", "", name) is None:
            removed.append((name, age))
        elif event.get("reason") == "RegisteredNode" and view.get("Node", "", name) is not None:
            added.append((name, age))
    if not removed:
        return None
    text = (
        f"{len(removed)} node(s) removed {human_age(min(a for _n, a in removed))} ago (RemovingNode: "
        + ", ".join(n for n, _a in removed[:4])
        + ")"
    )
    if added:
        text += (
            f"; {len(added)} node(s) registered {human_age(max(a for _n, a in added))} ago ("
            + ", ".join(n for n, _a in added[:4])
            + ")"
        )
    return Ref("Node", "", removed[0][0]), text, max(a for _n, a in removed)


# ------------------------------------------------------------------------------------------------
# pvc-unbound


@analyzer("pvc-unbound")
def pvc_unbound(ctx: Context) -> list[Finding]:
    claims = _claims_in_scope(ctx)
    findings = []
    for pvc, pods, owner in claims:
        if (pvc.get("status") or {}).get("phase") != "Pending":
            continue
        finding = _pvc_finding(ctx, pvc, pods, owner)
        if finding:
            findings.append(finding)
    if not findings:
        findings.extend(_zone_conflicts(ctx, claims))
    findings.sort(key=lambda f: f.confidence, reverse=True)
    return findings[:1]


ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def _zone_conflicts(ctx: Context, claims) -> list[Finding]:
    """A Bound claim whose PV is pinned (nodeAffinity) to zones where no node the pod may use runs:
    FailedScheduling "volume node affinity conflict"."""
    view = ctx.view
    findings = []
    for pvc, pods, _owner in claims:
        stuck = [p for p in pods if "volume node affinity conflict" in _scheduling_message(view, p).lower()]
        volume = (pvc.get("spec") or {}).get("volumeName")
        pv = view.get("PersistentVolume", "", volume) if volume else None
        if not stuck or pv is None:
            continue
        terms = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
            "nodeSelectorTerms"
        ) or []
        pinned = sorted(
            {
                value
                for term in terms
                for e in term.get("matchExpressions") or []
                if e.get("key") in (*ZONE_LABELS, "kubernetes.io/hostname")
                for value in e.get("values") or []
            }
        )
        pod = stuck[0]
        spec = pod_spec(pod)
        usable = [
            n
            for n in view.all("Node")
            if node_matches(spec, n)
            and not blocking_taints(n, spec.get("tolerations") or [])
            and not (n.get("spec") or {}).get("unschedulable")
        ]
        zones = sorted(
            {next((labels_of(n)[k] for k in ZONE_LABELS if labels_of(n).get(k)), "?") for n in usable}
        )
        ref, pv_ref = Ref.of(pvc), Ref.of(pv)
        evidence = [
            ctx.cite("event", pod, f"FailedScheduling: {_scheduling_message(view, pod)}"),
            ctx.cite("spec", pv, f"PV {pv_ref.name} nodeAffinity: {', '.join(pinned) or terms}"),
        ]
        explanation = (
            f'Pod {Ref.of(pod).name} cannot be scheduled: "{_scheduling_message(view, pod)}" '
            f"[{evidence[0]}]. "
            f"PersistentVolumeClaim {ref.name} is bound to PersistentVolume {pv_ref.name}, which is "
            "pinned to "
            f"{', '.join(pinned) or 'specific nodes'} by its nodeAffinity [{evidence[1]}], but the "
            "nodes the pod "
            f"may use are in zone(s) {', '.join(zones) or 'none'}: a volume zone mismatch (volume "
            "node affinity "
            "conflict)."
        )
        findings.append(
            Finding(
                category="pvc-unbound",
                resource=ref,
                confidence=0.85,
                summary=f"PersistentVolumeClaim {ref.namespace}/{ref.name}: its volume {pv_ref.name} is in "
                f"{', '.join(pinned) or 'another zone'}, where no usable node runs (volume node "
                "affinity conflict)",
                explanation=explanation,
                evidence=evidence,
                contributing=[Contributing(pv_ref, f"nodeAffinity {', '.join(pinned)}")],
                recommendations=[
                    Recommendation(
                        "Run a node in the volume's zone, or move the data",
                        "immediate",
                        "Scale a node group in the volume's zone (or relax the pod's node constraints); a "
                        "zonal disk cannot attach elsewhere — snapshot and restore it into a usable zone.",
                        [kubectl.describe(pv_ref), kp.get_nodes(*ZONE_LABELS[:1])],
                    ),
                    Recommendation(
                        "Provision volumes where pods can run",
                        "preventive",
                        "Use volumeBindingMode WaitForFirstConsumer and keep node groups in every zone that "
                        "holds volumes.",
                        [],
                    ),
                ],
            )
        )
    return findings


def _claims_in_scope(ctx: Context) -> list[tuple[dict, list[dict], dict | None]]:
    """(PVC, pods that mount it, workload with a volumeClaimTemplate for it) for the alert's scope."""
    view = ctx.view
    result: dict[int, tuple[dict, list[dict], dict | None]] = {}

    def add(pvc: dict | None, pod: dict | None = None, owner: dict | None = None) -> None:
        if pvc is None:
            return
        entry = result.setdefault(id(pvc), (pvc, [], None))
        if pod is not None and all(pod is not p for p in entry[1]):
            entry[1].append(pod)
        if owner is not None and entry[2] is None:
            result[id(pvc)] = (entry[0], entry[1], owner)

    target = view.get(ctx.target.kind, ctx.namespace, ctx.target.name) if ctx.target.known else None
    if target is not None and target.get("kind") == "PersistentVolumeClaim":
        add(target)
        for pod in view.all("Pod", ctx.namespace):
            if _claim_names(pod) and Ref.of(target).name in _claim_names(pod):
                add(target, pod)
    for pod in ctx.in_scope_pods():
        namespace = Ref.of(pod).namespace
        owner = view.top_owner(pod)
        for claim in _claim_names(pod):
            pvc = view.get("PersistentVolumeClaim", namespace, claim)
            add(pvc, pod, owner if owner.get("kind") == "StatefulSet" else None)
    for workload in ctx.in_scope_workloads():
        if workload.get("kind") != "StatefulSet":
            continue
        ref = Ref.of(workload)
        for template in (workload.get("spec") or {}).get("volumeClaimTemplates") or []:
            prefix = f"{(template.get('metadata') or {}).get('name')}-{ref.name}-"
            for pvc in view.all("PersistentVolumeClaim", ref.namespace):
                name = Ref.of(pvc).name
                if name.startswith(prefix) and name[len(prefix) :].isdigit():
                    add(pvc, None, workload)
    return list(result.values())


def _claim_names(pod: dict) -> list[str]:
    return [
        claim
        for v in (pod.get("spec") or {}).get("volumes") or []
        if (claim := (v.get("persistentVolumeClaim") or {}).get("claimName"))
    ]


def _pvc_finding(ctx: Context, pvc: dict, pods: list[dict], owner: dict | None) -> Finding | None:
    view = ctx.view
    ref = Ref.of(pvc)
    spec = pvc.get("spec") or {}
    class_name = spec.get("storageClassName")
    requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
    modes = ",".join(spec.get("accessModes") or [])
    created = (pvc.get("metadata") or {}).get("creationTimestamp")
    events = view.events_for(pvc)
    warnings = [e for e in events if e.get("type") == "Warning"]
    blocked = [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") == "Pending" and not (p.get("spec") or {}).get("nodeName")
    ]
    class_text = (
        'storageClassName "" (static binding to a pre-created PV only)'
        if class_name == ""
        else f"storageClassName {class_name}"
        if class_name
        else "no storageClassName (the default StorageClass applies)"
    )
    evidence = [
        ctx.cite(
            "status",
            pvc,
            f"phase Pending, created {_ago(view, created)}, {class_text}, requests {requested} {modes}",
        )
    ]
    parts = [
        f"PersistentVolumeClaim {ref.namespace}/{ref.name} is Pending (unbound) — created "
        f"{_ago(view, created)}, "
        f"{class_text}, requesting {requested} {modes} [{evidence[0]}]."
    ]
    if warnings:
        last = warnings[-1]
        evidence.append(ctx.cite("event", pvc, f"{last.get('reason')}{_count(last)}: {last.get('message')}"))
        parts.append(f'Event {last.get("reason")}{_count(last)}: "{last.get("message")}" [{evidence[-1]}].')
    if blocked:
        pod = blocked[0]
        message = _scheduling_message(view, pod)
        evidence.append(ctx.cite("event", pod, f"FailedScheduling: {message}"))
        parts.append(
            f"So {len(blocked)} pod(s) that mount it cannot be scheduled "
            f"({', '.join(Ref.of(p).name for p in blocked[:3])}): "
            f'"{message}" [{evidence[-1]}].'
        )
    confidence = 0.6 if (blocked or warnings) else 0.4
    summary_cause = "no volume has been bound to it"
    contributing: list[Contributing] = []
    recommendations: list[Recommendation] = []
    classes = view.all("StorageClass")
    storage_class = view.get("StorageClass", "", class_name) if class_name else None
    default = [
        c
        for c in classes
        if ((c.get("metadata") or {}).get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    if class_name and storage_class is None:
        listed = ", ".join(Ref.of(c).name + (" (default)" if c in default else "") for c in classes) or "none"
        evidence.append(
            ctx.cite(
                "status", pvc, f'StorageClass "{class_name}" not found; StorageClasses present: {listed}'
            )
        )
        parts.append(
            f'The StorageClass "{class_name}" it names does not exist (not found); the cluster has: {listed} '
            f"[{evidence[-1]}]. No provisioner will ever create its volume."
        )
        summary_cause = f"StorageClass {class_name} not found"
        confidence = 0.9
        if owner is not None and owner.get("kind") == "StatefulSet":
            contributing.append(
                Contributing(
                    Ref.of(owner),
                    f"volumeClaimTemplates set storageClassName={class_name}, which does not exist",
                )
            )
            parts.append(
                f"The claim comes from StatefulSet {Ref.of(owner).name}'s volumeClaimTemplates, which set "
                f"storageClassName={class_name}."
            )
        recommendations.append(
            Recommendation(
                "Use a StorageClass that exists",
                "immediate",
                "storageClassName is immutable on a claim (and volumeClaimTemplates on a "
                "StatefulSet): fix the "
                "manifest to an existing class, re-create the StatefulSet without deleting its "
                "pods, then delete "
                "the Pending claim so it is re-created. Or create the missing StorageClass.",
                [
                    kp.get_storage(),
                    *(
                        [kp.delete(Ref.of(owner), "--cascade=orphan")]
                        if owner is not None and owner.get("kind") == "StatefulSet"
                        else []
                    ),
                    kp.delete(ref),
                ],
            )
        )
    elif class_name == "" or (class_name is None and not default):
        pv, why = _static_volume(view, pvc)
        if pv is not None:
            pv_ref = Ref.of(pv)
            pv_spec = pv.get("spec") or {}
            claim_ref = pv_spec.get("claimRef") or {}
            phase = (pv.get("status") or {}).get("phase")
            since = (pv.get("status") or {}).get("lastPhaseTransitionTime")
            evidence.append(
                ctx.cite(
                    "status",
                    pv,
                    f"PV {pv_ref.name} phase {phase}"
                    + (f" since {since}" if since else "")
                    + f", reclaimPolicy {pv_spec.get('persistentVolumeReclaimPolicy')}, claimRef "
                    f"{claim_ref.get('namespace')}/{claim_ref.get('name')} uid {claim_ref.get('uid')}",
                )
            )
            if why == "released":
                parts.append(
                    f"The PersistentVolume that should serve it, {pv_ref.name} ({_pv_source(pv)}, "
                    f"{(pv_spec.get('capacity') or {}).get('storage')}), is in phase Released"
                    + (f" since {ts(since)}" if since else "")
                    + f" with reclaimPolicy {pv_spec.get('persistentVolumeReclaimPolicy')} and a "
                    "stale claimRef "
                    f"to {claim_ref.get('namespace')}/{claim_ref.get('name')} uid "
                    f"{claim_ref.get('uid')} — the "
                    "deleted previous claim; the current PVC has uid "
                    f"{(pvc.get('metadata') or {}).get('uid')} "
                    f"[{evidence[-1]}]. A Released PV is never re-bound automatically, so the new "
                    "claim finds no "
                    "available volume."
                )
                summary_cause = f"PV {pv_ref.name} is Released with a stale claimRef to the deleted claim"
                confidence = 0.9
                contributing.append(
                    Contributing(
                        pv_ref, f"phase Released, claimRef uid {claim_ref.get('uid')} (deleted claim)"
                    )
                )
                recommendations.append(
                    Recommendation(
                        "Release the stale claimRef so the PV can bind again",
                        "immediate",
                        "With reclaimPolicy Retain the data is still there; clearing spec.claimRef "
                        "makes the PV "
                        "Available and the Pending claim binds to it. Check the volume's contents first.",
                        [
                            kubectl.get_yaml(pv_ref),
                            kubectl.patch_merge(pv_ref, '{"spec":{"claimRef":null}}'),
                            kp.get(ref),
                        ],
                    )
                )
            else:
                parts.append(f"PersistentVolume {pv_ref.name}: {why} [{evidence[-1]}].")
                summary_cause = f"PV {pv_ref.name} cannot bind it ({why})"
                confidence = 0.8
                contributing.append(Contributing(pv_ref, why))
        else:
            evidence.append(
                ctx.cite(
                    "status", pvc, f"no PersistentVolume matches (class {class_name!r}, {requested}, {modes})"
                )
            )
            parts.append(
                "No PersistentVolume with a matching class, access modes and capacity is Available "
                f"[{evidence[-1]}]."
            )
            summary_cause = "no PersistentVolume is available for it"
            confidence = 0.8 if (blocked or warnings) else 0.5
    else:
        binding_mode = (storage_class or (default[0] if default else {})).get("volumeBindingMode")
        failed = [e for e in warnings if e.get("reason") in ("ProvisioningFailed", "FailedBinding")]
        if failed:
            message = failed[-1].get("message") or ""
            summary_cause = f"provisioning failed: {message[:140]}"
            confidence = 0.85
            if "node affinity" in message.lower() or "zone" in message.lower():
                summary_cause = f"volume zone/topology conflict: {message[:140]}"
        elif any("persistent volumes to bind" in _scheduling_message(view, p).lower() for p in blocked):
            same_class = [
                pv
                for pv in view.all("PersistentVolume")
                if ((pv.get("spec") or {}).get("storageClassName") or "") == (class_name or "")
            ]
            phases = Counter((pv.get("status") or {}).get("phase") or "?" for pv in same_class)
            shown = ", ".join(f"{count} {phase}" for phase, count in phases.items()) or "none"
            evidence.append(ctx.cite("status", pvc, f"PersistentVolumes of class {class_name}: {shown}"))
            parts.append(
                f"The scheduler didn't find available persistent volumes to bind: StorageClass {class_name} "
                f"(provisioner {(storage_class or {}).get('provisioner')}) has PersistentVolumes {shown} "
                f"[{evidence[-1]}], none Available with {requested} {modes} on a node the pod may use."
            )
            summary_cause = f"no available PersistentVolume of class {class_name} to bind"
            confidence = 0.85
        elif binding_mode == "WaitForFirstConsumer":
            parts.append(
                "Its StorageClass uses volumeBindingMode WaitForFirstConsumer, so the claim stays "
                "Pending until a "
                "pod that uses it is scheduled: that is normal, not a cause by itself."
            )
            confidence = min(confidence, 0.3)
        if any("volume node affinity conflict" in _scheduling_message(view, p).lower() for p in blocked):
            confidence = max(confidence, 0.8)
            summary_cause = "volume node affinity (zone) conflict with the schedulable nodes"
    if storage_class is not None:
        contributing.append(
            Contributing(Ref.of(storage_class), f"provisioner {storage_class.get('provisioner')}")
        )
    recommendations.append(
        Recommendation(
            "Inspect the claim and the volumes",
            "immediate",
            "The claim's events, the PersistentVolumes and the StorageClasses that exist.",
            [kubectl.describe(ref), kp.get_storage()],
        )
    )
    recommendations.append(
        Recommendation(
            "Keep claims and volumes in step with releases",
            "preventive",
            "Reference only StorageClasses that exist (check in CI); for static PVs, keep the PVC out of the "
            "Helm release (helm.sh/resource-policy: keep) or pre-bind it with spec.volumeName.",
            [],
        )
    )
    summary = f"PersistentVolumeClaim {ref.namespace}/{ref.name} is Pending: {summary_cause}"
    return Finding(
        category="pvc-unbound",
        resource=ref,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"storageClassName": class_name},
        recommendations=recommendations,
    )


def _scheduling_message(view: ClusterView, pod: dict) -> str:
    events = [e for e in view.events_for(pod) if e.get("reason") == "FailedScheduling"]
    if events:
        return (events[-1].get("message") or "").strip()
    return ((pod_condition(pod, "PodScheduled") or {}).get("message") or "").strip()


def _pv_source(pv: dict) -> str:
    spec = pv.get("spec") or {}
    for key in ("nfs", "csi", "hostPath", "local", "awsElasticBlockStore", "gcePersistentDisk", "azureDisk"):
        if key in spec:
            return f"{key} volume"
    return "volume"


def _static_volume(view: ClusterView, pvc: dict) -> tuple[dict | None, str]:
    """The PV a statically bound claim should get, and why it does not: 'released' (stale claimRef)
    or another reason. (None, '') when no PV could serve it."""
    ref = Ref.of(pvc)
    spec = pvc.get("spec") or {}
    wanted_class = spec.get("storageClassName") or ""
    wanted_modes = set(spec.get("accessModes") or [])
    wanted_size = parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage")) or 0
    uid = (pvc.get("metadata") or {}).get("uid")
    named = spec.get("volumeName")
    candidates = []
    for pv in view.all("PersistentVolume"):
        pv_spec = pv.get("spec") or {}
        if named and Ref.of(pv).name != named:
            continue
        if (pv_spec.get("storageClassName") or "") != wanted_class:
            continue
        claim = pv_spec.get("claimRef") or {}
        same_claim = claim.get("namespace") == ref.namespace and claim.get("name") == ref.name
        size = parse_quantity((pv_spec.get("capacity") or {}).get("storage")) or 0
        fits = wanted_modes <= set(pv_spec.get("accessModes") or []) and size >= wanted_size
        if not (same_claim or fits):
            continue
        candidates.append((0 if same_claim else 1, pv, same_claim, fits))
    candidates.sort(key=lambda item: item[0])
    for _rank, pv, same_claim, fits in candidates:
        phase = (pv.get("status") or {}).get("phase")
        claim = (pv.get("spec") or {}).get("claimRef") or {}
        if phase == "Released" and (same_claim or fits) and claim.get("uid") and claim.get("uid") != uid:
            return pv, "released"
        if phase == "Bound" and claim.get("uid") and claim.get("uid") != uid and same_claim:
            return pv, f"bound to another claim uid {claim.get('uid')}"
        if phase == "Failed":
            return pv, "phase Failed"
        if same_claim and not fits:
            return pv, "its capacity or access modes do not satisfy the claim"
    return None, ""


# ------------------------------------------------------------------------------------------------
# node-problem

_PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure")


def bad_conditions(node: dict) -> list[dict]:
    """Conditions that say the node is unhealthy. Ready must be True; every other condition (pressure,
    NetworkUnavailable, node-problem-detector's KernelDeadlock/ReadonlyFilesystem/…) is a problem
    only when True. MemoryPressure=False or NetworkUnavailable=False is healthy by definition."""
    bad = []
    for condition in (node.get("status") or {}).get("conditions") or []:
        kind, status = condition.get("type"), condition.get("status")
        if kind == "Ready":
            if status != "True":
                bad.append(condition)
        elif status == "True":
            bad.append(condition)
    return bad


@analyzer("node-problem")
def node_problem(ctx: Context) -> list[Finding]:
    view = ctx.view
    candidates: list[tuple[dict, bool]] = []
    target = view.get("Node", "", ctx.target.name) if ctx.target.kind == "Node" else None
    if target is not None:
        candidates.append((target, True))
    for pod in ctx.in_scope_pods():
        node = view.node_of(pod)
        if node is not None and all(node is not n for n, _t in candidates):
            candidates.append((node, False))
    findings = []
    for node, is_target in candidates:
        finding = _node_finding(ctx, node, is_target)
        if finding:
            findings.append(finding)
    if not findings:
        findings.extend(_past_evictions(ctx))
    findings.sort(key=lambda f: f.confidence, reverse=True)
    return findings[:1]


def _past_evictions(ctx: Context) -> list[Finding]:
    """In-scope pods Evicted recently by a node's kubelet whose pressure has since cleared: a plausible
    single signal (0.6) that the node, not the workload, is where it went wrong."""
    view = ctx.view
    evicted = [
        p
        for p in ctx.in_scope_pods()
        if (p.get("status") or {}).get("reason") == "Evicted"
        and "node was low on resource" in ((p.get("status") or {}).get("message") or "")
    ]
    by_node: dict[str, list[dict]] = {}
    for pod in evicted:
        name = (pod.get("spec") or {}).get("nodeName")
        if name and view.get("Node", "", name) is not None:
            by_node.setdefault(name, []).append(pod)
    if not by_node:
        return []
    name, pods = max(by_node.items(), key=lambda item: len(item[1]))
    node = view.get("Node", "", name)
    assert node is not None  # by_node keeps only nodes the view has
    ref = Ref.of(node)
    message = ((pods[0].get("status") or {}).get("message") or "").strip()
    evidence = [ctx.cite("status", pods[0], f"Evicted: {message}")]
    resource = re.search(r"low on resource: ([\w.-]+)", message)
    what = resource.group(1) if resource else "a resource"
    return [
        Finding(
            category="node-problem",
            resource=ref,
            confidence=0.6,
            summary=f"Node {ref.name} evicted {len(pods)} pod(s): low on {what}",
            explanation=(
                f"The kubelet on node {ref.name} Evicted {len(pods)} pod(s) of this workload "
                f'({", ".join(Ref.of(p).name for p in pods[:4])}): "{message}" [{evidence[0]}]. The node\'s '
                f"pressure condition has cleared since; what filled its {what} is on the node, not "
                "in these pods."
            ),
            evidence=evidence,
            recommendations=_node_recommendations(ref, False, [], []),
        )
    ]


# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def _node_finding(ctx: Context, node: dict, is_target: bool) -> Finding | None:  # noqa: C901
    view = ctx.view
    ref = Ref.of(node)
    bad = bad_conditions(node)
    if not bad:
        return None
    evidence: list[str] = []
    parts: list[str] = []
    ready = next((c for c in bad if c.get("type") == "Ready"), None)
    pressures = [c for c in bad if c.get("type") in _PRESSURE]
    others = [c for c in bad if c is not ready and c not in pressures]
    if ready is not None:
        heartbeat = ready.get("lastHeartbeatTime")
        evidence.append(
            ctx.cite(
                "status",
                node,
                f"Ready={ready.get('status')} reason {ready.get('reason')}: {ready.get('message')} "
                f"since {ready.get('lastTransitionTime')}, lastHeartbeatTime {heartbeat}",
            )
        )
        unknown = [
            c.get("type")
            for c in (node.get("status") or {}).get("conditions") or []
            if c.get("status") == "Unknown"
        ]
        parts.append(
            f"Node {ref.name} is NotReady: Ready={ready.get('status')} ({ready.get('reason')}: "
            f'"{(ready.get("message") or "").strip()}") since {ts(ready.get("lastTransitionTime", ""))} '
            f"({_ago(view, ready.get('lastTransitionTime'))}), last heartbeat "
            f"{_ago(view, heartbeat)} [{evidence[-1]}]."
        )
        if len(unknown) > 1:
            parts.append(
                f"All its conditions are Unknown ({', '.join(str(u) for u in unknown)}): the "
                "kubelet stopped reporting, "
                "the control plane has lost contact with the node."
            )
    for condition in pressures:
        evidence.append(
            ctx.cite(
                "status",
                node,
                f"{condition.get('type')}=True reason {condition.get('reason')}: {condition.get('message')} "
                f"since {condition.get('lastTransitionTime')}",
            )
        )
        parts.append(
            f"Node {ref.name} has {condition.get('type')}=True ({condition.get('reason')}: "
            f'"{condition.get("message")}") since {ts(condition.get("lastTransitionTime", ""))} '
            f"({_ago(view, condition.get('lastTransitionTime'))}) [{evidence[-1]}]."
        )
    for condition in others:
        evidence.append(ctx.cite("status", node, f"{condition.get('type')}=True: {condition.get('message')}"))
        parts.append(f"{condition.get('type')}=True: {condition.get('message')} [{evidence[-1]}].")
    taints = (node.get("spec") or {}).get("taints") or []
    problem_taints = [t for t in taints if str(t.get("key", "")).startswith("node.kubernetes.io/")]
    if problem_taints:
        text = ", ".join(f"{t.get('key')}:{t.get('effect')}" for t in problem_taints)
        evidence.append(ctx.cite("status", node, f"taints: {text}"))
        parts.append(f"The node controller set the taints {text} [{evidence[-1]}].")
    # capacity compared with the other nodes (a small disk / small memory node)
    if any(c.get("type") == "DiskPressure" for c in pressures):
        parts.extend(_capacity_comparison(ctx, node, "ephemeral-storage", evidence))
    if any(c.get("type") == "MemoryPressure" for c in pressures):
        parts.extend(_capacity_comparison(ctx, node, "memory", evidence))
    pool_key, pool_value = pool_of(node)
    created = (node.get("metadata") or {}).get("creationTimestamp")
    age = view.age_seconds(created)
    if pool_value:
        other_pools = sorted(
            {
                pool_of(n)[1]
                for n in view.all("Node")
                if n is not node and pool_of(n)[1] and pool_of(n)[1] != pool_value
            }
        )
        recent = age is not None and age <= 2 * 86400
        text = f"It belongs to node pool/group {pool_value} ({pool_key})"
        if other_pools:
            text += f"; the other nodes are in {', '.join(other_pools)}"
        if recent and age is not None:
            text += f"; it joined {human_age(age)} ago, from a new node group"
        parts.append(text + ".")
    elif age is not None and age <= 2 * 86400:
        parts.append(f"The node joined {human_age(age)} ago.")
    # node events (kubelet / node controller)
    node_events = [
        e
        for e in view.events_for(node)
        if e.get("type") == "Warning"
        or e.get("reason")
        in ("NodeNotReady", "NodeHasDiskPressure", "NodeHasInsufficientMemory", "NodeHasInsufficientPID")
    ]
    node_events = [e for e in node_events if (view.age_seconds(event_time(e)) or 0) <= RECENT]
    for event in node_events[-3:]:
        evidence.append(
            ctx.cite("event", node, f"{event.get('reason')}{_count(event)}: {event.get('message')}")
        )
        parts.append(
            f'{event.get("reason")}{_count(event)}: "{(event.get("message") or "").strip()}" '
            f"[{evidence[-1]}]."
        )
    # pods hurt on it
    on_node = [p for p in view.all("Pod") if (p.get("spec") or {}).get("nodeName") == ref.name]
    evicted = [p for p in on_node if (p.get("status") or {}).get("reason") == "Evicted"]
    terminating = [p for p in on_node if (p.get("metadata") or {}).get("deletionTimestamp")]
    if evicted:
        first = evicted[0]
        evidence.append(
            ctx.cite("status", first, f"Evicted: {(first.get('status') or {}).get('message', '').strip()}")
        )
        parts.append(
            f"The kubelet Evicted {len(evicted)} pod(s) ({', '.join(Ref.of(p).name for p in evicted[:4])}): "
            f'"{(first.get("status") or {}).get("message", "").strip()}" [{evidence[-1]}]. The '
            "evicted pods are "
            "the victims the kubelet chose, not the reason the node ran out."
        )
    if terminating:
        names = ", ".join(
            f"{Ref.of(p).name} ({Ref.of(view.top_owner(p)).kind} {Ref.of(view.top_owner(p)).name})"
            for p in terminating[:4]
        )
        first = terminating[0]
        evidence.append(
            ctx.cite(
                "status",
                first,
                f"deletionTimestamp {(first.get('metadata') or {}).get('deletionTimestamp')} but "
                "still present",
            )
        )
        parts.append(
            f"Pods on it are stuck Terminating: {names} — marked for deletion "
            f"{_ago(view, (first.get('metadata') or {}).get('deletionTimestamp'))}, but the "
            "unreachable kubelet "
            f"cannot confirm it, so their controllers cannot replace them [{evidence[-1]}]."
        )
        evictions = [
            e for p in terminating for e in view.events_for(p) if e.get("reason") == "TaintManagerEviction"
        ]
        if evictions:
            evidence.append(
                ctx.cite("event", terminating[0], f"TaintManagerEviction: {evictions[0].get('message')}")
            )
            parts.append(f'TaintManagerEviction: "{evictions[0].get("message")}" [{evidence[-1]}].')
    if ready is not None and view.metrics_available and view.get("NodeMetrics", "", ref.name) is None:
        parts.append("There are no NodeMetrics for it (metrics-server cannot reach its kubelet either).")
    if pressures and any(c.get("type") == "DiskPressure" for c in pressures):
        parts.extend(_image_sizes(ctx, on_node, evidence))
    affected = bool(evicted or terminating)
    in_scope_on_node = any((p.get("spec") or {}).get("nodeName") == ref.name for p in ctx.in_scope_pods())
    if is_target:
        confidence = 0.9
    elif ready is not None or affected:
        confidence = 0.8 if in_scope_on_node else 0.6
    else:
        confidence = 0.6 if in_scope_on_node else 0.4
    kinds = [f"{c.get('type')}={c.get('status')}" for c in bad]
    what = f"NotReady ({ready.get('reason') or ''})" if ready is not None else ", ".join(kinds)
    if ready is not None and (ready_message := (ready.get("message") or "").strip()):
        what = f"NotReady — {ready_message.rstrip('.')}"
    consequence = ""
    if evicted:
        consequence = f", {len(evicted)} pod(s) Evicted"
    if terminating:
        consequence += f", pod(s) stuck Terminating ({', '.join(Ref.of(p).name for p in terminating[:3])})"
    summary = f"Node {ref.name} is {what}{consequence}"
    if ready is None and pressures:
        summary = f"Node {ref.name} has {', '.join(kinds)}{consequence}"
    recommendations = _node_recommendations(ref, ready is not None, pressures, terminating)
    return Finding(
        category="node-problem",
        resource=ref,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=[],
        facts={"conditions": kinds},
        recommendations=recommendations,
    )


def _capacity_comparison(ctx: Context, node: dict, resource: str, evidence: list[str]) -> list[str]:
    view = ctx.view
    capacity_raw = ((node.get("status") or {}).get("capacity") or {}).get(resource)
    capacity = parse_quantity(capacity_raw)
    if capacity is None:
        return []
    others = []
    for other in view.all("Node"):
        if other is node:
            continue
        raw = ((other.get("status") or {}).get("capacity") or {}).get(resource)
        value = parse_quantity(raw)
        if value:
            others.append((raw, value))
    text = f"capacity {resource} {capacity_raw} ({fmt_bytes(capacity)})"
    if others:
        raw, biggest = max(others, key=lambda item: item[1])
        text += f" vs {raw} ({fmt_bytes(biggest)}) on the other nodes"
        evidence.append(ctx.cite("status", node, text))
        if capacity < 0.6 * biggest:
            return [
                f"Its {resource} capacity is only {capacity_raw} ({fmt_bytes(capacity)}), against {raw} "
                f"({fmt_bytes(biggest)}) on the other nodes [{evidence[-1]}]: a small "
                + ("root volume / small disk" if resource == "ephemeral-storage" else "memory size")
                + " for what runs on it."
            ]
        return [f"Its {resource} capacity: {text} [{evidence[-1]}]."]
    evidence.append(ctx.cite("status", node, text))
    return [f"Its {resource} capacity is {capacity_raw} ({fmt_bytes(capacity)}) [{evidence[-1]}]."]


_IMAGE_SIZE = re.compile(r"Image size: (\d+) bytes")


def _image_sizes(ctx: Context, pods: list[dict], evidence: list[str]) -> list[str]:
    sizes = []
    for pod in pods:
        for event in ctx.view.events_for(pod):
            match = _IMAGE_SIZE.search(event.get("message") or "")
            if match:
                sizes.append((int(match.group(1)), pod, event))
    if not sizes:
        return []
    size, pod, event = max(sizes, key=lambda item: item[0])
    evidence.append(ctx.cite("event", pod, f"Pulled: {event.get('message')}"))
    return [
        f"The largest image pulled onto it is {size / 1e9:.1f} GB (pod {Ref.of(pod).name}) [{evidence[-1]}], "
        "which the disk has to hold besides logs and emptyDir volumes."
    ]


def _node_recommendations(
    ref: Ref, not_ready: bool, pressures: list[dict], terminating: list[dict]
) -> list[Recommendation]:
    name = ref.name
    recommendations = []
    if not_ready:
        recommendations.append(
            Recommendation(
                "Bring the node back or take it out",
                "immediate",
                "Check the machine (console, kubelet service); if it cannot come back, cordon and "
                "delete the Node "
                "so the stuck pods are released and their controllers replace them.",
                [kubectl.describe(ref), kp.cordon(name), f"kubectl delete node {kubectl.q(name)}"],
            )
        )
        if terminating:
            recommendations.append(
                Recommendation(
                    "Release pods stuck Terminating (only once the node is confirmed down)",
                    "immediate",
                    "Force-deleting a StatefulSet pod while its node may still run it risks two writers.",
                    [kp.force_delete_pod(Ref.of(p)) for p in terminating[:3]],
                )
            )
    for condition in pressures:
        if condition.get("type") == "DiskPressure":
            recommendations.append(
                Recommendation(
                    "Free disk space on the node and stop new pods landing on it",
                    "immediate",
                    "Cordon it, drain it to move the workloads to nodes with larger disks, and look "
                    "at what fills "
                    "the root volume (images, logs, emptyDir).",
                    [
                        kp.cordon(name),
                        kp.drain(name),
                        kp.node_debug(name, "df -h /var/lib/containerd /var/log"),
                        kp.get_pods_on_node(name),
                    ],
                )
            )
            recommendations.append(
                Recommendation(
                    "Give the node group a root volume sized for its images",
                    "preventive",
                    "Raise the launch template / node pool disk size to match the other groups, set "
                    "ephemeral-storage requests and limits, and alert on node filesystem usage before the "
                    "eviction threshold.",
                    [],
                )
            )
        elif condition.get("type") == "MemoryPressure":
            recommendations.append(
                Recommendation(
                    "Relieve memory pressure",
                    "immediate",
                    "Find the pods using the most memory on the node and move or limit them.",
                    [kp.top_nodes(), kp.get_pods_on_node(name), kp.cordon(name)],
                )
            )
        elif condition.get("type") == "PIDPressure":
            recommendations.append(
                Recommendation(
                    "Find the process leak",
                    "immediate",
                    "A container forks without reaping; set pod pids limits.",
                    [kp.get_pods_on_node(name), kp.node_debug(name, "ps -eLf")],
                )
            )
    recommendations.append(
        Recommendation(
            "Read the node's own logs",
            "immediate",
            "The kubelet and container runtime logs explain why the node stopped reporting or filled up.",
            [kp.node_debug(name, "journalctl -u kubelet -u containerd --since -2h")],
        )
    )
    recommendations.append(
        Recommendation(
            "Make node loss survivable",
            "preventive",
            "PodDisruptionBudgets and spread constraints for stateful workloads, node auto-repair, "
            "and alerts on "
            "NotReady/pressure conditions.",
            [],
        )
    )
    return recommendations


# ------------------------------------------------------------------------------------------------
# hpa-at-max


def _hpas_in_scope(ctx: Context) -> list[dict]:
    view = ctx.view
    found: list[dict] = []
    if ctx.target.kind == "HorizontalPodAutoscaler":
        hpa = view.get("HorizontalPodAutoscaler", ctx.namespace, ctx.target.name)
        if hpa is not None:
            found.append(hpa)
    for workload in ctx.in_scope_workloads():
        ref = Ref.of(workload)
        for hpa in view.all("HorizontalPodAutoscaler", ref.namespace):
            scale = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
            if (
                scale.get("kind") == ref.kind
                and scale.get("name") == ref.name
                and all(hpa is not h for h in found)
            ):
                found.append(hpa)
    return found


def hpa_metrics(hpa: dict) -> list[tuple[str, float | None, float | None, str, str]]:
    """(metric, current, target, unit, current raw) per metric of an autoscaling/v2 HPA."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    result = []
    currents = status.get("currentMetrics") or []
    metrics = spec.get("metrics") or []
    if not metrics and spec.get("targetCPUUtilizationPercentage") is not None:
        result.append(
            (
                "cpu",
                status.get("currentCPUUtilizationPercentage"),
                spec.get("targetCPUUtilizationPercentage"),
                "%",
                "",
            )
        )
        return result
    for metric in metrics:
        kind = metric.get("type", "")
        key = {
            "Resource": "resource",
            "ContainerResource": "containerResource",
            "Pods": "pods",
            "Object": "object",
            "External": "external",
        }.get(kind, "")
        body = metric.get(key) or {}
        name = body.get("name") or (body.get("metric") or {}).get("name") or kind
        target = body.get("target") or {}
        current_body = next(
            (
                (c.get(key) or {}).get("current") or {}
                for c in currents
                if c.get("type") == kind
                and ((c.get(key) or {}).get("name") or ((c.get(key) or {}).get("metric") or {}).get("name"))
                == name
            ),
            {},
        )
        if target.get("averageUtilization") is not None:
            result.append(
                (
                    name,
                    current_body.get("averageUtilization"),
                    float(target["averageUtilization"]),
                    "%",
                    str(current_body.get("averageValue") or ""),
                )
            )
        else:
            wanted = target.get("averageValue") or target.get("value")
            got = current_body.get("averageValue") or current_body.get("value")
            result.append((name, parse_quantity(got), parse_quantity(wanted), "", str(got or "")))
    return result


@analyzer("hpa-at-max")
def hpa_at_max(ctx: Context) -> list[Finding]:
    findings = []
    for hpa in _hpas_in_scope(ctx):
        finding = _hpa_finding(ctx, hpa)
        if finding:
            findings.append(finding)
    findings.sort(key=lambda f: f.confidence, reverse=True)
    return findings[:1]


def _condition(obj: dict, kind: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def _hpa_finding(ctx: Context, hpa: dict) -> Finding | None:
    view = ctx.view
    ref = Ref.of(hpa)
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    maximum = spec.get("maxReplicas")
    minimum = spec.get("minReplicas", 1)
    current = status.get("currentReplicas")
    desired = status.get("desiredReplicas")
    limited = _condition(hpa, "ScalingLimited")
    active = _condition(hpa, "ScalingActive")
    metrics = hpa_metrics(hpa)
    above = [m for m in metrics if m[1] is not None and m[2] and m[1] > m[2]]
    scale = spec.get("scaleTargetRef") or {}
    target_ref = Ref(scale.get("kind", ""), ref.namespace, scale.get("name", ""))
    evidence: list[str] = []
    parts: list[str] = []
    if maximum is None or current is None:
        return None
    at_max = current >= maximum
    if not at_max:
        if active.get("status") == "False" and ctx.target.kind == "HorizontalPodAutoscaler":
            evidence.append(
                ctx.cite(
                    "status", hpa, f"ScalingActive=False {active.get('reason')}: {active.get('message')}"
                )
            )
            return Finding(
                category="hpa-at-max",
                resource=ref,
                confidence=0.6,
                summary=f"HorizontalPodAutoscaler {ref.name} cannot read its metrics "
                f"({active.get('reason')})",
                explanation=(
                    f"HPA {ref.name} has ScalingActive=False ({active.get('reason')}: "
                    f'"{active.get("message")}") '
                    f"[{evidence[-1]}]: it cannot compute a replica count and stays at {current} replicas."
                ),
                evidence=evidence,
                recommendations=[
                    Recommendation(
                        "Check the metrics pipeline",
                        "immediate",
                        "metrics-server / the custom metrics adapter must serve the HPA's metrics.",
                        [kubectl.describe(ref), "kubectl get apiservices | grep metrics"],
                    )
                ],
            )
        return None  # resting at minReplicas, or anywhere below max, is the HPA working
    evidence.append(
        ctx.cite(
            "status",
            hpa,
            f"currentReplicas={current} desiredReplicas={desired} minReplicas={minimum} "
            f"maxReplicas={maximum}",
        )
    )
    parts.append(
        f"HorizontalPodAutoscaler {ref.name} is at maxReplicas: currentReplicas {current} = "
        f"maxReplicas {maximum} "
        f"(desired {desired}, minReplicas {minimum}) for {target_ref.kind} {target_ref.name} "
        f"[{evidence[-1]}]."
    )
    confidence = 0.6
    if limited.get("status") == "True" and limited.get("reason") == "TooManyReplicas":
        evidence.append(
            ctx.cite(
                "status",
                hpa,
                f"ScalingLimited=True TooManyReplicas: {limited.get('message')} since "
                f"{limited.get('lastTransitionTime')}",
            )
        )
        parts.append(
            f'ScalingLimited=True, reason TooManyReplicas ("{limited.get("message")}") since '
            f"{ts(limited.get('lastTransitionTime', ''))} ({_ago(view, limited.get('lastTransitionTime'))}) "
            f"[{evidence[-1]}]: it wants more pods than it may create."
        )
        confidence = 0.8
    if above:
        texts = []
        for name, got, wanted, unit, raw in above:
            if unit == "%":
                texts.append(
                    f"{name} utilization {got:g}% of requests"
                    + (f" ({raw} per pod)" if raw else "")
                    + f" vs target {wanted:g}%"
                )
            else:
                texts.append(f"{name} {raw or got} vs target {wanted:g}")
        evidence.append(ctx.cite("metric", hpa, "; ".join(texts)))
        ratio = max((got / wanted) for _n, got, wanted, _u, _r in above if wanted and got is not None)
        parts.append(
            f"Its metrics are far above target: {'; '.join(texts)} [{evidence[-1]}] — demand is about "
            f"{ratio:.1f}x what {maximum} replicas are sized for, a traffic surge / load spike the "
            "maximum cannot absorb."
        )
        confidence = 0.9 if confidence >= 0.8 else 0.8
    elif metrics:
        # at max but metrics at or below target: the cap is not what hurts
        confidence = min(confidence, 0.45)
    rescales = [e for e in view.events_for(hpa) if e.get("reason") == "SuccessfulRescale"]
    rescales = [e for e in rescales if (view.age_seconds(event_time(e)) or 0) <= RECENT]
    if rescales:
        steps = []
        for event in rescales[-5:]:
            size = re.search(r"New size: (\d+)", event.get("message") or "")
            steps.append(f"{size.group(1) if size else '?'} at {ts(event_time(event))[11:16]}")
        evidence.append(ctx.cite("event", hpa, "SuccessfulRescale: " + ", ".join(steps)))
        parts.append(
            f"It scaled up step by step (SuccessfulRescale to {', '.join(steps)}) [{evidence[-1]}] "
            "until it hit "
            "the maximum: load kept growing."
        )
    workload = view.get(target_ref.kind, target_ref.namespace, target_ref.name)
    if workload is not None:
        throttle_text, at_limit = _throttle_check(ctx, workload, evidence)
        parts.extend(throttle_text)
        if at_limit:
            # pods pinned at their CPU limit: the limit throttles them, a more specific cause
            confidence = min(confidence, 0.6)
            parts.append("The pods run at their CPU limit, so CPU throttling is the more specific cause.")
        pending = [p for p in view.pods_of(workload) if (p.get("status") or {}).get("phase") == "Pending"]
        if pending:
            # replicas that cannot schedule: the capacity problem is scheduling, not the HPA's maximum
            confidence = min(confidence, 0.7)
            parts.append(
                f"{len(pending)} of its pods are Pending, so even {maximum} replicas are not all running."
            )
    edit = _last_spec_edit(view, hpa)
    if edit:
        parts.append(f"maxReplicas was last set {edit}.")
    ratios = (g / w for _n, g, w, _u, _r in above if w and g is not None)
    bigger = int(maximum * max(1.5, min(3.0, max(ratios, default=1.5))))
    recommendations = [
        Recommendation(
            "Raise the HPA maximum for the load",
            "immediate",
            f"Allow more replicas (for example {bigger}) — check that nodes (or the cluster autoscaler) and "
            "downstream dependencies can take them.",
            [kp.patch_hpa_max(ref, bigger), kubectl.describe(ref)],
        ),
        Recommendation(
            "Watch the scale-out",
            "immediate",
            "Replica count, pod CPU against requests, and pods that do not schedule.",
            [
                f"kubectl -n {kubectl.q(ref.namespace)} get hpa {kubectl.q(ref.name)} -w",
                f"kubectl -n {kubectl.q(ref.namespace)} top pods",
                kp.get_pods_pending(ref.namespace),
            ],
        ),
        Recommendation(
            "Size maxReplicas from peak load",
            "preventive",
            "Load-test to the expected peak, pre-scale (raise minReplicas) before planned events, "
            "and alert when "
            "an HPA sits at its maximum.",
            [],
        ),
    ]
    metric_text = ""
    if above:
        name, got, wanted, unit, _raw = above[0]
        metric_text = f", {name} {got:g}{unit} vs target {wanted:g}{unit}"
    summary = (
        f"HorizontalPodAutoscaler {ref.name} is pinned at maxReplicas {maximum}"
        + (
            " (ScalingLimited TooManyReplicas"
            if confidence >= 0.8 and limited.get("reason") == "TooManyReplicas"
            else " ("
        )
        + f"{metric_text}): load exceeds the autoscaler's maximum"
    )
    summary = summary.replace("( , ", "(").replace("(, ", "(")
    return Finding(
        category="hpa-at-max",
        resource=ref,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=[Contributing(target_ref, f"scaled by {ref.name}, capped at {maximum} replicas")],
        facts={"current": current, "max": maximum, "metrics": [m[:3] for m in metrics]},
        recommendations=recommendations,
    )


def _throttle_check(ctx: Context, workload: dict, evidence: list[str]) -> tuple[list[str], bool]:
    """Pods' CPU use vs their limit: far below it means the HPA cap, not throttling, limits capacity."""
    view = ctx.view
    usages, limits = [], []
    for pod in view.pods_of(workload):
        metrics = view.metrics_for(pod)
        if not metrics:
            continue
        for container in metrics.get("containers") or []:
            usage = parse_quantity((container.get("usage") or {}).get("cpu"))
            spec: dict = next(
                (c for c in pod_spec(pod).get("containers") or [] if c.get("name") == container.get("name")),
                {},
            )
            limit = parse_quantity(((spec.get("resources") or {}).get("limits") or {}).get("cpu"))
            if usage is not None:
                usages.append(usage)
                if limit:
                    limits.append(limit)
    if not usages:
        return [], False
    low, high = min(usages), max(usages)
    text = f"pods use {fmt_amount('cpu', low)} to {fmt_amount('cpu', high)} CPU each"
    if limits and high < 0.8 * min(limits):
        text += f", below their {fmt_amount('cpu', min(limits))} CPU limit (not throttled)"
    evidence.append(ctx.cite("metric", workload, text))
    at_limit = bool(limits) and sorted(usages)[len(usages) // 2] >= 0.9 * min(limits)
    if at_limit:
        text += f", at their {fmt_amount('cpu', min(limits))} CPU limit"
    return [f"PodMetrics: {text} [{evidence[-1]}]."], at_limit


def _last_spec_edit(view: ClusterView, obj: dict) -> str:
    best = None
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("subresource") == "status":
            continue
        if "f:spec" in (entry.get("fieldsV1") or {}) and (
            best is None or entry.get("time", "") > best.get("time", "")
        ):
            best = entry
    if not best or not best.get("time"):
        return ""
    return f"{_ago(view, best['time'])} by {best.get('manager', 'someone')}"


# ------------------------------------------------------------------------------------------------
# quota-exceeded

_QUOTA = re.compile(
    r"exceeded quota: (?P<name>[^,\s]+), requested: (?P<requested>.+?), used: (?P<used>.+?), "
    r"limited: (?P<limited>[^\n]+)"
)
_QUOTA_SPECIFY = re.compile(r"failed quota: (?P<name>[^:\s]+): must specify (?P<what>[^\n]+)")
_LIMITRANGE = re.compile(
    r"forbidden: (?P<what>(maximum|minimum) (?P<resource>[\w.-]+) usage per "
    r"(?P<scope>Container|Pod|PersistentVolumeClaim) is (?P<bound>\S+)"
    r"(, but (limit|request) is (?P<value>\S+))?)",
    re.I,
)


@analyzer("quota-exceeded")
def quota_exceeded(ctx: Context) -> list[Finding]:
    view = ctx.view
    sources = _creators_in_scope(ctx)
    hits: list[tuple[dict, dict | None, str]] = []
    for creator in sources:
        for event in view.events_for(creator):
            if event.get("reason") != "FailedCreate":
                continue
            age = view.age_seconds(event_time(event))
            if age is not None and age > RECENT:
                continue
            message = event.get("message") or ""
            if _QUOTA.search(message) or _LIMITRANGE.search(message) or _QUOTA_SPECIFY.search(message):
                hits.append((creator, event, message))
        for condition in (creator.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
                message = condition.get("message") or ""
                if _QUOTA.search(message) or _LIMITRANGE.search(message) or _QUOTA_SPECIFY.search(message):
                    hits.append((creator, None, message))
    if not hits:
        return []
    hits.sort(key=lambda h: 0 if h[1] is not None else 1)
    creator, cause_event, message = hits[0]
    quota = _QUOTA.search(message)
    if quota:
        return [_quota_finding(ctx, creator, cause_event, message, quota)]
    specify = _QUOTA_SPECIFY.search(message)
    if specify:
        return [_quota_specify_finding(ctx, creator, cause_event, message, specify)]
    limitrange = _LIMITRANGE.search(message)
    assert limitrange is not None  # hits keep only messages that one of the three patterns matched
    return [_limitrange_finding(ctx, creator, cause_event, message, limitrange)]


def _creators_in_scope(ctx: Context) -> list[dict]:
    """The controllers that create the in-scope pods: workloads and what they own (ReplicaSets, Jobs)."""
    view = ctx.view
    creators: list[dict] = []

    def add(obj: dict | None) -> None:
        if obj is not None and all(obj is not c for c in creators):
            creators.append(obj)

    workloads = list(ctx.in_scope_workloads())
    target = view.get(ctx.target.kind, ctx.namespace, ctx.target.name) if ctx.target.known else None
    if target is not None and target.get("kind") in (
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "ReplicaSet",
    ):
        workloads.insert(0, target)
    for workload in workloads:
        add(workload)
        for child in view.owned_by(workload):
            if child.get("kind") in ("ReplicaSet", "Job"):
                add(child)
    return creators


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def _quota_finding(ctx: Context, creator: dict, event: dict | None, message: str, match: re.Match) -> Finding:
    view = ctx.view
    creator_ref = Ref.of(creator)
    namespace = creator_ref.namespace
    name = match.group("name")
    requested, used, limited = (_pairs(match.group(g)) for g in ("requested", "used", "limited"))
    resource = next(iter(requested), "")
    quota = view.get("ResourceQuota", namespace, name)
    quota_ref = Ref("ResourceQuota", namespace, name)
    evidence = [
        ctx.cite(
            "event" if event else "status",
            creator,
            (f"FailedCreate{_count(event)}: " if event else "ReplicaFailure: ") + message,
        )
    ]
    owner = view.top_owner(creator)
    owner_ref = Ref.of(owner)
    parts = [
        f"{creator_ref.kind} {creator_ref.name} ({owner_ref.kind} {owner_ref.name}) cannot create pods: "
        f'FailedCreate "{message.strip()}" [{evidence[0]}]. The API server rejects the pod before it exists '
        "(exceeded quota), so no pod is even Pending."
    ]
    if quota is not None:
        hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used_now = (quota.get("status") or {}).get("used") or {}
        rows = [f"{k} used {used_now.get(k, '?')} of hard {hard.get(k)}" for k in requested if k in hard]
        evidence.append(ctx.cite("status", quota, f"ResourceQuota {name}: " + "; ".join(rows)))
        parts.append(f"ResourceQuota {name}: {'; '.join(rows)} [{evidence[-1]}].")
    for key in requested:
        parts.append(
            f"A new pod needs {key}={requested[key]} but {used.get(key, '?')} of the "
            f"{limited.get(key, '?')} limit "
            f"is already used ({used.get(key, '?')} of {limited.get(key, '?')})."
        )
    consumers = _quota_consumers(view, namespace, resource, quota)
    contributing = [Contributing(creator_ref, f"FailedCreate: exceeded quota {name}")]
    newest = None
    if consumers:
        text = "; ".join(
            f"{ref.kind} {ref.name}: {count} pod(s) = {fmt_amount(_base(resource), total)} "
            f"(created {_ago(view, created)})"
            for ref, count, total, created, _obj in consumers
        )
        evidence.append(ctx.cite("status", quota or creator, f"{resource} by workload: {text}"))
        parts.append(f"Who uses the quota's {resource}: {text} [{evidence[-1]}].")
        recent = [c for c in consumers if c[0] != owner_ref and (view.age_seconds(c[3]) or 1e12) <= 2 * 86400]
        if recent:
            newest = max(recent, key=lambda c: c[3] or "")
            ref, count, total, created, obj = newest
            manager = _creator_manager(obj)
            parts.append(
                f"{ref.kind} {ref.name} is a new workload, created {_ago(view, created)}"
                + (f" by {manager}" if manager else "")
                + f": its {count} pod(s) take {fmt_amount(_base(resource), total)} of the quota, "
                "which left no room "
                f"for {owner_ref.name}'s replacement pod."
            )
            contributing.append(
                Contributing(
                    ref, f"new since {created}, uses {fmt_amount(_base(resource), total)} of {resource}"
                )
            )
    bumped = _bump(limited.get(resource), requested.get(resource))
    recommendations = [
        Recommendation(
            "Make room in the quota",
            "immediate",
            f"Raise {resource} in ResourceQuota {name}"
            + (f" (to at least {bumped})" if bumped else "")
            + (f", or scale down / resize {newest[0].name}" if newest else "")
            + "; the ReplicaSet retries on its own once the pod fits.",
            [
                kubectl.describe(quota_ref),
                *(
                    [kubectl.patch_merge(quota_ref, json.dumps({"spec": {"hard": {resource: bumped}}}))]
                    if bumped
                    else []
                ),
                *(
                    [kubectl.scale(newest[0], max(0, newest[1] - 1))]
                    if newest and newest[0].kind in ("Deployment", "StatefulSet")
                    else []
                ),
            ],
        ),
        Recommendation(
            "Confirm the rejection",
            "immediate",
            "The controller's FailedCreate events and the quota's usage.",
            [kubectl.events(creator_ref), kp.quota_usage(namespace)],
        ),
        Recommendation(
            "Budget the namespace for surge and new workloads",
            "preventive",
            "Size quotas for rolling updates and node drains (maxSurge pods), review quota headroom "
            "when adding "
            "workloads to a namespace, and alert when usage passes 85% of hard.",
            [],
        ),
    ]
    summary = (
        f"ResourceQuota {name} exceeded: {owner_ref.kind} {owner_ref.name} cannot create pods — "
        f"requested {resource}={requested.get(resource)}, used {used.get(resource)} of "
        f"{limited.get(resource)}"
        + (
            f" (new {newest[0].kind} {newest[0].name} uses {fmt_amount(_base(resource), newest[2])})"
            if newest
            else ""
        )
    )
    return Finding(
        category="quota-exceeded",
        resource=quota_ref,
        confidence=0.9 if quota is not None else 0.8,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"quota": name, "requested": requested, "used": used, "limited": limited},
        recommendations=recommendations,
    )


def _quota_specify_finding(
    ctx: Context, creator: dict, event: dict | None, message: str, match: re.Match
) -> Finding:
    """A quota on limits/requests makes them mandatory: pods without them are rejected."""
    creator_ref = Ref.of(creator)
    quota_ref = Ref("ResourceQuota", creator_ref.namespace, match.group("name"))
    owner_ref = Ref.of(ctx.view.top_owner(creator))
    evidence = [ctx.cite("event" if event else "status", creator, f"FailedCreate: {message}")]
    return Finding(
        category="quota-exceeded",
        resource=quota_ref,
        confidence=0.85,
        summary=f"ResourceQuota {quota_ref.name} rejects {owner_ref.kind} {owner_ref.name}'s pods: "
        f"must specify {match.group('what')[:100]}",
        explanation=(
            f'{creator_ref.kind} {creator_ref.name} cannot create pods: "{message.strip()}" [{evidence[0]}]. '
            f"ResourceQuota {quota_ref.name} constrains those resources, so every pod must set them; the pod "
            "template does not (and no LimitRange default fills them in)."
        ),
        evidence=evidence,
        contributing=[Contributing(owner_ref, f"pod template lacks {match.group('what')[:80]}")],
        recommendations=[
            Recommendation(
                "Set the resources the quota requires",
                "immediate",
                "Add requests/limits to the containers, or a LimitRange with defaults in the namespace.",
                [kubectl.describe(quota_ref), kubectl.events(creator_ref)],
            ),
            Recommendation(
                "Default resources per namespace",
                "preventive",
                "A LimitRange with default requests/limits next to every ResourceQuota.",
                [],
            ),
        ],
    )


def _base(resource: str) -> str:
    return resource.split(".", 1)[1] if "." in resource else resource


def _bump(limited: str | None, requested: str | None) -> str | None:
    total = (parse_quantity(limited) or 0) + (parse_quantity(requested) or 0)
    if not total or limited is None:
        return None
    if re.search(r"[KMGTP]i$", limited):
        return fmt_bytes(total)
    if limited.endswith("m"):
        return f"{int(total * 1000)}m"
    return f"{total:g}"


def _quota_consumers(view: ClusterView, namespace: str, resource: str, quota: dict | None):
    """(workload ref, pod count, total of `resource`, created, workload) for pods counted by the quota."""
    section, _dot, key = resource.partition(".")
    if not key:
        section, key = "requests", resource
    totals: dict[Ref, list] = {}
    for pod in view.all("Pod", namespace):
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        amount = 0.0
        for container in pod_spec(pod).get("containers") or []:
            resources = container.get("resources") or {}
            value = (resources.get(section) or {}).get(key)
            if value is None and section == "requests":
                value = (resources.get("limits") or {}).get(key)
            amount += parse_quantity(value) or 0.0
        if key == "pods" or resource == "pods":
            amount = 1.0
        owner = view.top_owner(pod)
        ref = Ref.of(owner)
        entry = totals.setdefault(
            ref, [0, 0.0, (owner.get("metadata") or {}).get("creationTimestamp"), owner]
        )
        entry[0] += 1
        entry[1] += amount
    result = [(ref, v[0], v[1], v[2], v[3]) for ref, v in totals.items() if v[1] > 0]
    result.sort(key=lambda item: item[2], reverse=True)
    return result


def _creator_manager(obj: dict) -> str:
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    return entries[0].get("manager", "") if entries else ""


def _limitrange_finding(
    ctx: Context, creator: dict, event: dict | None, message: str, match: re.Match
) -> Finding:
    view = ctx.view
    creator_ref = Ref.of(creator)
    namespace = creator_ref.namespace
    resource = match.group("resource")
    bound = match.group("bound")
    ranges = view.all("LimitRange", namespace)
    chosen = None
    for candidate in ranges:
        for item in (candidate.get("spec") or {}).get("limits") or []:
            for field in ("max", "min"):
                if str((item.get(field) or {}).get(resource)) == bound:
                    chosen = candidate
    chosen = chosen or (ranges[0] if ranges else None)
    ref = Ref.of(chosen) if chosen else Ref("LimitRange", namespace, "")
    evidence = [
        ctx.cite(
            "event" if event else "status",
            creator,
            (f"FailedCreate{_count(event)}: " if event else "") + message,
        )
    ]
    owner_ref = Ref.of(view.top_owner(creator))
    parts = [
        f'{creator_ref.kind} {creator_ref.name} cannot create pods: "{message.strip()}" [{evidence[0]}]. '
        f"A LimitRange in {namespace} forbids it: {match.group('what')}."
    ]
    if chosen:
        evidence.append(
            ctx.cite("spec", chosen, f"LimitRange {ref.name}: {(chosen.get('spec') or {}).get('limits')}")
        )
        parts.append(
            f"LimitRange {ref.name} sets {(chosen.get('spec') or {}).get('limits')} [{evidence[-1]}]."
        )
    return Finding(
        category="quota-exceeded",
        resource=ref if chosen else owner_ref,
        confidence=0.9 if chosen else 0.7,
        summary=f"LimitRange {ref.name or '(namespace)'} forbids {owner_ref.kind} {owner_ref.name}'s pods: "
        f"{match.group('what')}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=[Contributing(owner_ref, "its pods exceed the LimitRange")],
        recommendations=[
            Recommendation(
                "Fit the pod into the LimitRange (or change the range)",
                "immediate",
                f"Lower the container's {resource} to at most {bound}, or raise the LimitRange maximum.",
                [kubectl.describe(ref) if chosen else kp.quota_usage(namespace), kubectl.events(creator_ref)],
            ),
            Recommendation(
                "Validate resources against namespace policy in CI",
                "preventive",
                "Render manifests and check them against the namespace LimitRange before deploying.",
                [],
            ),
        ],
    )


# ------------------------------------------------------------------------------------------------
# job-failed


def _jobs_in_scope(ctx: Context) -> list[dict]:
    view = ctx.view
    jobs: list[dict] = []
    if ctx.target.kind == "Job":
        job = view.get("Job", ctx.namespace, ctx.target.name)
        if job is not None:
            jobs.append(job)
    candidates = list(ctx.in_scope_workloads())
    if ctx.target.kind == "CronJob":
        cronjob = view.get("CronJob", ctx.namespace, ctx.target.name)
        if cronjob is not None:
            candidates.insert(0, cronjob)
    for workload in candidates:
        if workload.get("kind") == "Job" and all(workload is not j for j in jobs):
            jobs.append(workload)
        if workload.get("kind") == "CronJob" and not jobs:
            owned = sorted(
                view.owned_by(workload, "Job"),
                key=lambda j: (j.get("status") or {}).get("startTime") or "",
                reverse=True,
            )
            jobs.extend(owned[:1])
    return jobs


@analyzer("job-failed")
def job_failed(ctx: Context) -> list[Finding]:
    for job in _jobs_in_scope(ctx):
        failed = _condition(job, "Failed")
        if failed.get("status") != "True":
            continue
        return [_job_finding(ctx, job, failed)]
    return []


def _job_finding(ctx: Context, job: dict, failed: dict) -> Finding:
    view = ctx.view
    ref = Ref.of(job)
    spec, status = job.get("spec") or {}, job.get("status") or {}
    reason = failed.get("reason") or "Failed"
    message = failed.get("message") or ""
    cronjob = view.owner(job)
    cronjob = cronjob if cronjob is not None and cronjob.get("kind") == "CronJob" else None
    evidence = [ctx.cite("status", job, f"condition Failed=True reason {reason}: {message}")]
    parts = [f'Job {ref.name} failed: condition Failed, reason {reason} ("{message}") [{evidence[0]}].']
    started = status.get("startTime")
    deadline = spec.get("activeDeadlineSeconds")
    backoff = spec.get("backoffLimit", 6)
    contributing: list[Contributing] = []
    confidence = 0.8
    summary_cause = f"{reason}"
    if reason == "DeadlineExceeded" and deadline:
        ended = failed.get("lastTransitionTime")
        ran = None
        start_time, end_time = parse_time(started), parse_time(ended)
        if start_time and end_time:
            ran = (end_time - start_time).total_seconds()
        evidence.append(
            ctx.cite(
                "spec", job, f"activeDeadlineSeconds={deadline}, backoffLimit={backoff}, startTime={started}"
            )
        )
        parts.append(
            f"Its activeDeadlineSeconds is {deadline} ({fmt_duration(deadline)}, {deadline / 60:g} "
            "minutes); it started "
            f"{ts(started or '')} and was terminated when it was active longer than that deadline"
            + (f" (after {fmt_duration(ran)})" if ran else "")
            + f" [{evidence[-1]}]. The job controller killed the running pod: it was not crashing."
        )
        summary_cause = f"DeadlineExceeded — ran longer than activeDeadlineSeconds {deadline}"
        confidence = 0.9
    elif reason == "BackoffLimitExceeded":
        parts.append(f"It reached backoffLimit {backoff}: {status.get('failed', '?')} pod(s) failed.")
        summary_cause = (
            f"BackoffLimitExceeded after {status.get('failed', '?')} failed pod(s) (backoffLimit {backoff})"
        )
    pods = view.owned_by(job, "Pod")
    specific = ""
    for pod in pods:
        for state in container_states(pod):
            if state.last_reason in ("OOMKilled",) or state.terminated_reason == "OOMKilled":
                specific = "OOMKilled"
            elif state.waiting_reason in (
                "CreateContainerConfigError",
                "ImagePullBackOff",
                "ErrImagePull",
                "InvalidImageName",
            ):
                specific = state.waiting_reason
        terminated = next(
            (s for s in container_states(pod) if s.terminated_reason and s.terminated_reason != "Completed"),
            None,
        )
        if terminated and reason != "DeadlineExceeded":
            term = (
                ((pod.get("status") or {}).get("containerStatuses") or [{}])[0]
                .get("state", {})
                .get("terminated", {})
            )
            evidence.append(
                ctx.cite(
                    "status",
                    pod,
                    f"container {terminated.name} terminated {term.get('reason')} exit "
                    f"{term.get('exitCode')}",
                )
            )
            parts.append(
                f"Pod {Ref.of(pod).name}: container {terminated.name} terminated {term.get('reason')} "
                f"(exit code {term.get('exitCode')}) [{evidence[-1]}]."
            )
    if specific and reason != "DeadlineExceeded":
        # the pods fail for a more specific reason another analyzer names: the Job is only where it shows
        confidence = 0.55
        parts.append(f"Its pods fail with {specific}, which is the more specific cause.")
    if cronjob is not None:
        cron_ref = Ref.of(cronjob)
        history = _run_history(view, cronjob, job)
        if history:
            durations = ", ".join(f"{fmt_duration(d)} ({ts(s)[:10]})" for s, d in history)
            evidence.append(ctx.cite("status", cronjob, f"previous runs: {durations}"))
            growing = len(history) >= 2 and all(b[1] >= a[1] for a, b in itertools.pairwise(history))
            text = f"Previous runs of CronJob {cron_ref.name} took {durations} [{evidence[-1]}]"
            if growing:
                text += ": the runtime is growing run after run (duration increasing)" + (
                    f", the last one at {history[-1][1] / deadline:.0%} of the "
                    f"{fmt_duration(deadline)} deadline, "
                    "so this run took longer than the deadline allows"
                    if deadline and reason == "DeadlineExceeded"
                    else ""
                )
            parts.append(text + ".")
            if growing and reason == "DeadlineExceeded":
                summary_cause += (
                    f", while runtime kept growing ({', '.join(fmt_duration(d) for _s, d in history)})"
                )
            log_line = _last_done_line(view, cronjob)
            if log_line:
                evidence.append(ctx.cite("log", log_line[0], log_line[1]))
                parts.append(f'The last successful run logged "{log_line[1]}" [{evidence[-1]}].')
        template = ((cronjob.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        detail = (
            f"jobTemplate activeDeadlineSeconds={template.get('activeDeadlineSeconds')}, "
            f"backoffLimit={template.get('backoffLimit', 6)}, schedule "
            f"{(cronjob.get('spec') or {}).get('schedule')}"
        )
        contributing.append(Contributing(cron_ref, detail))
    recommendations = _job_recommendations(ref, cronjob, reason, deadline)
    return Finding(
        category="job-failed",
        resource=ref,
        confidence=confidence,
        summary=f"Job {ref.name} failed: {summary_cause}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"reason": reason, "activeDeadlineSeconds": deadline, "backoffLimit": backoff},
        recommendations=recommendations,
    )


def _run_history(view: ClusterView, cronjob: dict, current: dict) -> list[tuple[str, float]]:
    runs = []
    for job in view.owned_by(cronjob, "Job"):
        if job is current:
            continue
        status = job.get("status") or {}
        start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
        if start and end:
            runs.append((status["startTime"], (end - start).total_seconds()))
    runs.sort()
    return runs[-5:]


_DONE = re.compile(r"(done|finished|completed|took)\b.*", re.I)


def _last_done_line(view: ClusterView, cronjob: dict) -> tuple[dict, str] | None:
    for job in sorted(
        view.owned_by(cronjob, "Job"),
        key=lambda j: (j.get("status") or {}).get("startTime") or "",
        reverse=True,
    ):
        for pod in view.owned_by(job, "Pod"):
            for container in pod_spec(pod).get("containers") or []:
                text = view.log(pod, container.get("name", ""))
                for line in reversed(text.strip().splitlines()):
                    if _DONE.search(line):
                        return pod, line.strip()[:200]
    return None


def _job_recommendations(
    ref: Ref, cronjob: dict | None, reason: str, deadline: int | None
) -> list[Recommendation]:
    recommendations = []
    if cronjob is not None:
        cron_ref = Ref.of(cronjob)
        if reason == "DeadlineExceeded" and deadline:
            longer = int(deadline * 2)
            recommendations.append(
                Recommendation(
                    "Give the job the time it now needs, then re-run it",
                    "immediate",
                    f"Raise jobTemplate.spec.activeDeadlineSeconds (for example to {longer}) and "
                    "start a run by hand.",
                    [
                        kubectl.patch_merge(
                            cron_ref,
                            json.dumps(
                                {"spec": {"jobTemplate": {"spec": {"activeDeadlineSeconds": longer}}}}
                            ),
                        ),
                        kp.job_from_cronjob(cron_ref, f"{cron_ref.name}-manual"),
                    ],
                )
            )
        else:
            recommendations.append(
                Recommendation(
                    "Re-run once the cause is fixed",
                    "immediate",
                    "Start a run by hand from the CronJob.",
                    [kp.job_from_cronjob(cron_ref, f"{cron_ref.name}-manual")],
                )
            )
    recommendations.append(
        Recommendation(
            "Look at the run",
            "immediate",
            "The Job's conditions and events, and the history of runs.",
            [kubectl.describe(ref), kubectl.events(ref), kp.jobs_history(ref.namespace)],
        )
    )
    recommendations.append(
        Recommendation(
            "Watch job duration against its deadline",
            "preventive",
            "Alert when a run takes more than 80% of activeDeadlineSeconds, and make the job "
            "incremental or more "
            "parallel as data grows.",
            [],
        )
    )
    return recommendations


# ------------------------------------------------------------------------------------------------
# support for the honest `unknown`


def unknown_notes(ctx: Context) -> str:
    """What the alerting containers' terminations say and what would settle it, for result._unknown.

    Mentions exit codes (137 = SIGKILL) and reasons ("not OOMKilled" when the reason is not
    OOMKilled), memory use against the limit, whether a liveness probe exists (no probe → the kubelet
    did not kill it), kill/eviction events, node conditions, and that node logs would settle it."""
    view = ctx.view
    pods = []
    if ctx.target.kind == "Pod":
        pod = view.get("Pod", ctx.namespace, ctx.target.name)
        if pod is not None:
            pods.append(pod)
    for pod in ctx.in_scope_pods():
        if all(pod is not p for p in pods):
            pods.append(pod)
    restarted = [s for p in pods for s in container_states(p) if s.restarts > 0 or s.last_reason]
    sentences: list[str] = []
    if restarted:
        seen = []
        for state in restarted[:3]:
            exit_code = state.last_exit_code
            signal = {137: " (SIGKILL)", 143: " (SIGTERM)", 139: " (SIGSEGV)"}.get(exit_code or 0, "")
            text = (
                f"container {state.name} of pod {Ref.of(state.pod).name} restarted {state.restarts} "
                "time(s); last "
                f"exit code {exit_code}{signal}, reason {state.last_reason or 'none'}"
            )
            if state.last_reason and state.last_reason != "OOMKilled":
                text += " — not OOMKilled"
            seen.append(text)
        sentences.append("Terminations: " + "; ".join(seen) + ".")
        first = restarted[0]
        container: dict = next(
            (c for c in pod_spec(first.pod).get("containers") or [] if c.get("name") == first.name), {}
        )
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
        metrics = view.metrics_for(first.pod)
        usage = None
        for item in (metrics or {}).get("containers") or []:
            if item.get("name") == first.name:
                usage = (item.get("usage") or {}).get("memory")
        if usage and limit:
            sentences.append(
                f"Memory use is {fmt_bytes(parse_quantity(usage))} of the {limit} limit, far below "
                "it: no sign of an OOM kill."
                if (parse_quantity(usage) or 0) < 0.8 * (parse_quantity(limit) or 1)
                else f"Memory use is {fmt_bytes(parse_quantity(usage))} of the {limit} limit."
            )
        if container.get("livenessProbe"):
            sentences.append("The container has a liveness probe; check its Unhealthy events.")
        else:
            sentences.append("There is no liveness probe, so the kubelet did not kill it for failing one.")
        kill_events = [
            e
            for p in pods
            for e in view.events_for(p)
            if e.get("reason") in ("Killing", "Evicted", "Preempting", "OOMKilling")
            or "liveness probe failed" in (e.get("message") or "").lower()
        ]
        if not kill_events:
            sentences.append("No Killing, Evicted, Preempting or liveness events explain the kill.")
        node = view.node_of(first.pod)
        if node is not None:
            sentences.append(
                f"Node {Ref.of(node).name} conditions: "
                + ("healthy (Ready, no pressure)." if not bad_conditions(node) else "not healthy.")
            )
    sentences.append(
        "Cannot determine the cause from the Kubernetes API. What would settle it: the node logs — "
        "the kernel "
        "log (dmesg / journalctl -k, for an OOM kill outside the container's cgroup or another SIGKILL), the "
        "kubelet and containerd logs (journalctl -u kubelet -u containerd, crictl inspect), and "
        "audit logs for "
        "someone killing the process."
    )
    return " ".join(sentences)


def unknown_recommendations(ctx: Context) -> list[Recommendation]:
    """Diagnostics for an unknown result: read the node's kernel/runtime logs where the pod runs."""
    view = ctx.view
    pod = view.get("Pod", ctx.namespace, ctx.target.name) if ctx.target.kind == "Pod" else None
    node = view.node_of(pod) if pod is not None else None
    if node is None:
        return []
    name = Ref.of(node).name
    return [
        Recommendation(
            "Read the node logs around the kill",
            "immediate",
            "The kernel log shows OOM kills and signals; the kubelet/containerd logs show who "
            "stopped the container.",
            [
                kp.node_debug(name, "dmesg -T | tail -200"),
                kp.node_debug(name, "journalctl -u kubelet -u containerd --since -1h"),
            ],
        )
    ]
