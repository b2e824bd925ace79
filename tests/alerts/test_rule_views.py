"""The rule editor and silences pages: list, create/edit with condition rows, inline validation, live
preview, reorder/toggle/duplicate/delete, default action, test against a signal, history, YAML, silences,
permissions per role (pages and htmx partials), and isolation between organizations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import rule_views
from alerts.models import Rule, RuleChange, RuleSettings, Signal, Silence
from alerts.rules.conditions import parse_condition
from alerts.rules.engine import RuleSpec
from alerts.rules.preview import preview_rule
from alerts.services.rules import rules_export_yaml, silence_create
from tests.alerts.rules.test_rule_decisions import _group

pytestmark = pytest.mark.django_db

ROWS_AB = [("namespace", "", "equals", "payments"), ("label", "team", "regex", "^pay")]


def _rule_post(name="Payments crashloops", rows=ROWS_AB, ids=None, **overrides):
    """The form as the browser posts it: rule options plus parallel row lists."""
    ids = ids or [f"r{i}" for i in range(len(rows))]
    data = {
        "name": name,
        "description": "",
        "enabled": "on",
        "match_mode": "all",
        "action": "investigate",
        "target_cluster": "",
        "dedup_window_minutes": "30",
        "max_investigations_per_hour": "",
        "notify_channel": "",
        "row_id": list(ids),
        "field": [r[0] for r in rows],
        "key": [r[1] for r in rows],
        "operator": [r[2] for r in rows],
        "value": [r[3] for r in rows],
    }
    data.update(overrides)
    return data


def _number(body: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">(\d+)<', body)
    assert match, f"{testid} not in the response"
    return int(match.group(1))


def _row_error(body: str, row_id: str) -> str:
    match = re.search(rf'<span class="cond-error" id="cond-error-{row_id}"[^>]*>([^<]*)</span>', body)
    assert match, f"no error slot for row {row_id}"
    return match.group(1)


def _rule_names(org, in_schema) -> list[str]:
    with in_schema(org):
        return list(Rule.objects.order_by("position", "pk").values_list("name", flat=True))


@pytest.fixture
def admin(org, client_for):
    return client_for(org.owner, org)


@pytest.fixture
def signals(org, make_hook):
    """Four signals through the real webhook: three crashloops in payments, one throttling in shop."""
    hook = make_hook(org, "alertmanager")
    response = hook.post(
        _group(
            *[("KubePodCrashLooping", "payments", "critical", f"api-{i}") for i in range(3)],
            ("CPUThrottlingHigh", "shop", "info", "web-1"),
        )
    )
    assert response.status_code == 202
    return hook


# --- list -------------------------------------------------------------------------------------


def test_rule_list_shows_rules_in_order_with_match_counts(org, admin, make_rule, signals, in_schema):
    make_rule(
        org, "Shop <noise>", [{"field": "namespace", "operator": "equals", "value": "shop"}], "suppress"
    )
    make_rule(org, "Payments", [{"field": "namespace", "operator": "equals", "value": "payments"}])
    # the signals were decided before the rules existed: post them again as a new episode
    signals.post(_group(*[("KubePodCrashLooping", "payments", "critical", f"db-{i}") for i in range(2)]))

    body = admin.get("/rules/").content.decode()

    assert body.index("Shop &lt;noise&gt;") < body.index(">Payments<")
    assert "Shop <noise>" not in body  # escaped
    assert re.findall(r'data-testid="matches-day">(\d+)<', body) == ["0", "2"]
    assert re.findall(r'data-testid="matches-week">(\d+)<', body) == ["0", "2"]
    assert "Namespace equals &#x27;payments&#x27;" in body
    assert 'data-testid="new-rule"' in body and body.count('data-testid="rule-toggle"') == 2


def test_rule_list_empty_state_explains(admin):
    body = admin.get("/rules/").content.decode()
    assert "No rules yet" in body and "Create the first rule" in body


# --- create / edit ----------------------------------------------------------------------------


def test_rule_create_with_two_conditions(org, admin, in_schema):
    response = admin.post("/rules/new/", _rule_post())

    assert response.status_code == 302 and response["Location"].startswith("/rules/#rule-")
    with in_schema(org):
        rule = Rule.objects.get()
        assert rule.conditions == [
            {"field": "namespace", "operator": "equals", "value": "payments"},
            {"field": "label:team", "operator": "regex", "value": "^pay"},
        ]
        assert (rule.action, rule.dedup_window_minutes, rule.created_by) == (
            "investigate",
            30,
            org.owner.email,
        )
        assert RuleChange.objects.get().action == "created"


def test_rule_create_form_renders_one_row_and_suggestions(org, admin, signals):
    body = admin.get("/rules/new/").content.decode()
    assert body.count('data-testid="condition-row"') == 1
    assert 'data-field="namespace"' in body and '<option value="payments">' in body  # datalist
    assert 'id="dl-keys-label"' in body and '<option value="pod">' in body
    assert 'name="dedup_window_minutes" value="30"' in body


def test_rule_create_bad_regex_is_shown_at_its_row_and_nothing_is_saved(org, admin, in_schema):
    rows = [("namespace", "", "equals", "payments"), ("alertname", "", "regex", "(unclosed")]

    response = admin.post("/rules/new/", _rule_post(rows=rows, ids=["good1", "bad2"]))

    assert response.status_code == 400
    body = response.content.decode()
    assert _row_error(body, "good1") == ""
    assert _row_error(body, "bad2") == "Invalid regular expression: missing ): (unclosed"
    assert 'value="(unclosed"' in body  # what was typed stays
    with in_schema(org):
        assert Rule.objects.count() == 0 and RuleChange.objects.count() == 0


def test_rule_create_missing_label_key_is_shown_at_its_row(admin):
    response = admin.post("/rules/new/", _rule_post(rows=[("label", "", "exists", "")], ids=["k1"]))
    assert response.status_code == 400
    assert "label:&lt;key&gt;" in _row_error(response.content.decode(), "k1")


def test_rule_create_without_javascript_adds_a_row(org, admin, in_schema):
    response = admin.post("/rules/new/", {**_rule_post(), "add_row": "1"})
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="condition-row"') == 3
    with in_schema(org):
        assert Rule.objects.count() == 0


def test_rule_edit_changes_the_rule(org, admin, make_rule, in_schema):
    rule = make_rule(org, "Old name", [{"field": "namespace", "operator": "exists"}])
    page = admin.get(f"/rules/{rule.pk}/edit/").content.decode()
    assert 'value="Old name"' in page and '<option value="exists" selected>' in page

    response = admin.post(
        f"/rules/{rule.pk}/edit/",
        _rule_post(name="New name", rows=[("severity", "", "in", "critical, warning")]),
    )

    assert response.status_code == 302
    with in_schema(org):
        rule.refresh_from_db()
        assert rule.name == "New name"
        assert rule.conditions == [{"field": "severity", "operator": "in", "value": ["critical", "warning"]}]


def test_rule_condition_row_partial_is_a_new_empty_row(admin):
    first = admin.get("/rules/condition-row/").content.decode()
    second = admin.get("/rules/condition-row/").content.decode()
    assert first.count('data-testid="condition-row"') == 1 and "<html" not in first
    assert re.search(r'id="cond-(\w+)"', first).group(1) != re.search(r'id="cond-(\w+)"', second).group(1)


# --- live preview -----------------------------------------------------------------------------


def test_rule_preview_numbers_match_preview_rule(org, admin, make_rule, signals, in_schema):
    make_rule(org, "api-0 first", [{"field": "pod", "operator": "equals", "value": "api-0"}], "record")
    rows = [("namespace", "", "equals", "payments")]

    body = admin.post("/rules/preview/", _rule_post(rows=rows)).content.decode()

    with in_schema(org):
        expected = preview_rule(
            RuleSpec(
                None,
                "d",
                (parse_condition({"field": "namespace", "operator": "equals", "value": "payments"}),),
                "x",
            )
        )
    assert (_number(body, "preview-matched"), _number(body, "preview-decided")) == (
        expected.matched,
        expected.decided,
    )
    assert (expected.matched, expected.decided) == (3, 2)
    assert "“api-0 first” (1)" in body
    assert body.count("/alerts/") >= 3  # sample rows link to the signals
    assert "<html" not in body


def test_rule_preview_changes_as_a_condition_changes(admin, signals):
    wide = admin.post("/rules/preview/", _rule_post(rows=[("severity", "", "severity_at_least", "info")]))
    narrow = admin.post(
        "/rules/preview/", _rule_post(rows=[("severity", "", "severity_at_least", "critical")])
    )
    assert (
        _number(wide.content.decode(), "preview-matched"),
        _number(narrow.content.decode(), "preview-matched"),
    ) == (
        4,
        3,
    )


def test_rule_preview_of_an_existing_rule_counts_rules_before_it_only(org, admin, make_rule, signals):
    make_rule(org, "everything first", [], "record")
    rule = make_rule(org, "payments", [{"field": "namespace", "operator": "equals", "value": "payments"}])
    make_rule(org, "after", [], "record")
    body = admin.post(
        f"/rules/{rule.pk}/preview/", _rule_post(rows=[("namespace", "", "exists", "")])
    ).content.decode()
    assert (_number(body, "preview-matched"), "“everything first” (4)" in body, "after" not in body) == (
        4,
        True,
        True,
    )


def test_rule_preview_sends_row_errors_out_of_band(admin, signals):
    rows = [
        ("namespace", "", "equals", "payments"),
        ("pod", "", "regex", "a(?=b)"),
        ("pod", "", "equals", ""),
    ]

    body = admin.post("/rules/preview/", _rule_post(rows=rows, ids=["ok", "bad", "blank"])).content.decode()

    assert 'data-testid="preview-invalid"' in body
    assert re.search(
        r'id="cond-error-bad" hx-swap-oob="true" role="alert"[^>]*>Invalid regular expression: invalid perl',
        body,
    )
    assert (
        _row_error(body, "ok") == "" and _row_error(body, "blank") == ""
    )  # a row being typed is not flagged


def test_rule_preview_without_signals_says_so(admin):
    body = admin.post("/rules/preview/", _rule_post()).content.decode()
    assert "No signals arrived in the last 7 days" in body


# --- list actions -----------------------------------------------------------------------------


def test_rule_move_up_and_down(org, admin, make_rule, in_schema):
    make_rule(org, "a", [])
    make_rule(org, "b", [])
    c = make_rule(org, "c", [])

    assert admin.post(f"/rules/{c.pk}/move/", {"direction": "up"}).status_code == 302
    assert _rule_names(org, in_schema) == ["a", "c", "b"]
    admin.post(f"/rules/{c.pk}/move/", {"direction": "up"})
    assert _rule_names(org, in_schema) == ["c", "a", "b"]
    admin.post(f"/rules/{c.pk}/move/", {"direction": "up"})  # already first: stays
    admin.post(f"/rules/{c.pk}/move/", {"direction": "down"})
    assert _rule_names(org, in_schema) == ["a", "c", "b"]
    with in_schema(org):
        assert RuleChange.objects.filter(action="reordered").count() == 3


def test_rule_toggle_disables_and_enables(org, admin, make_rule, in_schema):
    rule = make_rule(org, "a", [])
    admin.post(f"/rules/{rule.pk}/toggle/", {"enabled": "0"})
    with in_schema(org):
        assert Rule.objects.get().enabled is False
    assert 'aria-checked="false"' in admin.get("/rules/").content.decode()
    admin.post(f"/rules/{rule.pk}/toggle/", {"enabled": "1"})
    with in_schema(org):
        assert Rule.objects.get().enabled is True


def test_rule_duplicate_places_a_disabled_copy_below(org, admin, make_rule, in_schema):
    rule = make_rule(org, "a", [{"field": "pod", "operator": "exists"}])
    make_rule(org, "b", [])
    admin.post(f"/rules/{rule.pk}/duplicate/")
    assert _rule_names(org, in_schema) == ["a", "a (copy)", "b"]
    with in_schema(org):
        copy = Rule.objects.get(name="a (copy)")
        assert copy.enabled is False and copy.conditions == rule.conditions


def test_rule_delete_asks_first_then_deletes(org, admin, make_rule, in_schema):
    rule = make_rule(org, "doomed", [])
    confirm = admin.get(f"/rules/{rule.pk}/delete/")
    assert confirm.status_code == 200 and "Delete the rule “doomed”?" in confirm.content.decode()
    assert _rule_names(org, in_schema) == ["doomed"]
    assert admin.post(f"/rules/{rule.pk}/delete/").status_code == 302
    assert _rule_names(org, in_schema) == []
    assert admin.get(f"/rules/{rule.pk}/edit/").status_code == 404


def test_rule_default_action_change(org, admin, in_schema):
    admin.post("/rules/default-action/", {"action": "suppress"})
    with in_schema(org):
        assert RuleSettings.objects.get().default_action == "suppress"
    assert '<option value="suppress" selected>' in admin.get("/rules/").content.decode()
    admin.post("/rules/default-action/", {"action": "everything"})
    with in_schema(org):
        assert RuleSettings.objects.get().default_action == "suppress"


# --- test against a signal, history -----------------------------------------------------------


def test_rule_test_page_explains_a_signal(org, admin, make_rule, signals, in_schema):
    make_rule(org, "shop only", [{"field": "namespace", "operator": "equals", "value": "shop"}], "suppress")
    make_rule(org, "criticals", [{"field": "severity", "operator": "equals", "value": "critical"}])
    with in_schema(org):
        signal = Signal.objects.get(pod="api-1")

    listing = admin.get("/rules/test/?q=CrashLoop").content.decode()
    body = admin.get(f"/rules/test/?signal={signal.pk}").content.decode()

    assert listing.count("?signal=") == 3 and "CPUThrottlingHigh" not in listing
    assert "rule “criticals”" in body
    assert "shop only" in body and "not (namespace equals &#x27;shop&#x27;)" in body
    assert admin.get("/rules/test/?signal=999999").status_code == 404


def test_rule_test_page_names_the_silence(org, admin, signals, in_schema):
    with in_schema(org):
        silence_create(
            conditions=[{"field": "namespace", "operator": "equals", "value": "shop"}],
            match_mode="all",
            starts_at=timezone.now() - timedelta(minutes=1),
            ends_at=timezone.now() + timedelta(hours=1),
            author="a@alpha.test",
            comment="maintenance",
        )
        signal = Signal.objects.get(pod="web-1")
    body = admin.get(f"/rules/test/?signal={signal.pk}").content.decode()
    assert "silence #" in body and "maintenance" in body and "suppress" in body


def test_rule_history_shows_a_readable_diff(org, admin, make_rule):
    rule = make_rule(org, "History <b>", [{"field": "namespace", "operator": "equals", "value": "payments"}])
    admin.post(
        f"/rules/{rule.pk}/edit/", _rule_post(name="History <b>", rows=[("namespace", "", "equals", "shop")])
    )

    body = admin.get("/rules/history/").content.decode()

    assert body.count('data-testid="history-entry"') == 2
    assert body.index(">updated<") < body.index(">created<")  # newest first
    assert "Condition removed" in body and "Namespace equals &#x27;payments&#x27;" in body
    assert "Condition added" in body and "Namespace equals &#x27;shop&#x27;" in body
    assert "History &lt;b&gt;" in body and org.owner.email in body


def test_rule_history_paginates(org, admin, make_rule):
    for i in range(rule_views.HISTORY_PER_PAGE + 1):
        make_rule(org, f"r{i}", [])
    first, second = (
        admin.get("/rules/history/").content.decode(),
        admin.get("/rules/history/?page=2").content.decode(),
    )
    assert first.count('data-testid="history-entry"') == rule_views.HISTORY_PER_PAGE
    assert second.count('data-testid="history-entry"') == 1


# --- YAML -------------------------------------------------------------------------------------


def test_rules_yaml_round_trip_through_the_pages(org, other_org, admin, client_for, make_rule, in_schema):
    make_rule(org, "first", [{"field": "label:team", "operator": "in", "value": ["a", "b"]}], "suppress")
    make_rule(
        org,
        "second",
        [{"field": "alertname", "operator": "regex", "value": "^Kube"}],
        max_investigations_per_hour=5,
    )

    export = admin.get("/rules/export/")
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="rules.yaml"'
    text = export.content.decode()

    response = client_for(other_org.owner, other_org).post("/rules/import/", {"text": text})

    assert response.status_code == 302
    assert _rule_names(other_org, in_schema) == ["first", "second"]
    with in_schema(other_org):
        assert rules_export_yaml() == text


def test_rules_import_by_file_upload_shows_counts(org, admin, make_rule, in_schema):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_rule(org, "old", [])
    upload = SimpleUploadedFile("rules.yaml", b"rules:\n  - name: new\n    action: record\n")
    response = admin.post("/rules/import/", {"file": upload}, follow=True)
    assert "Imported 1 rule; 1 previous rule replaced." in response.content.decode()
    assert _rule_names(org, in_schema) == ["new"]


def test_rules_import_broken_file_changes_nothing_and_lists_every_problem(org, admin, make_rule, in_schema):
    make_rule(org, "keep me", [])
    broken = (
        "rules:\n"
        "  - name: bad regex\n    action: investigate\n    conditions:\n"
        "      - {field: pod, operator: regex, value: '(('}\n"
        "  - name: bad action\n    action: explode\n"
    )

    response = admin.post("/rules/import/", {"text": broken})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported. Fix 2 problems" in body
    assert "invalid regular expression" in body and "action must be one of" in body
    assert "b&#x27;" not in body
    assert _rule_names(org, in_schema) == ["keep me"]
    not_yaml = admin.post("/rules/import/", {"text": "rules: [unclosed"}).content.decode()
    assert "not valid YAML at line" in not_yaml


# --- silences ---------------------------------------------------------------------------------


def test_silence_create_and_expire(org, client_for, make_member, in_schema):
    member = client_for(make_member(org, "member"), org)
    rows = [("namespace", "", "equals", "shop"), ("alertname", "", "contains", "Throttl")]
    data = {
        "comment": "shop maintenance <tonight>",
        "match_mode": "all",
        "starts_at": "",
        "duration": "2h",
        "ends_at": "",
        "row_id": ["s1", "s2"],
        "field": [r[0] for r in rows],
        "key": [r[1] for r in rows],
        "operator": [r[2] for r in rows],
        "value": [r[3] for r in rows],
    }

    assert member.get("/silences/new/").status_code == 200
    assert member.post("/silences/new/", data).status_code == 302

    with in_schema(org):
        silence = Silence.objects.get()
        assert len(silence.conditions) == 2
        assert timedelta(hours=2) - (silence.ends_at - silence.starts_at) < timedelta(seconds=1)
    listing = member.get("/silences/").content.decode()
    assert "shop maintenance &lt;tonight&gt;" in listing and 'data-testid="silences-current"' in listing
    assert "Namespace equals &#x27;shop&#x27;" in listing

    assert member.post(f"/silences/{silence.pk}/expire/").status_code == 302
    with in_schema(org):
        assert Silence.objects.get().expired_early_at is not None
    listing = member.get("/silences/").content.decode()
    assert 'data-testid="silences-expired"' in listing and "expired early" in listing
    assert "Nothing is silenced" in listing


def test_silence_create_with_an_end_time_and_a_bad_regex(org, admin, in_schema):
    data = {
        "comment": "x",
        "match_mode": "all",
        "starts_at": "2030-01-01T10:00",
        "duration": "end",
        "ends_at": "2030-01-01T12:30",
        "row_id": ["s1"],
        "field": ["pod"],
        "key": [""],
        "operator": ["regex"],
        "value": ["(("],
    }
    bad = admin.post("/silences/new/", data)
    assert bad.status_code == 400
    assert _row_error(bad.content.decode(), "s1") == "Invalid regular expression: missing ): (("
    admin.post("/silences/new/", {**data, "value": ["^api-"]})
    with in_schema(org):
        silence = Silence.objects.get()
        assert silence.starts_at.isoformat() == "2030-01-01T10:00:00+00:00"
        assert silence.ends_at.isoformat() == "2030-01-01T12:30:00+00:00"
    assert "upcoming" in admin.get("/silences/").content.decode()


def test_silence_create_needs_a_comment_and_a_condition(org, admin, in_schema):
    data = {
        "comment": "",
        "match_mode": "all",
        "duration": "1h",
        "row_id": [],
        "field": [],
        "key": [],
        "operator": [],
        "value": [],
    }
    assert admin.post("/silences/new/", data).status_code == 400
    response = admin.post("/silences/new/", {**data, "comment": "why"})
    assert response.status_code == 400 and "at least one condition" in response.content.decode()
    with in_schema(org):
        assert Silence.objects.count() == 0


def test_silence_form_prefilled_from_a_signal(org, admin, signals, in_schema):
    with in_schema(org):
        signal = Signal.objects.get(pod="web-1")
    assert (
        f"/silences/new/?signal={signal.pk}" in admin.get(f"/rules/test/?signal={signal.pk}").content.decode()
    )

    body = admin.get(f"/silences/new/?signal={signal.pk}").content.decode()

    assert body.count('data-testid="condition-row"') == 2
    assert 'value="CPUThrottlingHigh"' in body and 'value="shop"' in body
    assert admin.get("/silences/new/?signal=999999").status_code == 404


def test_silence_list_empty_state(admin):
    body = admin.get("/silences/").content.decode()
    assert "Nothing is silenced" in body and "No expired silences yet" in body


# --- permissions ------------------------------------------------------------------------------


@pytest.fixture
def targets(org, make_rule, in_schema):
    rule = make_rule(org, "protected", [{"field": "namespace", "operator": "exists"}])
    with in_schema(org):
        silence = silence_create(
            conditions=[{"field": "namespace", "operator": "equals", "value": "x"}],
            match_mode="all",
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1),
            author="a@alpha.test",
            comment="protected",
        )
    return {"rule": rule.pk, "silence": silence.pk}


RULE_EDIT_ENDPOINTS = [
    "/rules/new/",
    "/rules/{rule}/edit/",
    "/rules/{rule}/toggle/",
    "/rules/{rule}/move/",
    "/rules/{rule}/duplicate/",
    "/rules/{rule}/delete/",
    "/rules/{rule}/preview/",  # htmx partial
    "/rules/preview/",  # htmx partial
    "/rules/condition-row/",  # htmx partial
    "/rules/default-action/",
    "/rules/import/",
]
SILENCE_EDIT_ENDPOINTS = [
    "/silences/new/",
    "/silences/condition-row/",  # htmx partial
    "/silences/{silence}/expire/",
]
DENIED = [
    *[(role, path) for role in ("viewer", "member") for path in RULE_EDIT_ENDPOINTS],
    *[("viewer", path) for path in SILENCE_EDIT_ENDPOINTS],
]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("role", "path"), DENIED)
def test_rule_edit_endpoints_refuse_roles_below_their_capability(
    org, client_for, make_member, targets, in_schema, role, path, method
):
    client = client_for(make_member(org, role), org)
    data = {**_rule_post(), "direction": "up", "enabled": "0", "action": "suppress", "text": "rules: []"}

    response = getattr(client, method)(path.format(**targets), data, HTTP_HX_REQUEST="true")

    assert response.status_code == 403 and b"your role does not allow" in response.content
    with in_schema(org):
        assert list(Rule.objects.values_list("name", "enabled")) == [("protected", True)]
        assert Silence.objects.get().expired_early_at is None
        assert RuleSettings.objects.get().default_action == "record"


def test_rule_pages_read_only_for_viewers(org, client_for, make_member, targets):
    viewer = client_for(make_member(org, "viewer"), org)
    for path in ("/rules/", "/rules/test/", "/rules/history/", "/rules/export/", "/silences/"):
        assert viewer.get(path).status_code == 200, path
    body = viewer.get("/rules/").content.decode()
    assert "protected" in body
    for control in (
        "/rules/new/",
        "/toggle/",
        "/move/",
        "/duplicate/",
        "/delete/",
        "/edit/",
        "/rules/import/",
        "/rules/default-action/",
    ):
        assert control not in body, control
    assert "/silences/new/" not in viewer.get("/silences/").content.decode()
    assert "/expire/" not in viewer.get("/silences/").content.decode()


def test_rule_views_all_declare_a_capability():
    from alerts.urls import urlpatterns

    views = [p.callback for p in urlpatterns if p.callback.__module__ == "alerts.rule_views"]
    assert len(views) == 19
    assert all(getattr(view, "required_capability", None) for view in views)


# --- isolation --------------------------------------------------------------------------------


def test_other_organization_sees_none_of_the_rules_silences_or_history(
    org, other_org, client_for, targets, signals, in_schema
):
    beta = client_for(other_org.owner, other_org)
    with in_schema(org):
        signal_pk = Signal.objects.first().pk

    assert "protected" not in beta.get("/rules/").content.decode()
    assert "protected" not in beta.get("/rules/history/").content.decode()
    assert "protected" not in beta.get("/silences/").content.decode()
    assert "protected" not in beta.get("/rules/export/").content.decode()
    assert "KubePodCrashLooping" not in beta.get("/rules/test/").content.decode()
    for path in ("/rules/{rule}/edit/", "/rules/{rule}/delete/"):
        assert beta.get(path.format(**targets)).status_code == 404
    for path in (
        "/rules/{rule}/toggle/",
        "/rules/{rule}/move/",
        "/rules/{rule}/duplicate/",
        "/rules/{rule}/preview/",
        "/silences/{silence}/expire/",
    ):
        assert beta.post(path.format(**targets), {"direction": "up"}).status_code == 404
    assert beta.get(f"/rules/test/?signal={signal_pk}").status_code == 404
    with in_schema(org):
        assert Rule.objects.get().enabled and Silence.objects.get().expired_early_at is None
