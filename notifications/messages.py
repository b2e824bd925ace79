"""Block Kit messages: investigation results (completed, failed, resolved), the test message.

Everything that came from an alert, a cluster or the engine is escaped for Slack's mrkdwn: `&`, `<`
and `>` become entities, so `<!channel>`, `<@U123>` or `<https://evil|click>` arrive as inert text;
code blocks additionally lose backticks that would close them early.
"""

from __future__ import annotations

import re
from typing import Any

from django.core import signing

from investigations.models import Investigation, InvestigationStatus

FEEDBACK_SALT = "opsworker.slack.feedback"
FEEDBACK_ACTIONS = {
    "accurate": ("Accurate", "primary"),
    "partial": ("Partially accurate", None),
    "needs_improvement": ("Needs improvement", "danger"),
}
ACTION_PREFIX = "feedback:"
MAX_RECOMMENDATIONS = 3
MAX_COMMANDS = 4
MAX_RESOURCES = 6
SECTION_LIMIT = 2900  # Slack's section text limit is 3000 characters
AFFECTED_ROLES = ("alerting", "workload", "service", "ingress", "autoscaler")

# Looks like a backtick but cannot close a code block.
BACKTICK_STANDIN = "\u02cb"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(text: Any, limit: int = 500) -> str:
    """Make untrusted text inert in mrkdwn (no mentions, links or broadcasts); clip it."""
    value = _CONTROL.sub(" ", str(text or ""))
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_code(text: Any, limit: int = 800) -> str:
    """Escape text shown inside a ``` block (backticks would end it)."""
    return escape(text, limit).replace("`", BACKTICK_STANDIN)


