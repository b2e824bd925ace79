"""Every operator, on present, missing, unicode and hostile values (pure, no database)."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from alerts.rules.conditions import ConditionError, compile_condition, parse_condition
from alerts.rules.engine import RuleSet, RuleSpec, SilenceSpec

SUBJECT = {
    "source": "alertmanager",
    "integration": "prom-prod",
    "alertname": "KubePodCrashLooping",
    "severity": "warning",
    "status": "firing",
    "cluster": "prod-eu",
    "namespace": "payments",
    "pod": "payments-api-7d9f",
    "workload": "payments-api",
    "node": "",
    "summary": "Pod payments/payments-api-7d9f is crash looping",
    "description": "Zähler überschritten — 再起動 5 回",
    "labels": {"team": "payments", "tier": "backend", "région": "eu-ouest"},
    "annotations": {"runbook_url": "https://runbooks/x"},
}


def check(field, operator, value=None, subject=SUBJECT):
    return compile_condition(parse_condition({"field": field, "operator": operator, "value": value}))(subject)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("namespace", "equals", "payments", True),
        ("namespace", "equals", "Payments", False),  # case-sensitive, as Kubernetes names are
        ("namespace", "not_equals", "shop", True),
        ("namespace", "in", ["shop", "payments"], True),
        ("namespace", "in", "shop, payments", True),  # comma-separated from a form
        ("namespace", "not_in", ["shop", "payments"], False),
        ("namespace", "regex", "^pay", True),
        ("namespace", "regex", "^prod-", False),
        ("namespace", "not_regex", "^prod-", True),
        ("summary", "contains", "CRASH LOOPING", True),  # case-insensitive
        ("summary", "contains", "oom", False),
        ("label:team", "exists", None, True),
        ("label:owner", "exists", None, False),
        ("label:owner", "not_exists", None, True),
        ("severity", "severity_at_least", "warning", True),
        ("severity", "severity_at_least", "critical", False),
        ("severity", "severity_at_least", "info", True),
        ("annotation:runbook_url", "regex", "^https://", True),
        ("integration", "equals", "prom-prod", True),
        ("source", "in", ["grafana", "datadog"], False),
    ],
)
def test_condition_operators(field, operator, value, expected):
    assert check(field, operator, value) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("equals", "x", False),
        ("not_equals", "x", True),
        ("in", ["x"], False),
        ("not_in", ["x"], True),
        ("regex", ".*", False),  # nothing to match: a positive operator is false
        ("not_regex", "x", True),
        ("contains", "x", False),
        ("exists", None, False),
        ("not_exists", None, True),
    ],
)
def test_condition_missing_label(operator, value, expected):
    assert check("label:missing", operator, value) is expected


def test_condition_missing_severity_is_below_every_floor():
    assert check("severity", "severity_at_least", "info", {**SUBJECT, "severity": ""}) is False


def test_condition_unicode_values_and_keys():
    assert check("description", "contains", "ÜBERSCHRITTEN") is True
    assert check("description", "regex", "再起動 \\d+ 回") is True
    assert check("label:région", "equals", "eu-ouest") is True


def test_condition_catastrophic_regex_runs_in_linear_time():
    # (a+)+$ on "aaaa…b" takes exponential time with backtracking engines; RE2 is linear.
    hostile = {**SUBJECT, "summary": "a" * 100_000 + "b"}
    started = time.perf_counter()
    assert check("summary", "regex", "(a+)+$", hostile) is False
    assert check("summary", "regex", "(x+x+)+y", hostile) is False
    elapsed = time.perf_counter() - started
    # Not a speed assertion: with Python's re this call would not return for longer than the
    # universe's age; we only record that it returned (the figure lives in bench/rules.py).
    assert elapsed >= 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "namespace", "operator": "regex", "value": "(unclosed"}, "invalid regular expression"),
        ({"field": "namespace", "operator": "regex", "value": "(a)\\1"}, "no look-around or backreferences"),
        (
            {"field": "namespace", "operator": "regex", "value": "(?=look)"},
            "no look-around or backreferences",
        ),
        ({"field": "nope", "operator": "equals", "value": "x"}, "unknown field"),
        ({"field": "label:", "operator": "equals", "value": "x"}, "label:<key>"),
        ({"field": "namespace", "operator": "like", "value": "x"}, "unknown operator"),
        ({"field": "namespace", "operator": "equals", "value": ""}, "empty"),
        ({"field": "namespace", "operator": "in", "value": []}, "list of values"),
        ({"field": "namespace", "operator": "severity_at_least", "value": "critical"}, "only applies"),
        ({"field": "severity", "operator": "severity_at_least", "value": "urgent"}, "one of info"),
        ({"field": "namespace", "operator": "equals", "value": ["a", "b"]}, "single value"),
    ],
)
def test_condition_validation_names_the_problem(data, message):
    with pytest.raises(ConditionError, match=message):
        parse_condition(data, "condition 1")


def test_invalid_regex_message_is_text_not_a_bytes_repr():
    # RE2 reports errors as bytes; the message a person reads must not show b'...'.
    with pytest.raises(ConditionError) as caught:
        parse_condition({"field": "alertname", "operator": "regex", "value": "KubePod(Crash"}, "condition 1")
    assert str(caught.value) == "condition 1: invalid regular expression: missing ): KubePod(Crash"


def test_invalid_regex_look_around_names_what_re2_lacks():
    with pytest.raises(ConditionError) as caught:
        parse_condition({"field": "pod", "operator": "not_regex", "value": "api(?!-canary)"}, "condition 2")
    assert str(caught.value) == (
        "condition 2: invalid regular expression: invalid perl operator: (?! "
        "(RE2 has no look-around or backreferences)"
    )


# --- rule sets --------------------------------------------------------------------------------

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def rule(name, conditions, action="investigate", match_mode="all", enabled=True, rule_id=None):
    return RuleSpec(rule_id, name, tuple(parse_condition(c) for c in conditions), action, match_mode, enabled)


def test_rule_set_first_match_decides_in_order():
    rules = RuleSet(
        [
            rule(
                "noise",
                [{"field": "alertname", "operator": "equals", "value": "KubePodCrashLooping"}],
                "suppress",
            ),
            rule(
                "payments", [{"field": "namespace", "operator": "equals", "value": "payments"}], "investigate"
            ),
        ]
    )
    result = rules.evaluate(SUBJECT, now=NOW, explain=True)
    assert (result.action, result.rule.name, result.passed_over) == ("suppress", "noise", ())


def test_rule_set_explains_rules_passed_over():
    rules = RuleSet(
        [
            rule(
                "prod only", [{"field": "namespace", "operator": "regex", "value": "^prod-"}], "investigate"
            ),
            rule("payments", [{"field": "namespace", "operator": "equals", "value": "payments"}], "record"),
        ]
    )
    result = rules.evaluate(SUBJECT, now=NOW, explain=True)
    assert result.rule.name == "payments"
    assert result.passed_over == (("prod only", "not (namespace matches regex '^prod-')"),)


def test_rule_set_any_and_all():
    conditions = [
        {"field": "namespace", "operator": "equals", "value": "shop"},
        {"field": "severity", "operator": "equals", "value": "warning"},
    ]
    assert RuleSet([rule("all", conditions)]).evaluate(SUBJECT, now=NOW).action == "record"  # default
    assert (
        RuleSet([rule("any", conditions, match_mode="any")]).evaluate(SUBJECT, now=NOW).action
        == "investigate"
    )


@pytest.mark.parametrize("action", ["investigate", "record", "suppress"])
def test_rule_set_each_action(action):
    assert RuleSet([rule("r", [], action)]).evaluate(SUBJECT, now=NOW).action == action


def test_rule_set_disabled_rules_are_skipped_and_default_applies():
    rules = RuleSet([rule("off", [], "suppress", enabled=False)], default_action="investigate")
    result = rules.evaluate(SUBJECT, now=NOW)
    assert (result.action, result.rule) == ("investigate", None)
    assert "default is investigate" in result.reason


def test_silence_applies_only_while_active():
    condition = (parse_condition({"field": "namespace", "operator": "equals", "value": "payments"}),)
    silence = SilenceSpec(7, condition, NOW, NOW + timedelta(hours=1), comment="deploying")
    rules = RuleSet([rule("all", [], "investigate")], [silence])
    assert rules.evaluate(SUBJECT, now=NOW - timedelta(seconds=1)).action == "investigate"  # not started
    during = rules.evaluate(SUBJECT, now=NOW + timedelta(minutes=30))
    assert (during.action, during.silence.id) == ("suppress", 7)
    assert "deploying" in during.reason
    assert rules.evaluate(SUBJECT, now=NOW + timedelta(hours=1)).action == "investigate"  # expired
