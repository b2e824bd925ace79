"""How an investigation reads on its page: category wording, citations, evidence grouping, and the
one context that the page, the live publisher and the socket's catch-up all render from."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from django.template.loader import render_to_string
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from investigations.models import Investigation, InvestigationStatus
from investigations.taxonomy import WORDING, category_label
from investigations.topology_svg import topology_layout

__all__ = ["category_label"]  # re-exported: pages and chat read the wording from here

STAGES = ("extract", "topology", "collect", "analyze", "recommend")
STAGE_WORDING = {
    "extract": "Read the alert",
    "topology": "Map the resources around it",
    "collect": "Collect logs and events",
    "analyze": "Analyze the evidence",
    "recommend": "Recommend what to do",
}

CATEGORY_WORDING = WORDING  # the taxonomy's wording (investigations/taxonomy.py)

_CITATION = re.compile(r"\[(E\d+)\]")
_ERROR_LINE = re.compile(
    r"error|exception|fatal|panic|traceback|killed|refused|failed|failure|timed? ?out|denied|forbidden"
    r"|oom|cannot|can't|unable|crash|segfault|\bE\d{4}\b|level=(err|crit)|\bERR\b|\bWARN",
    re.IGNORECASE,
)
EVIDENCE_GROUPS = (
    ("log", "Logs"),
    ("previous_log", "Previous container's logs"),
    ("event", "Events"),
    ("change", "Recent changes"),
    ("status", "Status and metrics"),
    ("spec", "Resource specs"),
)
_GROUP_OF_KIND = {"metric": "status", "endpoints": "status", "config": "spec"}


def ref_text(resource: dict | None) -> str:
    """`Kind namespace/name` (cluster-scoped objects without the namespace)."""
    if not resource:
        return ""
    where = f"{resource.get('namespace')}/" if resource.get("namespace") else ""
    return f"{resource.get('kind', '')} {where}{resource.get('name', '')}".strip()


def ref_key(resource: dict | None) -> str:
    """The engine's string form of a reference (`Kind/ns/name`, `Kind/name`), used by topology edges."""
    if not resource:
        return ""
    if resource.get("namespace"):
        return f"{resource.get('kind', '')}/{resource['namespace']}/{resource.get('name', '')}"
    return f"{resource.get('kind', '')}/{resource.get('name', '')}"


def cited_html(text: str, evidence_ids: set[str]) -> SafeString:
    """Escape `text`, then turn `[E3]` citations of known evidence into links to `#E3`."""

    def link(match: re.Match) -> str:
        item = match.group(1)
        if item not in evidence_ids:
            return match.group(0)
        return f'<a class="cite" href="#{item}" title="Jump to evidence {item}">[{item}]</a>'

    return mark_safe(_CITATION.sub(link, escape(text or "")))


def log_lines(excerpt: str) -> list[dict[str, Any]]:
    """Lines of a log excerpt, each flagged when it reads like an error (the template escapes)."""
    return [{"text": line, "error": bool(_ERROR_LINE.search(line))} for line in (excerpt or "").splitlines()]


def _event_row(item: dict) -> dict:
    reason, _sep, message = (item.get("excerpt") or "").partition(": ")
    if not message or " " in reason.strip():
        reason, message = "", item.get("excerpt") or ""
    return {**item, "reason": reason, "message": message}


def evidence_groups(evidence: list[dict]) -> list[dict]:
    """Evidence items grouped for reading: logs, previous logs apart, events, changes, status, specs."""
    buckets: dict[str, list[dict]] = {key: [] for key, _label in EVIDENCE_GROUPS}
    for raw in evidence or []:
        item = dict(raw)
        item["resource_text"] = ref_text(item.get("resource"))
        kind = item.get("kind") or "status"
        group = _GROUP_OF_KIND.get(kind, kind if kind in buckets else "status")
        if group in ("log", "previous_log"):
            item["lines"] = log_lines(item.get("excerpt", ""))
        if group == "event":
            item = _event_row(item)
        buckets[group].append(item)
    return [
        {"key": key, "label": label, "items": buckets[key]} for key, label in EVIDENCE_GROUPS if buckets[key]
    ]


def change_rows(changes: list[dict]) -> list[dict]:
    """What changed, for reading: the resource as text and the absolute time for hovering."""
    return [
        {
            **change,
            "resource_text": ref_text(change.get("resource")),
            "time_text": _utc_text(change.get("time")),
        }
        for change in changes
    ]


def _utc_text(value: Any) -> str:
    try:
        when = parse_datetime(value) if isinstance(value, str) and value else None
    except ValueError:
        return ""
    if when is None:
        return ""
    return (when.astimezone(UTC) if when.tzinfo else when).strftime("%Y-%m-%d %H:%M:%S UTC")


def _changes_basis(basis: dict) -> str:
    when = _utc_text(basis.get("time"))
    at = f" ({when})" if when else ""
    if basis.get("basis") == "alert":
        return f"Times are relative to the alert's start{at}."
    return f"The alert carried no start time: times are relative to when the cluster was read{at}."


