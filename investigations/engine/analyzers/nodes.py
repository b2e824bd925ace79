"""node-problem: Ready False/Unknown, Memory/Disk/PID pressure True, evictions, stuck pods.

`bad_conditions(node)` (the node conditions that are wrong) also feeds the honest `unknown` answer.
"""

from __future__ import annotations

import re

from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import RECENT, event_count_text, fmt_bytes, time_ago
from investigations.engine.analyzers.node_recommendations import node_recommendations
from investigations.engine.analyzers.scheduling import pool_of
from investigations.engine.context import Context
from investigations.engine.evidence import Finding, Ref, event_time, human_age, parse_quantity
from investigations.engine.facts import condition_is_problem, ts

_PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure")


def bad_conditions(node: dict) -> list[dict]:
    """Conditions that say the node is unhealthy, judged by known polarity only
    (`facts.condition_is_problem`): Ready must be True, pressure and node-problem-detector problems
    must be False, and a condition type whose meaning is unknown is never a problem by itself."""
    return [c for c in (node.get("status") or {}).get("conditions") or [] if condition_is_problem(c)]


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
            recommendations=node_recommendations(ref, False, [], []),
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
            f"({time_ago(view, ready.get('lastTransitionTime'))}), last heartbeat "
            f"{time_ago(view, heartbeat)} [{evidence[-1]}]."
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
            f"({time_ago(view, condition.get('lastTransitionTime'))}) [{evidence[-1]}]."
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
            ctx.cite("event", node, f"{event.get('reason')}{event_count_text(event)}: {event.get('message')}")
        )
        parts.append(
            f'{event.get("reason")}{event_count_text(event)}: "{(event.get("message") or "").strip()}" '
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
            f"{time_ago(view, (first.get('metadata') or {}).get('deletionTimestamp'))}, but the "
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
    recommendations = node_recommendations(ref, ready is not None, pressures, terminating)
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
