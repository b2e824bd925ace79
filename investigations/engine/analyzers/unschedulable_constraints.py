"""unschedulable-constraints: FailedScheduling "didn't match node affinity/selector", untolerated taints:
the pod's nodeSelector/affinity/tolerations vs the labels and taints nodes have.

Stands down when a more specific cause explains the Pending pod (a pod whose claim is unbound is not
a scheduling-constraints problem).
"""

from __future__ import annotations

import json
from collections import Counter

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import RECENT, event_count_text
from investigations.engine.analyzers.scheduling import (
    blocking_taints,
    expression_matches,
    is_pool_label,
    node_matches,
    pod_owner_text,
    required_affinity_terms,
    unschedulable_pods,
)
from investigations.engine.context import Context
from investigations.engine.evidence import (
    ClusterView,
    Contributing,
    Finding,
    Ref,
    event_time,
    human_age,
    labels_of,
)
from investigations.engine.facts import pod_spec, rollout_changes
from investigations.engine.kubectl import Recommendation


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
    workload, workload_ref = pod_owner_text(view, [u.pod for u in stuck])
    spec = pod_spec(pod)
    nodes = view.all("Node")
    evidence = [
        ctx.cite("event", pod, f"FailedScheduling{event_count_text(first.event or {})}: {first.message}")
    ]
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
            if any(expression_matches(expression, labels_of(n), Ref.of(n).name) for n in nodes):
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
