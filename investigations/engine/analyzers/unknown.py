"""Support for the honest `unknown` answer (investigations/engine/result.py), not an analyzer.

`unknown_notes(ctx)` says what the alerting containers' terminations say and what would settle it;
`unknown_recommendations(ctx)` gives the diagnostics to run (the node's kernel/runtime logs).
"""

from __future__ import annotations

from investigations.engine import kubectl_platform as kp
from investigations.engine.analyzers.helpers import RECENT, fmt_bytes
from investigations.engine.analyzers.nodes import bad_conditions
from investigations.engine.context import Context
from investigations.engine.evidence import Ref, parse_quantity
from investigations.engine.facts import container_states, is_recent, pod_spec
from investigations.engine.kubectl import Recommendation


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
    sentences: list[str] = _checked(ctx, pods)
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
    states = [s for p in pods for s in container_states(p)]
    failing_now = any(s.failing for s in states)
    # A recent abnormal exit (a kill an hour ago) still wants explaining, even if the pod is Ready again.
    recent_kill = any(
        s.last_exit_code not in (None, 0) and is_recent(view, s.last_finished_at, RECENT) for s in states
    )
    if _target_completed(ctx) or (not failing_now and not recent_kill and not _target_failing(ctx)):
        sentences.append(
            "Nothing the alert points at is failing now, so there is no cause to name: if the alert "
            "keeps firing, check its query and threshold against these states, and the metrics behind it."
        )
        return " ".join(sentences)
    sentences.append(
        "Cannot determine the cause from the Kubernetes API. What would settle it: the node logs — "
        "the kernel "
        "log (dmesg / journalctl -k, for an OOM kill outside the container's cgroup or another SIGKILL), the "
        "kubelet and containerd logs (journalctl -u kubelet -u containerd, crictl inspect), and "
        "audit logs for "
        "someone killing the process."
    )
    return " ".join(sentences)


def _checked(ctx: Context, pods: list[dict]) -> list[str]:
    """What the engine looked at and found, stated plainly: the target's own state, its pods, its node."""
    view, target = ctx.view, ctx.target
    out: list[str] = []
    obj = view.get(target.kind, ctx.namespace, target.name) if target.kind and target.name else None
    if obj is not None and target.kind == "Job":
        status = obj.get("status") or {}
        done = [c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"]
        out.append(
            f"Checked Job {target.name}: conditions {', '.join(done) or 'none true'}, "
            f"{status.get('succeeded') or 0} succeeded and {status.get('failed') or 0} failed pod(s) "
            f"(backoffLimit {(obj.get('spec') or {}).get('backoffLimit', 6)})"
            + (" — it completed after retries, so it is not failing now." if "Complete" in done else ".")
        )
    elif obj is not None and target.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        status, spec = obj.get("status") or {}, obj.get("spec") or {}
        out.append(
            f"Checked {target.kind} {target.name}: {status.get('readyReplicas') or 0}/"
            f"{spec.get('replicas', status.get('desiredNumberScheduled', '?'))} ready."
        )
    elif obj is not None and target.kind == "Node":
        conditions = (obj.get("status") or {}).get("conditions") or []
        listed = ", ".join(f"{c.get('type')}={c.get('status')}" for c in conditions[:10])
        out.append(
            f"Checked Node {target.name}: {listed}; "
            + (
                "none is a problem by its own definition."
                if not bad_conditions(obj)
                else "some are problems."
            )
        )
    if pods:
        states = [s for p in pods for s in container_states(p) if not s.init]
        ready = sum(1 for s in states if s.ready)
        phases = sorted({(p.get("status") or {}).get("phase", "?") for p in pods})
        restarts = sum(s.restarts for s in states)
        out.append(
            f"Checked {len(pods)} pod(s) ({', '.join(phases)}): {ready}/{len(states)} container(s) Ready, "
            f"{restarts} restart(s) in total."
        )
    return out


def _target_completed(ctx: Context) -> bool:
    """A Job that finished: the exits of its earlier attempts are its retries, not something to explain."""
    target = ctx.target
    job = ctx.view.get("Job", ctx.namespace, target.name) if target.kind == "Job" else None
    conditions = {
        c.get("type"): c.get("status") for c in ((job or {}).get("status") or {}).get("conditions") or []
    }
    return conditions.get("Complete") == "True"


def _target_failing(ctx: Context) -> bool:
    """Whether the alerting object itself reports a failure (a failed Job, missing replicas, a bad node)."""
    view, target = ctx.view, ctx.target
    obj = view.get(target.kind, ctx.namespace, target.name) if target.kind and target.name else None
    if obj is None:
        return False
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if target.kind == "Job":
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        return conditions.get("Failed") == "True" or (
            conditions.get("Complete") != "True" and bool(status.get("failed"))
        )
    if target.kind in ("Deployment", "StatefulSet"):
        return (status.get("readyReplicas") or 0) < (spec.get("replicas") or 0)
    if target.kind == "Node":
        return bool(bad_conditions(obj))
    return False


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
