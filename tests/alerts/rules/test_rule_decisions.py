"""Rules applied inside the webhook's transaction: decisions recorded on signals, dedup window,
hourly cap, silences, cache invalidation, and YAML export/import between organizations."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import Rule, RuleChange, Signal
from alerts.services.rules import (
    rule_move,
    rule_set_enabled,
    rules_export_yaml,
    rules_import_yaml,
    silence_create,
)
from investigations.models import Investigation
from tenants.org_settings import quotas_update
from tests.alerts.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def _group(*alerts):
    """An Alertmanager group of alerts given as (alertname, namespace, severity, pod)."""
    return {
        "version": "4",
        "status": "firing",
        "receiver": "opsworker",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "namespace": ns, "severity": sev, "pod": pod},
                "annotations": {"summary": f"{name} on {pod}"},
                "startsAt": "2026-11-27T02:00:00Z",
                "fingerprint": f"{abs(hash((name, ns, pod))):016x}"[:16],
            }
            for name, ns, sev, pod in alerts
        ],
    }


def test_rules_decide_each_signal_and_record_the_rule(org, make_hook, make_rule, in_schema):
    make_rule(
        org,
        "silence test namespaces",
        [{"field": "namespace", "operator": "regex", "value": "^test-"}],
        "suppress",
    )
    make_rule(
        org, "critical prod", [{"field": "severity", "operator": "severity_at_least", "value": "critical"}]
    )
    make_rule(org, "rest recorded", [], "record")
    body = _group(
        ("KubePodCrashLooping", "test-7", "critical", "a-1"),
        ("KubePodCrashLooping", "payments", "critical", "b-1"),
        ("CPUThrottlingHigh", "payments", "info", "c-1"),
    )
    answer = make_hook(org, "alertmanager").post(body).json()
    with in_schema(org):
        decided = {s.namespace + "/" + s.pod: (s.decision, s.matched_rule_name) for s in Signal.objects.all()}
        assert decided == {
            "test-7/a-1": ("suppress", "silence test namespaces"),
            "payments/b-1": ("investigate", "critical prod"),
            "payments/c-1": ("record", "rest recorded"),
        }
        assert Investigation.objects.count() == 1 == len(answer["investigations"])
        assert Investigation.objects.get().signal.pod == "b-1"


def test_rules_unmatched_signal_gets_the_default_action(org, make_hook, in_schema):
    make_hook(org, "alertmanager").post(fixture_bytes("alertmanager", "single_crashloop"))
    with in_schema(org):
        signal = Signal.objects.get()
        assert (signal.decision, signal.matched_rule) == ("record", None)
        assert "no rule matched" in signal.decision_reason
        assert Investigation.objects.count() == 0


def test_rules_dedup_window_attaches_repeat_to_open_investigation(org, make_hook, make_rule, in_schema):
    make_rule(org, dedup_window_minutes=30)
    hook = make_hook(org, "alertmanager")
    hook.post(_group(("KubePodCrashLooping", "payments", "warning", "api-1")))
    # The same alert on the same pod, as a new series (other labels), inside the window:
    again = _group(("KubePodCrashLooping", "payments", "warning", "api-1"))
    again["alerts"][0]["labels"]["container"] = "sidecar"
    again["alerts"][0]["fingerprint"] = "ffffeeeeddddcccc"
    answer = hook.post(again).json()
    assert answer["investigations"] == []
    with in_schema(org):
        first, second = Signal.objects.order_by("pk")
        assert second.investigation_id == first.investigation_id is not None
        assert "attached to investigation" in second.decision_reason
        assert Investigation.objects.count() == 1


def test_rules_dedup_window_expires(org, make_hook, make_rule, in_schema):
    make_rule(org, dedup_window_minutes=30)
    hook = make_hook(org, "alertmanager")
    hook.post(_group(("KubePodCrashLooping", "payments", "warning", "api-1")))
    with in_schema(org):
        Investigation.objects.update(created_at=timezone.now() - timedelta(minutes=31))
    again = _group(("KubePodCrashLooping", "payments", "warning", "api-1"))
    again["alerts"][0]["fingerprint"] = "ffffeeeeddddcccc"
    assert len(hook.post(again).json()["investigations"]) == 1


def test_rules_hourly_cap_records_the_excess_with_reason(org, make_hook, make_rule, in_schema):
    make_rule(org, max_investigations_per_hour=2, dedup_window_minutes=0)
    answer = (
        make_hook(org, "alertmanager")
        .post(_group(*[("KubePodCrashLooping", "payments", "warning", f"api-{i}") for i in range(4)]))
        .json()
    )
    assert len(answer["investigations"]) == 2
    with in_schema(org):
        capped = Signal.objects.filter(decision="record")
        assert capped.count() == 2
        assert all("cap of 2 investigations per hour is reached" in s.decision_reason for s in capped)


def test_rules_silence_suppresses_while_active_and_stops_when_expired(org, make_hook, make_rule, in_schema):
    from alerts.models import Silence
    from alerts.services.rules import silence_expire

    make_rule(org)
    hook = make_hook(org, "alertmanager")
    with in_schema(org):
        silence = silence_create(
            conditions=[{"field": "namespace", "operator": "equals", "value": "payments"}],
            match_mode="all",
            starts_at=timezone.now() - timedelta(minutes=1),
            ends_at=timezone.now() + timedelta(hours=1),
            author="sre@alpha.test",
            comment="planned failover",
        )
    hook.post(_group(("KubePodCrashLooping", "payments", "warning", "api-1")))
    with in_schema(org):
        silence_expire(silence=Silence.objects.get(pk=silence.pk), author="sre@alpha.test")
    hook.post(_group(("KubePodCrashLooping", "payments", "warning", "api-2")))
    with in_schema(org):
        silenced, after = Signal.objects.order_by("pk")
        assert (silenced.decision, silenced.silence_id) == ("suppress", silence.pk)
        assert "planned failover" in silenced.decision_reason
        assert after.decision == "investigate"
        assert Silence.objects.get(pk=silence.pk).expired_early_at is not None  # kept as history


def test_rules_silence_not_yet_started_does_not_apply(org, make_hook, make_rule, in_schema):
    make_rule(org)
    with in_schema(org):
        silence_create(
            conditions=[{"field": "namespace", "operator": "equals", "value": "payments"}],
            match_mode="all",
            starts_at=timezone.now() + timedelta(hours=1),
            ends_at=timezone.now() + timedelta(hours=2),
            author="sre@alpha.test",
            comment="tomorrow's maintenance",
        )
    make_hook(org, "alertmanager").post(_group(("KubePodCrashLooping", "payments", "warning", "api-1")))
    with in_schema(org):
        assert Signal.objects.get().decision == "investigate"


def test_rules_pipeline_alerts_are_never_investigated(org, make_hook, make_rule, in_schema):
    make_rule(org, "everything", [], "investigate")
    body = _group(("Watchdog", "monitoring", "none", "prometheus-0"))
    make_hook(org, "alertmanager").post(body)
    with in_schema(org):
        signal = Signal.objects.get()
        assert signal.decision == "record"
        assert "alerting pipeline" in signal.decision_reason


def test_rules_change_takes_effect_on_next_request(org, make_hook, make_rule, in_schema):
    rule = make_rule(org)
    hook = make_hook(org, "alertmanager")
    assert len(hook.post(_group(("A", "payments", "warning", "p-1"))).json()["investigations"]) == 1
    with in_schema(org):
        rule_set_enabled(rule=Rule.objects.get(pk=rule.pk), enabled=False, author="x@alpha.test")
    assert hook.post(_group(("A", "payments", "warning", "p-2"))).json()["investigations"] == []


def test_rules_order_change_is_recorded_in_history(org, make_rule, in_schema):
    first, second = make_rule(org, "first"), make_rule(org, "second")
    with in_schema(org):
        rule_move(rule=Rule.objects.get(pk=second.pk), to_index=0, author="x@alpha.test")
        assert list(Rule.objects.values_list("name", flat=True)) == ["second", "first"]
        change = RuleChange.objects.filter(action="reordered").get()
        assert change.before == {"order": ["first", "second"]} and change.after == {
            "order": ["second", "first"]
        }
    assert first.pk != second.pk


def test_rules_yaml_round_trip_gives_identical_decisions_in_another_org(
    org, other_org, make_hook, make_rule, in_schema
):
    make_rule(
        org, "suppress test", [{"field": "namespace", "operator": "regex", "value": "^test-"}], "suppress"
    )
    make_rule(
        org,
        "critical",
        [
            {"field": "severity", "operator": "in", "value": ["critical"]},
            {"field": "label:team", "operator": "not_exists"},
        ],
        "investigate",
        match_mode="any",
    )
    with in_schema(org):
        exported = rules_export_yaml()
    with in_schema(other_org):
        result = rules_import_yaml(text=exported, author="import@beta.test")
        assert result.created == 2
        assert rules_export_yaml() == exported
    body = _group(
        ("X", "test-1", "critical", "a"), ("Y", "payments", "warning", "b"), ("Z", "shop", "critical", "c")
    )
    make_hook(org, "alertmanager").post(body)
    make_hook(other_org, "alertmanager").post(body)

    def decisions(target):
        with in_schema(target):
            return sorted((s.pod, s.decision, s.matched_rule_name) for s in Signal.objects.all())

    assert decisions(org) == decisions(other_org)
    assert len({d for _p, d, _r in decisions(org)}) == 2  # the rules really discriminate


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML at line 1"),
        ("- just a list", "mapping with a 'rules' list"),
        ("rules:\n  - name: a\n    action: explode\n", "rule 1 (a): action must be one of"),
        (
            "rules:\n  - name: a\n    action: record\n    conditions:\n"
            "      - {field: namespace, operator: regex, value: '(x'}\n",
            "rule 1 (a), condition 1: invalid regular expression: missing ): (x",
        ),
        ("rules:\n  - {name: a, action: record}\n  - {name: a, action: record}\n", "repeated: a"),
        ("version: 9\nrules: []\n", "unsupported version"),
    ],
)
def test_rules_broken_import_changes_nothing_and_says_why(org, make_rule, in_schema, text, message):
    make_rule(org, "keep me")
    with in_schema(org):
        before = rules_export_yaml()
        with pytest.raises(ValidationError) as error:
            rules_import_yaml(text=text, author="x@alpha.test")
        assert message in " ".join(error.value.messages)
        assert rules_export_yaml() == before


def test_rules_import_reports_every_problem_at_once(org, in_schema):
    text = json.dumps({"rules": [{"name": "a", "action": "nope"}, {"name": "", "action": "record"}]})
    with in_schema(org), pytest.raises(ValidationError) as error:
        rules_import_yaml(text=text, author="x@alpha.test")
    assert len(error.value.messages) == 2


def test_rules_of_one_org_never_apply_to_another(org, other_org, make_hook, make_rule, in_schema):
    make_rule(org, "suppress all", [], "suppress")
    make_hook(other_org, "alertmanager").post(_group(("A", "payments", "warning", "p")))
    with in_schema(other_org):
        assert Signal.objects.get().decision == "record"
    with in_schema(org):
        assert Signal.objects.count() == 0


def test_rules_daily_quota_records_the_excess_in_the_same_delivery(
    org, other_org, make_hook, make_rule, in_schema
):
    # given: one investigation a day allowed, and a delivery with two alerts to investigate
    quotas_update(organization=org.organization, actor=org.owner, max_investigations_per_day=1)
    make_rule(org, "investigate all", [])
    make_rule(other_org, "investigate all", [])
    body = _group(
        ("KubePodCrashLooping", "payments", "critical", "a-1"), ("OOMKilled", "search", "critical", "b-1")
    )
    # when
    answer = make_hook(org, "alertmanager").post(body).json()
    other = make_hook(other_org, "alertmanager").post(body).json()
    # then: the hand-off opened one, the other signal is recorded with the reason, both stored
    with in_schema(org):
        assert len(answer["investigations"]) == 1 == Investigation.objects.count()
        opened = Signal.objects.get(investigation__isnull=False)
        assert opened.investigation_id == answer["investigations"][0] and opened.decision == "investigate"
        recorded = Signal.objects.get(investigation__isnull=True)
        assert recorded.decision == "record"
        assert "daily investigation quota is reached" in recorded.decision_reason
    # the other organization has no quota: both opened there, none of the first's rows seen
    with in_schema(other_org):
        assert len(other["investigations"]) == 2 == Investigation.objects.count()
        assert not Signal.objects.filter(decision="record").exists()
