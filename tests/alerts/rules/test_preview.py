"""Editor support: live preview over stored signals, explaining a decision, match counts,
suggestions from recent signals, readable history. Each proves another organization sees nothing."""

import pytest

from alerts.models import Rule, RuleChange, Signal
from alerts.rules.conditions import parse_condition
from alerts.rules.engine import RuleSpec
from alerts.rules.history import diff_snapshots
from alerts.rules.preview import explain_signal, field_suggestions, preview_rule, rule_match_counts
from alerts.services.rules import rule_update
from tests.alerts.rules.test_rule_decisions import _group

pytestmark = pytest.mark.django_db


def _draft(*conditions, name="draft"):
    return RuleSpec(None, name, tuple(parse_condition(c) for c in conditions), "investigate")


@pytest.fixture
def stored(org, make_hook):
    hook = make_hook(org, "alertmanager")
    hook.post(
        _group(
            *[("KubePodCrashLooping", "payments", "critical", f"api-{i}") for i in range(3)],
            ("CPUThrottlingHigh", "shop", "info", "web-1"),
        )
    )
    return hook


def test_preview_counts_matches_and_earlier_rules(org, other_org, stored, make_rule, make_hook, in_schema):
    make_rule(org, "critical first", [{"field": "pod", "operator": "equals", "value": "api-0"}], "record")
    make_hook(other_org, "alertmanager").post(_group(("KubePodCrashLooping", "payments", "critical", "x-1")))
    with in_schema(org):
        preview = preview_rule(_draft({"field": "namespace", "operator": "equals", "value": "payments"}))
        assert (preview.considered, preview.matched, preview.decided) == (4, 3, 2)
        assert preview.taken_by_earlier == {"critical first": 1}
        assert {s.signal.pod for s in preview.samples} == {"api-0", "api-1", "api-2"}  # not beta's x-1
        first = {s.signal.pod: s.taken_by for s in preview.samples}
        assert first["api-0"] == "critical first" and first["api-1"] is None


def test_preview_changes_as_a_condition_changes(org, stored, in_schema):
    with in_schema(org):
        wide = preview_rule(_draft({"field": "severity", "operator": "severity_at_least", "value": "info"}))
        narrow = preview_rule(
            _draft({"field": "severity", "operator": "severity_at_least", "value": "critical"})
        )
    assert (wide.matched, narrow.matched) == (4, 3)


def test_explain_signal_names_rules_passed_over(org, stored, make_rule, in_schema):
    make_rule(org, "shop only", [{"field": "namespace", "operator": "equals", "value": "shop"}], "suppress")
    make_rule(org, "criticals", [{"field": "severity", "operator": "equals", "value": "critical"}])
    with in_schema(org):
        result = explain_signal(Signal.objects.get(pod="api-1"))
    assert result.rule.name == "criticals"
    assert result.passed_over == (("shop only", "not (namespace equals 'shop')"),)


def test_rule_match_counts_per_rule(org, other_org, make_rule, make_hook, in_schema):
    rule = make_rule(org)
    make_hook(org, "alertmanager").post(
        _group(("A", "payments", "warning", "p-1"), ("B", "shop", "warning", "p-2"))
    )
    with in_schema(org):
        assert rule_match_counts() == {rule.pk: (2, 2)}
    with in_schema(other_org):
        assert rule_match_counts() == {}


def test_field_suggestions_come_from_this_orgs_signals(org, other_org, stored, make_hook, in_schema):
    make_hook(other_org, "alertmanager").post(_group(("Secret", "beta-only-ns", "warning", "z")))
    with in_schema(org):
        suggestions = field_suggestions()
    assert suggestions["namespace"][0] == "payments"  # most frequent first
    assert "beta-only-ns" not in suggestions["namespace"]
    assert "label:pod" in suggestions and "annotation:summary" in suggestions


def test_history_diff_is_readable(org, make_rule, in_schema):
    rule = make_rule(org, "r", [{"field": "namespace", "operator": "equals", "value": "a"}])
    with in_schema(org):
        rule_update(
            rule=Rule.objects.get(pk=rule.pk),
            data={
                "name": "r2",
                "action": "record",
                "conditions": [{"field": "label:team", "operator": "exists"}],
            },
            author="x@alpha.test",
        )
        change = RuleChange.objects.filter(action="updated").get()
    rows = {(c.label, c.before, c.after) for c in diff_snapshots(change.before, change.after)}
    assert ("Name", "r", "r2") in rows
    assert ("Action", "investigate", "record") in rows
    assert ("Condition removed", "Namespace equals 'a'", "—") in rows
    assert ("Condition added", "—", "Label team exists") in rows