def _section(text: str) -> dict:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(*parts: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": part} for part in parts if part][:10]}


def feedback_value(schema: str, investigation_id: int, rating: str) -> str:
    """The signed button value: which organization, which investigation, which rating."""
    return signing.Signer(salt=FEEDBACK_SALT).sign_object(
        {"s": schema, "i": investigation_id, "r": rating}, compress=False
    )


def feedback_value_read(value: str) -> dict | None:
    try:
        data = signing.Signer(salt=FEEDBACK_SALT).unsign_object(value)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or data.get("r") not in FEEDBACK_ACTIONS:
        return None
    if not isinstance(data.get("s"), str) or not isinstance(data.get("i"), int):
        return None
    return data


def _resource(resource: dict | None) -> str:
    if not resource or not resource.get("name"):
        return ""
    kind = resource.get("kind") or "resource"
    namespace = f"{resource['namespace']}/" if resource.get("namespace") else ""
    return f"{kind} {namespace}{resource['name']}"


def _plain(text: Any, limit: int = 150) -> str:
    """Text for plain_text fields (Slack does not parse markup there): no control characters, clipped."""
    value = _CONTROL.sub(" ", str(text or "")).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _alert_line(investigation: Investigation) -> tuple[str, str]:
    """(plain headline, escaped mrkdwn facts) of the triggering alert."""
    signal = investigation.signal
    if signal is not None:
        title = _plain(signal.alertname)
        facts = [
            f"*Severity:* {escape(signal.severity or signal.severity_raw or 'unknown', 40)}",
            f"*Cluster:* {escape(signal.cluster or investigation.cluster or '—', 100)}",
            f"*Namespace:* {escape(signal.namespace or investigation.namespace or '—', 100)}",
        ]
        if signal.resource_label:
            facts.append(f"*Resource:* {escape(signal.resource_label, 150)}")
        summary = escape(signal.summary or signal.description, 400)
        return title, "\n".join(([summary] if summary else []) + [" · ".join(facts)])
    target = "/".join(p for p in (investigation.resource_kind, investigation.resource_name) if p)
    title = _plain(f"Investigation of {target or investigation.namespace or 'a resource'}")
    facts = [
        f"*Cluster:* {escape(investigation.cluster or '—', 100)}",
        f"*Namespace:* {escape(investigation.namespace or '—', 100)}",
    ]
    return title, " · ".join(facts)


def _affected(result: dict) -> list[str]:
    seen: list[str] = []
    cause = _resource((result.get("root_cause") or {}).get("resource"))
    if cause:
        seen.append(cause)
    nodes = ((result.get("topology") or {}).get("nodes")) or []
    ordered = sorted(
        (n for n in nodes if n.get("role") in AFFECTED_ROLES), key=lambda n: AFFECTED_ROLES.index(n["role"])
    )
    for node in ordered:
        label = _resource(node)
        if label and label not in seen:
            seen.append(label)
    return seen


def _status_badge(investigation: Investigation, resolved: bool) -> str:
    if resolved:
        return ":white_check_mark: Alert resolved"
    if investigation.status == InvestigationStatus.FAILED:
        return ":warning: Investigation failed"
    return ":mag: Investigation complete"


def investigation_message(
    investigation: Investigation,
    *,
    schema: str,
    portal_url: str,
    feedback_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """`{"text", "blocks"}` for chat.postMessage/chat.update."""
    signal = investigation.signal
    resolved = signal is not None and signal.status == "resolved"
    title, alert_facts = _alert_line(investigation)
    safe_title = escape(title, 150)
    badge = _status_badge(investigation, resolved)
    link = f"{portal_url}/investigations/{investigation.pk}/"
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title or "Alert", "emoji": False}},
        _context(badge, f"<{link}|Investigation #{investigation.pk}>"),
        _section(alert_facts),
    ]
    result = investigation.result or {}
    if investigation.status == InvestigationStatus.FAILED:
        reason = escape(investigation.failure_reason or "the investigation stopped without a reason", 500)
        blocks.append(_section(f"*Why it failed:* {reason}"))
        text = f"Investigation failed for {safe_title}: {reason}"
    else:
        cause = result.get("root_cause") or {}
        confidence = cause.get("confidence", investigation.confidence)
        confidence_text = f"{round(float(confidence) * 100)}%" if confidence is not None else "unknown"
        category = escape(cause.get("category") or investigation.root_cause_category or "unknown", 60)
        resource = escape(_resource(cause.get("resource")), 200)
        summary = escape(cause.get("summary") or investigation.summary, 600)
        lines = [f"*Root cause:* {summary}" if summary else "*Root cause:* not determined"]
        lines.append(
            f"*Category:* `{category}` · *Confidence:* {confidence_text}"
            + (f" · *Resource:* {resource}" if resource else "")
        )
        if cause.get("explanation"):
            lines.append(escape(cause["explanation"], 900))
        blocks.append(_section("\n".join(lines)))
        affected = _affected(result)
        if affected:
            shown = affected[:MAX_RESOURCES]
            more = f"\n…and {len(affected) - len(shown)} more" if len(affected) > len(shown) else ""
            bullets = "\n".join(f"• {escape(item, 200)}" for item in shown)
            blocks.append(_section(f"*Affected resources*\n{bullets}{more}"))
        for index, rec in enumerate((result.get("recommendations") or [])[:MAX_RECOMMENDATIONS], start=1):
            heading = f"*{index}. {escape(rec.get('title'), 150)}*"
            rationale = escape(rec.get("rationale"), 400)
            commands = [escape_code(c, 400) for c in (rec.get("commands") or [])[:MAX_COMMANDS]]
            body = heading + (f"\n{rationale}" if rationale else "")
            if commands:
                body += "\n```" + "\n".join(commands) + "```"
            blocks.append(_section(body))
        text = f"{safe_title}: {summary or 'investigation complete'}"
        if resolved:
            text = f"Resolved: {text}"
    blocks.append(_context(f"<{link}|Open in OpsWorker> — commands are suggestions; nothing was executed."))
    if investigation.status == InvestigationStatus.COMPLETED:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"feedback-{investigation.pk}",
                "elements": [_button(schema, investigation.pk, rating) for rating in FEEDBACK_ACTIONS],
            }
        )
        if feedback_counts and any(feedback_counts.values()):
            blocks.append(_context("Feedback so far: " + _counts_text(feedback_counts)))
    return {"text": text[:3000], "blocks": blocks}


def _button(schema: str, investigation_id: int, rating: str) -> dict:
    label, style = FEEDBACK_ACTIONS[rating]
    button = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{rating}",
        "text": {"type": "plain_text", "text": label},
        "value": feedback_value(schema, investigation_id, rating),
    }
    if style:
        button["style"] = style
    return button


def _counts_text(counts: dict[str, int]) -> str:
    return " · ".join(
        f"{FEEDBACK_ACTIONS[k][0]} {v}" for k, v in counts.items() if k in FEEDBACK_ACTIONS and v
    )


def test_message(organization_name: str, portal_url: str) -> dict[str, Any]:
    text = f"OpsWorker is connected to this channel for {escape(organization_name, 100)}."
    return {
        "text": text,
        "blocks": [
            _section(f":wave: {text}"),
            _context(
                f"Investigation results and the daily digest will appear here. <{portal_url}/|Open OpsWorker>"
            ),
        ],
    }
