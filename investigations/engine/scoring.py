"""Score a result against a scenario's expected.json (shared/scenarios/README.md, "Scoring")."""

from __future__ import annotations

import dataclasses

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
    resource_ok = any(
        (r.get("kind"), r.get("namespace") or "", r.get("name"))
        == (resource.get("kind"), resource.get("namespace") or "", resource.get("name"))
        for r in primaries
    )
    wrong = ""
    summary = (cause.get("summary") or "").lower()
    for candidate in expected.get("wrong_root_causes") or []:
        # A wrong conclusion counts when the result *is* it: its category-level summary names it.
        head = candidate.split("(")[0].strip().lower()
        if head and head in summary:
            wrong = candidate
            break
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
