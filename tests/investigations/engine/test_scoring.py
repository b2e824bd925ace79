"""The benchmark's scorer (shared/scenarios/README.md, "Scoring") on the expected.json shapes in use."""

from __future__ import annotations

from investigations.engine.scoring import CATEGORY_ONLY, PASS, UNKNOWN, WRONG, score

EXPECTED = {
    "root_cause_category": "bad-config-value",
    "root_cause_resources": [
        {"kind": "ConfigMap", "namespace": "shop", "name": "api-env", "role": "primary"},
        {"kind": "Deployment", "namespace": "shop", "name": "api", "role": "contributing"},
    ],
    "keywords": ["DB_HOST", "orders-db", "no such host"],
    "keyword_synonyms": {"no such host": ["NXDOMAIN"]},
    "wrong_root_causes": [
        {
            "category": "dependency-unavailable",
            "resource": {"kind": "Service", "namespace": "db", "name": "pg"},
        },
        {"category": "app-crash", "why": "the program is fine"},
        "Service selector mismatch (the Service has endpoints)",
    ],
}


def _result(category, kind="ConfigMap", namespace="shop", name="api-env", text="DB_HOST orders-db NXDOMAIN"):
    return {
        "root_cause": {
            "category": category,
            "resource": {"kind": kind, "namespace": namespace, "name": name},
            "summary": text,
            "explanation": "",
        }
    }


def test_right_category_primary_and_keywords_pass_with_synonyms():
    assert score(_result("bad-config-value"), EXPECTED).outcome == PASS


def test_a_contributing_resource_is_not_the_primary():
    graded = score(_result("bad-config-value", kind="Deployment", name="api"), EXPECTED)
    assert graded.outcome == CATEGORY_ONLY


def test_structured_wrong_cause_matches_on_category_and_resource():
    graded = score(_result("dependency-unavailable", kind="Service", namespace="db", name="pg"), EXPECTED)
    assert graded.outcome == WRONG
    assert graded.wrong_match == "dependency-unavailable Service/db/pg"


def test_structured_wrong_cause_without_resource_matches_on_category():
    assert score(_result("app-crash", kind="Deployment", name="api"), EXPECTED).outcome == WRONG


def test_plain_text_wrong_cause_matches_the_summary():
    graded = score(_result("bad-config-value", text="Service selector mismatch on api"), EXPECTED)
    assert graded.outcome == WRONG


def test_unknown_answer_to_a_known_cause_is_counted_as_unknown():
    assert score(_result("unknown", kind="", namespace="", name=""), EXPECTED).outcome == UNKNOWN


def test_unknown_scenario_without_primary_passes_an_honest_unknown():
    expected = {
        "root_cause_category": "unknown",
        "root_cause_resources": [],
        "keywords": ["Ready", "restarts"],
    }
    honest = _result("unknown", kind="", namespace="", name="", text="all pods Ready, 0 restarts")
    assert score(honest, expected).outcome == PASS
    assert score(_result("node-problem", kind="Node", name="n1"), expected).outcome == WRONG
