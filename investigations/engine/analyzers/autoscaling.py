"""hpa-at-max: currentReplicas == maxReplicas, ScalingLimited TooManyReplicas, metric > target.

Checks the pods' CPU use against their limit, so an HPA cap is told apart from CPU throttling.
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import RECENT, fmt_amount, status_condition, time_ago
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, event_time, parse_quantity
from investigations.engine.facts import pod_spec, ts
from investigations.engine.kubectl import Recommendation


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


def _hpa_finding(ctx: Context, hpa: dict) -> Finding | None:
    view = ctx.view
    ref = Ref.of(hpa)
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    maximum = spec.get("maxReplicas")
    minimum = spec.get("minReplicas", 1)
    current = status.get("currentReplicas")
    desired = status.get("desiredReplicas")
    limited = status_condition(hpa, "ScalingLimited")
    active = status_condition(hpa, "ScalingActive")
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
            f"{ts(limited.get('lastTransitionTime', ''))} "
            f"({time_ago(view, limited.get('lastTransitionTime'))}) "
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
    return f"{time_ago(view, best['time'])} by {best.get('manager', 'someone')}"
