"""cpu-throttled: most running pods of a workload use 90% or more of their CPU limit (the CFS quota
throttles them), corroborated by the alert's throttling figure, probe timeouts and slow but
error-free logs. Stands down when containers were OOMKilled (memory is the more specific cause).
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.workload_facts import (
    change_text,
    cpu_usage,
    crash_excerpt,
    event_count,
    first_of,
    latest_rollout,
    matching_events,
    shorten,
    spec_of,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, parse_quantity
from investigations.engine.facts import container_states
from investigations.engine.kubectl import Recommendation

_PROBE_TIMEOUT = re.compile(r"context deadline exceeded|Client\.Timeout|timed out|timeout", re.I)


_THROTTLE_TEXT = re.compile(r"(?P<pct>\d+(?:\.\d+)?)\s*% throttl", re.I)


@analyzer("cpu-throttled")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def cpu_throttled(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    findings = []
    alert_text = ctx.target.text or ""
    alert_throttle = _THROTTLE_TEXT.search(alert_text) or (
        re.search(r"throttl", f"{ctx.target.alertname} {alert_text}", re.I)
    )
    for workload in ctx.in_scope_workloads():
        pods = [p for p in view.pods_of(workload) if (p.get("status") or {}).get("phase") == "Running"]
        if not pods:
            continue
        if any(
            "OOMKilled" in (s.last_reason, s.terminated_reason) for p in pods for s in container_states(p)
        ):
            continue  # memory is the more specific cause
        workload_ref = Ref.of(workload)
        by_container: dict[str, list[tuple[dict, float, float, str, str]]] = {}
        measured = 0
        for pod in pods:
            for state in container_states(pod):
                usage, limit, usage_text, limit_text = cpu_usage(view, pod, state.name)
                if usage is None or not limit:
                    continue
                measured += 1
                if usage >= 0.9 * limit:
                    by_container.setdefault(state.name, []).append(
                        (pod, usage, limit, usage_text, limit_text)
                    )
        if not by_container or not measured:
            continue
        name, saturated = max(by_container.items(), key=lambda item: len(item[1]))
        if len(saturated) * 2 < len(pods):
            continue
        pod = saturated[0][0]
        limit_text = saturated[0][4]
        usages = ", ".join(f"{Ref.of(p).name} {u_text}" for p, _u, _l, u_text, _lt in saturated[:4])
        evidence = [ctx.cite("metric", pod, f"CPU usage {usages} of a {limit_text} limit (limits.cpu)")]
        parts = [
            f"Container {name} of {workload_ref.kind} {workload_ref.name} runs at its CPU limit: {usages} of "
            f"limits.cpu {limit_text} [{evidence[0]}]. At the limit the kernel's CFS quota throttles the "
            "process "
            "(CPU throttling): it is paused every period, so requests and probes become slow."
        ]
        confidence = 0.6
        if alert_throttle:
            pct = alert_throttle.group("pct") if "pct" in (alert_throttle.groupdict() or {}) else ""
            parts.append(
                f"The alert reports {pct + '% ' if pct else ''}throttled CPU periods "
                f"({ctx.target.alertname or 'alert'})."
            )
            confidence += 0.1
        timeouts = []
        for p in pods:
            for event in matching_events(view, p, "Unhealthy"):
                if _PROBE_TIMEOUT.search(event.get("message") or ""):
                    timeouts.append((p, event))
        if timeouts:
            total = sum(event_count(e) for _p, e in timeouts)
            p, event = timeouts[-1]
            evidence.append(
                ctx.cite(
                    "event",
                    p,
                    f"Unhealthy x{total} on {len({id(x) for x, _ in timeouts})} pods: {event.get('message')}",
                )
            )
            restarts = sum(s.restarts for x in pods for s in container_states(x))
            parts.append(
                "Probes time out instead of failing (readiness probe timeout: "
                f'"{shorten(event.get("message") or "", 250)}", '
                f"x{total}) [{evidence[-1]}] with {restarts} restarts: the app answers, too slowly."
            )
            confidence += 0.1
        log = view.log(pod, name)
        if log and not crash_excerpt(log)[0]:
            slow = [line for line in log.splitlines() if re.search(r"\d{4,}\s?ms|Pause", line)]
            if slow:
                evidence.append(ctx.cite("log", pod, "\n".join(slow[-3:])))
                parts.append(f"The logs show no errors, only slow work and long pauses [{evidence[-1]}].")
        spec = spec_of(view, pod, name)
        requests = ((spec.get("resources") or {}).get("requests") or {}).get("cpu")
        contributing = []
        previous_limit = None
        change = latest_rollout(view, workload, pod)
        if change:
            cpu_changes = [d for d in change.details if "cpu" in d]
            if cpu_changes:
                evidence.append(ctx.cite("change", workload, change_text(change, keep=["cpu"])))
                parts.append(f"What changed: {change_text(change, keep=['cpu'])} [{evidence[-1]}].")
                contributing.append(Contributing(workload_ref, f"{change.what}: {'; '.join(cpu_changes)}"))
                limit_change = first_of(d for d in cpu_changes if "limits.cpu" in d)
                if limit_change:
                    previous_limit = limit_change.split(": ", 1)[1].split(" → ")[0]
                confidence += 0.05
        node_notes = []
        for p, *_rest in saturated[:3]:
            node = view.node_of(p)
            node_metrics = view.get("NodeMetrics", "", Ref.of(node).name) if node else None
            capacity = parse_quantity(((node or {}).get("status") or {}).get("allocatable", {}).get("cpu"))
            used = parse_quantity(((node_metrics or {}).get("usage") or {}).get("cpu"))
            if node and capacity and used is not None:
                node_notes.append(f"{Ref.of(node).name} {used / capacity:.0%}")
        if node_notes:
            parts.append(
                f"The nodes are not saturated ({', '.join(node_notes)} CPU used): the limit is, not the node."
            )
        parts.append(f"requests.cpu is {requests}." if requests else "")
        target_limit = previous_limit or _double_cpu(limit_text)
        recommendations = [
            Recommendation(
                "Raise the CPU limit",
                "immediate",
                f"Give the container headroom above its working CPU ({limit_text} is saturated)"
                + (f"; {previous_limit} worked before" if previous_limit else "")
                + ".",
                [kubectl.set_resources(workload_ref, name, limits={"cpu": target_limit})]
                if target_limit
                else [],
            ),
        ]
        if contributing and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Or roll back the limit change",
                    "immediate",
                    "The previous revision had enough CPU.",
                    [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
                )
            )
        recommendations.append(
            Recommendation(
                "Watch usage against the limit",
                "immediate",
                "Usage pinned at the limit confirms throttling.",
                [kx.top_pods(workload_ref.namespace), kubectl.describe(Ref.of(pod))],
            )
        )
        recommendations.append(
            Recommendation(
                "Right-size on peaks, not medians",
                "preventive",
                "Size CPU limits from p95/p99 usage incl. startup and GC, or drop CPU limits and rely on "
                "requests; alert "
                "on container_cpu_cfs_throttled_periods_total.",
                [],
            )
        )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: container {name} is CPU-throttled at its "
            f"{limit_text} CPU limit "
            "(limits.cpu)" + (f", lowered from {previous_limit}" if previous_limit else "")
        )
        findings.append(
            Finding(
                category="cpu-throttled",
                resource=workload_ref,
                confidence=min(confidence, 0.85),
                summary=summary,
                explanation=" ".join(p for p in parts if p),
                evidence=evidence,
                contributing=contributing,
                facts={"limit": limit_text, "previous_limit": previous_limit},
                recommendations=recommendations,
            )
        )
    return findings


def _double_cpu(limit: str) -> str | None:
    value = parse_quantity(limit)
    if not value:
        return None
    millis = int(value * 2000)
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"