def _recommendation_groups(recommendations: list[dict]) -> list[dict]:
    immediate = [r for r in recommendations if r.get("kind") != "preventive"]
    preventive = [r for r in recommendations if r.get("kind") == "preventive"]
    return [
        {"key": "immediate", "label": "Do now", "items": immediate},
        {"key": "preventive", "label": "Prevent it next time", "items": preventive},
    ]


def _step_rows(stored: list) -> list[dict]:
    """One row per pipeline stage (waiting ones included, so live updates only ever replace by id)."""
    steps = {step.stage: step for step in stored}
    rows = []
    for stage in [*STAGES, *sorted(set(steps) - set(STAGES))]:
        step = steps.get(stage)
        detail = (step.detail if step else None) or {}
        rounds = detail.get("rounds") or []
        if isinstance(detail.get("logs"), dict):
            rounds = [*rounds, detail["logs"]]
        asked = [a for r in rounds if isinstance(r, dict) for a in (r.get("asked") or [])]
        gaps = [g for r in rounds if isinstance(r, dict) for g in (r.get("gaps") or [])]
        rows.append(
            {
                "stage": stage,
                "label": STAGE_WORDING.get(stage, stage.replace("_", " ").capitalize()),
                "step": step,
                "status": step.status if step else "waiting",
                "asked": asked,
                "gaps": gaps,
                "findings": detail.get("findings") or [],
            }
        )
    return rows


def _topology_data(stored: list, result: dict) -> dict | None:
    """The result's graph, or while running the one the topology stage recorded."""
    if result.get("topology"):
        return result["topology"]
    step = next((s for s in stored if s.stage == "topology"), None)
    if step and isinstance(step.detail, dict):
        return step.detail.get("topology")
    return None


def investigation_context(investigation: Investigation) -> dict[str, Any]:
    """Everything the page's partials need; the same for the page, live updates and catch-up."""
    result = investigation.result or {}
    cause = result.get("root_cause") or None
    evidence = result.get("evidence") or []
    evidence_ids = {item.get("id") for item in evidence}
    finished = investigation.status in (InvestigationStatus.COMPLETED, InvestigationStatus.FAILED)
    target = result.get("target") or {}
    alerting = (
        {"kind": target.get("kind"), "namespace": target.get("namespace"), "name": target.get("name")}
        if target.get("name")
        else (
            {
                "kind": investigation.resource_kind,
                "namespace": investigation.namespace,
                "name": investigation.resource_name,
            }
            if investigation.resource_name
            else None
        )
    )
    stored_steps = list(investigation.steps.all())
    topology = _topology_data(stored_steps, result)
    context = {
        "investigation": investigation,
        "result": result,
        "finished": finished,
        "cause": cause,
        "category_label": category_label(cause.get("category", "") if cause else ""),
        "cause_resource": ref_text(cause.get("resource")) if cause else "",
        "explanation_html": cited_html(cause.get("explanation", ""), evidence_ids) if cause else "",
        "contributing": [
            {"resource": ref_text(c.get("resource")), "detail": cited_html(c.get("detail", ""), evidence_ids)}
            for c in (cause.get("contributing") or [] if cause else [])
        ],
        "alternatives": [
            {
                **alt,
                "label": category_label(alt.get("category", "")),
                "resource_text": ref_text(alt.get("resource")),
            }
            for alt in result.get("alternatives") or []
        ],
        "recommendation_groups": _recommendation_groups(result.get("recommendations") or []),
        "has_recommendations": bool(result.get("recommendations")),
        "steps": _step_rows(stored_steps),
        "topology": topology_layout(
            topology,
            evidence=evidence,
            root=cause.get("resource") if cause and cause.get("category") != "unknown" else None,
            alerting=alerting,
        )
        if topology
        else None,
        "changes": change_rows(result.get("changes") or []),
        "changes_basis": _changes_basis(result.get("changes_relative_to") or {}),
        "changes_tracked": "changes" in result,
        "evidence_groups": evidence_groups(evidence),
        "evidence_count": len(evidence),
        "llm": result.get("llm") or {},
    }
    return context


def render_live_state(investigation: Investigation) -> str:
    """Every live section of the page as out-of-band replacements (idempotent; used on (re)connect)."""
    return render_to_string("investigations/partials/_live_state.html", investigation_context(investigation))


def render_live_update(investigation: Investigation, stage: str | None = None) -> str:
    """What changed: the header, the step `stage` (when given), the map once drawn, the result once done."""
    context = investigation_context(investigation)
    context["oob"] = True
    if stage is None or context["finished"]:
        return render_to_string("investigations/partials/_live_state.html", context)
    parts = [render_to_string("investigations/partials/_header.html", context)]
    parts += [
        render_to_string("investigations/partials/_step.html", {**context, "row": row})
        for row in context["steps"]
        if row["stage"] == stage
    ]
    if stage == "topology" and context["topology"]:
        parts.append(render_to_string("investigations/partials/_topology.html", context))
    return "\n".join(parts)


def render_list_row(investigation: Investigation) -> str:
    return render_to_string(
        "investigations/partials/_investigation_row.html", {"investigation": investigation, "oob": True}
    )
