"""unschedulable-resources: FailedScheduling "Insufficient cpu/memory": pod requests vs node allocatable.

Looks only at what objects, events and metrics say (never at names), and stands down when the
symptom is the consequence of a more specific cause another category explains.
"""

from __future__ import annotations

from collections import Counter

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import event_count_text, fmt_amount
from investigations.engine.analyzers.scheduling import (
    INSTANCE_TYPE_LABELS,
    blocking_taints,
    instance_type,
    node_matches,
    node_used,
    pod_owner_text,
    pod_requests,
    request_text,
    unschedulable_pods,
)
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, parse_quantity
from investigations.engine.facts import pod_spec, rollout_changes
from investigations.engine.kubectl import Recommendation


def _grouped_types(nodes: list[dict]) -> str:
    counter = Counter(instance_type(n) or "unknown type" for n in nodes)
    return ", ".join(f"{count} {kind}" for kind, count in counter.most_common())


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
    workload, workload_ref = pod_owner_text(view, [u.pod for u in stuck])
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
            f"FailedScheduling{event_count_text(first.event or {})}: {first.message}",
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
