"""Stage 5 and the result schema: root cause, recommendations, evidence, topology, timings, llm."""

from __future__ import annotations

import re
from typing import Any

from investigations.engine import kubectl
from investigations.engine.analysis import Analysis
from investigations.engine.analyzers.unknown import unknown_notes, unknown_recommendations
from investigations.engine.changes import change_timeline, contributing_changes
from investigations.engine.context import Context
from investigations.engine.evidence import Ref
from investigations.engine.kubectl import Recommendation


def build_result(
    ctx: Context,
    analysis: Analysis,
    *,
    timings: dict[str, float],
    llm: dict | None = None,
    alert_start: str | None = None,
) -> dict[str, Any]:
    """The result schema; `alert_start` (ISO) anchors the times of what changed."""
    best = analysis.best
    timeline = change_timeline(
        ctx,
        alert_start=alert_start,
        cause=best.resource if best else None,
        contributing=[c.resource for c in best.contributing] if best else (),
    )
    if ctx.target.not_found:
        cause, recommendations = _not_found(ctx)
    elif best is None:
        cause = _unknown(ctx, analysis)
        recommendations = _diagnostics(ctx, unknown=True)
    else:
        cause = {
            "category": best.category,
            "resource": best.resource.as_dict(),
            "contributing": [c.as_dict() for c in best.contributing],
            "summary": best.summary,
            "explanation": best.explanation,
            "confidence": round(best.confidence, 2),
            "analyzer": best.analyzer,
            "source": "analyzers",
            "evidence": best.evidence,
        }
        # A change on the failing mechanism is named, never promoted: category and resource stay.
        known = [c.resource for c in best.contributing]
        cause["contributing"] += [c.as_dict() for c in contributing_changes(timeline, best.resource, known)]
        recommendations = [r for r in best.recommendations if isinstance(r, Recommendation)] or _diagnostics(
            ctx
        )
    alternatives = [
        {
            "category": f.category,
            "resource": f.resource.as_dict(),
            "confidence": round(f.confidence, 2),
            "summary": f.summary,
            "analyzer": f.analyzer,
        }
        for f in analysis.findings[1:4]
        if best is None or f is not best
    ]
    return {
        "root_cause": cause,
        "alternatives": alternatives,
        "recommendations": [r.as_dict() for r in _dedupe(recommendations)],
        "evidence": _cited_evidence(ctx, best),
        "topology": ctx.topology.as_dict(),
        "changes": timeline.as_dicts(),
        "changes_relative_to": timeline.basis_dict(),
        "target": ctx.target.as_dict(),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "llm": llm or {"provider": "builtin", "model": "", "tokens": 0, "cost": 0.0},
        "analyzer_errors": analysis.errors,
    }


def _cited_evidence(ctx: Context, best) -> list[dict[str, Any]]:
    """The evidence the conclusion cites (losing analyzers' citations are not the result's evidence).

    Ids keep their numbers, so "[E7]" in the explanation still points at its item.
    """
    if best is None:
        return [item.as_dict() for item in ctx.evidence.items]
    cited = set(best.evidence) | set(re.findall(r"\[(E\d+)\]", best.explanation))
    return [item.as_dict() for item in ctx.evidence.items if item.id in cited]


def _unknown(ctx: Context, analysis: Analysis) -> dict[str, Any]:
    target = ctx.target
    where = f"{target.kind} {target.namespace}/{target.name}" if target.known else "the alert's resource"
    weak = [f"{f.category} ({f.confidence:.0%}: {f.summary})" for f in analysis.findings[:3]]
    checked = ", ".join(analysis.checked)
    explanation = (
        f"The evidence collected around {where} does not support a conclusion. Checked: {checked}. "
        + (
            f"Weak candidates, not trusted: {'; '.join(weak)}. "
            if weak
            else "No analyzer found a supported cause. "
        )
        + "What would settle it: node-level logs (kubelet, kernel) and the container runtime's view of the "
        "restarts, or application logs from before the failure."
    )

    notes = unknown_notes(ctx)
    if notes:
        explanation += " " + notes
    resource = Ref(target.kind, "" if target.kind == "Node" else target.namespace, target.name)
    return {
        "category": "unknown",
        "resource": resource.as_dict(),
        "contributing": [],
        "summary": f"cannot determine the root cause of the alert on {where} from the available evidence",
        "explanation": explanation,
        "confidence": round(analysis.findings[0].confidence, 2) if analysis.findings else 0.0,
        "analyzer": "",
        "source": "analyzers",
        "evidence": [],
    }


def _not_found(ctx: Context) -> tuple[dict[str, Any], list[Recommendation]]:
    """The answer when nothing the alert (or its group) names exists: what was looked up, no guess."""
    target = ctx.target
    looked = "; ".join(target.not_found)
    namespace = target.namespace if target.kind != "Node" else ""
    present = ""
    if namespace and ctx.view.get("Namespace", "", namespace) is not None:
        kind = target.kind if target.known and target.kind != "Namespace" else "Pod"
        names = sorted(Ref.of(o).name for o in ctx.view.all(kind, namespace))
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        present = f" Namespace {namespace} exists and holds {len(names)} {kind}(s)" + (
            f": {shown}." if names else "."
        )
    explanation = (
        f"Not found: looked up {looked}. The cluster has no such object, so nothing was analyzed and no "
        f"cause is guessed from other resources.{present} What would settle it: check that the alert "
        "names the right cluster, namespace and resource (a renamed or deleted object, a label of "
        "the monitoring stack rather than of the workload), or start an investigation of the resource "
        "that exists."
    )
    resource = Ref(target.kind, namespace, target.name) if target.known else Ref("Namespace", "", namespace)
    cause = {
        "category": "unknown",
        "resource": resource.as_dict(),
        "contributing": [],
        "summary": f"not found: looked up {looked}",
        "explanation": explanation,
        "confidence": 0.0,
        "analyzer": "",
        "source": "lookup",
        "evidence": [],
    }
    commands = ["kubectl get namespaces"]
    if namespace:
        listed = kubectl.resource(Ref(target.kind, namespace, "-")).split("/")[0] if target.known else "pods"
        commands.insert(0, f"kubectl get {listed} -n {kubectl.q(namespace)}")
    elif target.kind == "Node":
        commands.insert(0, "kubectl get nodes")
    return cause, [
        Recommendation(
            "Find the resource the alert means",
            "immediate",
            "Nothing the alert names exists in this cluster; list what does.",
            commands,
        )
    ]


def _diagnostics(ctx: Context, *, unknown: bool = False) -> list[Recommendation]:
    target = ctx.target
    if not target.known:
        return []
    extra: list[Recommendation] = []
    if unknown:
        extra = list(unknown_recommendations(ctx) or [])
    ref = Ref(target.kind, "" if target.kind == "Node" else target.namespace, target.name)
    commands = [kubectl.describe(ref), kubectl.events(ref)]
    if target.kind == "Pod":
        commands.append(kubectl.logs(ref, target.container, previous=True))
    return [
        *extra,
        Recommendation("Gather more evidence", "immediate", "The cause is not established yet.", commands),
    ]


def _dedupe(recommendations: list[Recommendation]) -> list[Recommendation]:
    seen, result = set(), []
    for item in recommendations:
        key = (item.title, tuple(item.commands))
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
