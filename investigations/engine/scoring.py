"""Score a result against a scenario's expected.json (shared/scenarios/README.md, "Scoring")."""

from __future__ import annotations

import dataclasses
from typing import Any

PASS, CATEGORY_ONLY, WRONG, UNKNOWN = "pass", "category-only", "wrong", "unknown"


@dataclasses.dataclass
class Score:
    outcome: str
    category_ok: bool
    resource_ok: bool
    keywords_found: list[str]
    keywords_missing: list[str]
    wrong_match: str = ""


def _mentions(text: str, keyword: str, synonyms: dict[str, list[str]]) -> bool:
    lowered = text.lower()
    return any(term.lower() in lowered for term in [keyword, *synonyms.get(keyword, [])])


def _key(resource: dict) -> tuple[str, str, str]:
    return (resource.get("kind") or "", resource.get("namespace") or "", resource.get("name") or "")


def _names_wrong_cause(cause: dict, candidate: Any) -> bool:
    """Whether the result *is* this wrong conclusion.

    A structured entry (`{category, resource, ...}`) matches on its category and, when it names
    one, its resource. A plain-text entry matches when the result's summary names it (the text
    before any parenthesis), as the project's first scenarios wrote them.
    """
    if isinstance(candidate, dict):
        if candidate.get("category") and candidate["category"] != cause.get("category"):
            return False
        wrong_resource = candidate.get("resource") or {}
        if wrong_resource.get("name"):
            return _key(wrong_resource) == _key(cause.get("resource") or {})
        return bool(candidate.get("category"))
    head = str(candidate).split("(")[0].strip().lower()
    return bool(head) and head in (cause.get("summary") or "").lower()


def _describe(candidate: Any) -> str:
    if isinstance(candidate, dict):
        resource = candidate.get("resource") or {}
        where = "/".join(part for part in _key(resource) if part)
        return f"{candidate.get('category', '')} {where}".strip()
    return str(candidate)


def score(result: dict, expected: dict) -> Score:
    cause = result.get("root_cause") or {}
    category = cause.get("category")
    resource = cause.get("resource") or {}
    text = " ".join(str(cause.get(k) or "") for k in ("summary", "explanation"))
    keywords = expected.get("keywords") or []
    synonyms = expected.get("keyword_synonyms") or {}
    found = [k for k in keywords if _mentions(text, k, synonyms)]
    missing = [k for k in keywords if k not in found]
    category_ok = category == expected.get("root_cause_category")
    primaries = [
        r for r in expected.get("root_cause_resources") or [] if r.get("role", "primary") == "primary"
    ]
    # An honest `unknown` scenario names no primary resource: there is none to match.
    resource_ok = any(_key(r) == _key(resource) for r in primaries) if primaries else True
    wrong = next(
        (_describe(c) for c in expected.get("wrong_root_causes") or [] if _names_wrong_cause(cause, c)), ""
    )
    if category == "unknown" and expected.get("root_cause_category") != "unknown":
        outcome = UNKNOWN
    elif wrong:
        outcome = WRONG
    elif category_ok and resource_ok and len(found) * 3 >= len(keywords) * 2:
        outcome = PASS
    elif category_ok:
        outcome = CATEGORY_ONLY
    else:
        outcome = WRONG
    return Score(outcome, category_ok, resource_ok, found, missing, wrong)
