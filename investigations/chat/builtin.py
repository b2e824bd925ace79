"""Answers from the stored evidence alone (no model): intent by keywords, content quoted, never invented.

Each intent quotes what the investigation stored (`result`): root cause, recommendations and the
cited evidence items `{id, kind, resource, excerpt}`. A question it cannot answer from evidence gets
a plain "this needs a model" answer that says how to configure one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from investigations.presentation import category_label

NEEDS_MODEL = (
    "I can only answer from the evidence this investigation collected when no model is configured, "
    "and this question needs reasoning beyond it. I can show: why it failed (root cause), the logs "
    "(including the previous container's), what changed, the events, the spec or config of a "
    "resource, and what to run to fix it.\n\n"
    "To ask anything else, an admin can configure a model in Settings → Models "
    "(OpenAI-compatible, Azure OpenAI or Amazon Bedrock)."
)
NO_RESULT = (
    "This investigation has no result yet (status: {status}), so there is no evidence to answer "
    "from. Ask again once it has completed."
)

_PREVIOUS = re.compile(
    r"previous|crash(ed)?\s+(container|instance)|before\s+(the\s+)?(restart|crash)|last\s+(run|instance)",
    re.I,
)


@dataclasses.dataclass(frozen=True)
class Intent:
    name: str
    pattern: re.Pattern[str]
    respond: Callable[[dict[str, Any], str], str]


@dataclasses.dataclass(frozen=True)
class BuiltinAnswer:
    intent: str  # logs | changes | events | spec | fix | why | needs_model | no_result
    text: str


def answer(result: dict[str, Any] | None, question: str, *, status: str = "completed") -> BuiltinAnswer:
    """The answer to `question` from `result` (an investigation's stored result), or "needs a model"."""
    if not result:
        return BuiltinAnswer("no_result", NO_RESULT.format(status=status))
    for intent in INTENTS:
        if intent.pattern.search(question):
            return BuiltinAnswer(intent.name, intent.respond(result, question))
    return BuiltinAnswer("needs_model", NEEDS_MODEL)


def detect(question: str) -> str:
    """The intent name a question maps to (for tests and logs)."""
    for intent in INTENTS:
        if intent.pattern.search(question):
            return intent.name
    return "needs_model"


# -- formatting ------------------------------------------------------------------------------------


def _where(resource: dict[str, Any] | None) -> str:
    resource = resource or {}
    namespace = f"{resource['namespace']}/" if resource.get("namespace") else ""
    return f"{resource.get('kind') or '?'} {namespace}{resource.get('name') or '?'}"


def _item(item: dict[str, Any], *, code: bool = False) -> str:
    head = f"[{item.get('id')}] {item.get('kind')} · {_where(item.get('resource'))}"
    excerpt = str(item.get("excerpt") or "").strip()
    if code:
        return f"{head}\n```\n{excerpt}\n```"
    return f"{head}: {excerpt}"


def _name_of(item: dict[str, Any]) -> str:
    return str((item.get("resource") or {}).get("name") or "").lower()


def _evidence(result: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    return [e for e in result.get("evidence") or [] if e.get("kind") in kinds]


def _missing(what: str, result: dict[str, Any]) -> str:
    kinds = sorted({str(e.get("kind")) for e in result.get("evidence") or []})
    have = f" The evidence it cites is of these kinds: {', '.join(kinds)}." if kinds else ""
    return f"This investigation collected no {what} among the evidence it cites.{have}"


# -- intents ----------------------------------------------------------------------------------------


def _logs(result: dict[str, Any], question: str) -> str:
    previous = _evidence(result, "previous_log")
    current = _evidence(result, "log")
    if _PREVIOUS.search(question):
        if previous:
            body = "\n\n".join(_item(e, code=True) for e in previous)
            return f"Logs of the previous (crashed) container, as collected:\n\n{body}"
        text = _missing("logs of the previous container", result)
        if current:
            text += "\n\nThe current container's logs that were collected:\n\n"
            text += "\n\n".join(_item(e, code=True) for e in current)
        return text
    items = previous + current
    if not items:
        return _missing("logs", result)
    parts = []
    if previous:
        parts.append("Previous (crashed) container:\n\n" + "\n\n".join(_item(e, code=True) for e in previous))
    if current:
        parts.append("Current container:\n\n" + "\n\n".join(_item(e, code=True) for e in current))
    return "Logs collected by the investigation.\n\n" + "\n\n".join(parts)


def _changes(result: dict[str, Any], question: str) -> str:
    items = _evidence(result, "change")
    if not items:
        return _missing("recent changes", result) + (
            " The collected objects showed no recent edit, rollout or restart that the analysis linked "
            "to this problem."
        )
    lines = "\n".join(f"• {_item(e)}" for e in items)
    return f"Changes found around the alert (times as recorded relative to the alert):\n\n{lines}"


def _events(result: dict[str, Any], question: str) -> str:
    items = _evidence(result, "event")
    if not items:
        return _missing("events", result)
    return "Kubernetes events in the evidence:\n\n" + "\n\n".join(_item(e, code=True) for e in items)


def _spec(result: dict[str, Any], question: str) -> str:
    items = _evidence(result, "spec", "config")
    if not items:
        return _missing("resource specs or configuration", result)
    lowered = question.lower()
    named = [
        e
        for e in items
        if (e.get("resource") or {}).get("name", "").lower() in lowered and e["resource"]["name"]
    ]
    if named:
        items = named
    else:
        asked = [w for w in re.findall(r"[a-z0-9][-a-z0-9.]{2,}", lowered) if "-" in w]
        if asked:
            available = sorted({_where(e.get("resource")) for e in items})
            return (
                f"No spec or config of {', '.join(asked)} is among the evidence. "
                f"Specs and config collected: {'; '.join(available)}."
            )
    body = "\n\n".join(_item(e, code=True) for e in items)
    return f"Spec and configuration in the evidence:\n\n{body}"


def _fix(result: dict[str, Any], question: str) -> str:
    recommendations = result.get("recommendations") or []
    if not recommendations:
        return "The investigation made no recommendation."
    parts = []
    for rec in recommendations:
        text = f"{rec.get('title')} ({rec.get('kind')})"
        if rec.get("rationale"):
            text += f": {rec['rationale']}"
        commands = [c for c in rec.get("commands") or [] if c]
        if commands:
            text += "\n```\n" + "\n".join(commands) + "\n```"
        parts.append(text)
    return (
        "Recommended by the investigation:\n\n"
        + "\n\n".join(parts)
        + "\n\nOpsWorker never runs anything in your cluster: review and run these yourself."
    )


def _why(result: dict[str, Any], question: str) -> str:
    cause = result.get("root_cause") or {}
    if not cause:
        return "The investigation stored no root cause."

    confidence = cause.get("confidence")
    shown = f", confidence {confidence:.0%}" if isinstance(confidence, int | float) else ""
    category = str(cause.get("category") or "unknown")
    text = (
        f"Root cause: {category_label(category)} in {_where(cause.get('resource'))} "
        f"({category}{shown}).\n\n"
        f"{cause.get('summary') or ''}\n\n{cause.get('explanation') or ''}".rstrip()
    )
    cited = set(cause.get("evidence") or []) | set(re.findall(r"\[(E\d+)\]", cause.get("explanation") or ""))
    key = [e for e in result.get("evidence") or [] if e.get("id") in cited]
    if key:
        text += "\n\nKey evidence:\n" + "\n".join(f"• {_item(e)}" for e in key)
    return text


INTENTS: tuple[Intent, ...] = (
    Intent("logs", re.compile(r"\blogs?\b|\blog lines?\b|\bstack ?trace|\boutput\b", re.I), _logs),
    Intent(
        "changes",
        re.compile(
            r"\bchanged?\b|\bchanges\b|\brollouts?\b|\bdeployed\b|\bedit(ed|s)?\b|\bwhat'?s new\b",
            re.I,
        ),
        _changes,
    ),
    Intent("events", re.compile(r"\bevents?\b", re.I), _events),
    Intent(
        "spec",
        re.compile(r"\bspecs?\b|\bconfig(uration|map)?s?\b|\bmanifest\b|\byaml\b|\blimits?\b|\benv\b", re.I),
        _spec,
    ),
    Intent(
        "fix",
        re.compile(
            r"\bfix\b|\bresolve\b|\bremediat|\brecommend|\bnext steps?\b|\bcommands?\b|"
            r"what (should|do|can|must) (i|we) (run|do)\b|\bhow (do|can|to) (i |we )?(fix|solve|repair|stop)",
            re.I,
        ),
        _fix,
    ),
    Intent(
        "why",
        re.compile(
            r"\bwhy\b|root ?cause|\bcause[sd]?\b|what happened|what('s| is) wrong|\bcrash|\bfail|\bexplain",
            re.I,
        ),
        _why,
    ),
)
