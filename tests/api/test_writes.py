"""Write endpoints: start and re-run investigations, rules CRUD and reorder; scopes and roles."""

from __future__ import annotations

import json

import pytest

from alerts.models import Rule, RuleChange
from investigations.models import Investigation
from tenants.roles import Role

pytestmark = pytest.mark.django_db


def _post(client, path, body, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def _send(client, method, path, body):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def cluster(org, in_schema):
    from clusters.services import cluster_create

    with in_schema(org):
        return cluster_create(name="prod", created_by="owner@alpha.test").cluster


@pytest.fixture
def role_api(org, make_member, make_token, bearer):
    """role_api(role, scope="write") -> client with a personal token of a new user with that role."""

    def make(role, scope="write"):
        return bearer(org, make_token(org, make_member(org, role), scope=scope))

    return make


# --- investigations ------------------------------------------------------------------------------

START = {"cluster": "prod", "namespace": "shop", "kind": "Deployment", "name": "checkout"}


def test_member_starts_an_investigation(org, cluster, role_api, in_schema):
    response = _post(role_api(Role.MEMBER), "/api/v1/investigations/", START)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert (body["cluster"], body["namespace"], body["kind"], body["name"]) == (
        "prod",
        "shop",
        "Deployment",
        "checkout",
    )
    assert body["trigger"] == "manual"
    assert body["requested_by"].startswith("member")
    with in_schema(org):
        assert Investigation.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**START, "cluster": "nowhere"}, "cluster"),
        ({**START, "kind": "Secret"}, "kind"),
        ({**START, "name": "Not_A_Name"}, "name"),
        ({**START, "namespace": ""}, "__all__"),
        ({k: v for k, v in START.items() if k != "name"}, "name"),
        ({**START, "name": 42}, "name"),
        ({**START, "extra": 1}, "extra"),
    ],
)
def test_start_validation_errors_are_400_naming_the_field(cluster, owner_api, body, field):
    response = _post(owner_api, "/api/v1/investigations/", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]["fields"]


def test_start_a_node_investigation_needs_no_namespace(cluster, owner_api):
    body = {"cluster": "prod", "kind": "Node", "name": "ip-10-0-0-1.eu-west-1.compute.internal"}
    assert _post(owner_api, "/api/v1/investigations/", body).status_code == 201


def test_viewer_and_read_tokens_cannot_start(cluster, role_api, make_token, org, bearer):
    response = _post(role_api(Role.VIEWER), "/api/v1/investigations/", START)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "the viewer role does not allow this",
        "details": {"required": "investigate"},
    }
    read = bearer(org, make_token(org, scope="read"))  # the owner's, but read-only
    response = _post(read, "/api/v1/investigations/", START)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_rerun(org, owner_api, make_investigation, in_schema):
    done = make_investigation(org, status="completed")
    response = _post(owner_api, f"/api/v1/investigations/{done.pk}/rerun/", {})
    assert response.status_code == 201
    assert response.json()["rerun_of"] == done.pk
    assert response.json()["trigger"] == "rerun"
    running = make_investigation(org, status="running")
    response = owner_api.post(f"/api/v1/investigations/{running.pk}/rerun/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert owner_api.post("/api/v1/investigations/424242/rerun/").status_code == 404
    assert owner_api.get(f"/api/v1/investigations/{done.pk}/rerun/").status_code == 405


# --- rules ---------------------------------------------------------------------------------------

RULE = {
    "name": "Payments to investigation",
    "action": "investigate",
    "match_mode": "all",
    "conditions": [
        {"field": "namespace", "operator": "equals", "value": "payments"},
        {"field": "severity", "operator": "severity_at_least", "value": "warning"},
    ],
    "dedup_window_minutes": 15,
    "max_investigations_per_hour": 5,
}


def test_rules_crud(org, role_api, in_schema):
    admin = role_api(Role.ADMIN)
    created = _post(admin, "/api/v1/rules/", RULE)
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["position"] == 1
    assert rule["conditions"] == RULE["conditions"]
    assert rule["created_by"].startswith("admin")
    assert admin.get(f"/api/v1/rules/{rule['id']}/").json() == rule
    assert admin.get("/api/v1/rules/").json()["results"] == [rule]

    patched = _send(admin, "patch", f"/api/v1/rules/{rule['id']}/", {"enabled": False, "action": "record"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["enabled"], patched.json()["action"]) == (False, "record")
    assert patched.json()["conditions"] == RULE["conditions"]  # untouched

    replaced = _send(
        admin, "put", f"/api/v1/rules/{rule['id']}/", {"name": "Only name", "action": "suppress"}
    )
    assert replaced.status_code == 200
    assert replaced.json()["conditions"] == []
    assert replaced.json()["dedup_window_minutes"] == 30  # the default again

    assert admin.delete(f"/api/v1/rules/{rule['id']}/").status_code == 204
    assert admin.get(f"/api/v1/rules/{rule['id']}/").status_code == 404
    with in_schema(org):
        assert list(RuleChange.objects.order_by("at", "pk").values_list("action", flat=True)) == [
            "created",
            "updated",
            "updated",
            "deleted",
        ]


def test_rules_reorder_with_position(org, owner_api, make_rule, in_schema):
    _a, _b, c = (make_rule(org, name=name) for name in ("A", "B", "C"))
    response = _send(owner_api, "patch", f"/api/v1/rules/{c.pk}/", {"position": 1})
    assert response.status_code == 200
    assert response.json()["position"] == 1
    names = [row["name"] for row in owner_api.get("/api/v1/rules/").json()["results"]]
    assert names == ["C", "A", "B"]
    created = _post(owner_api, "/api/v1/rules/", {"name": "D", "action": "record", "position": 2})
    assert created.json()["position"] == 2
    names = [row["name"] for row in owner_api.get("/api/v1/rules/").json()["results"]]
    assert names == ["C", "D", "A", "B"]
    # Beyond the end clamps to the end.
    _send(owner_api, "patch", f"/api/v1/rules/{c.pk}/", {"position": 99})
    assert [row["name"] for row in owner_api.get("/api/v1/rules/").json()["results"]][-1] == "C"
    assert owner_api.get("/api/v1/rules/?enabled=true&action=investigate").json()["count"] == 3


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({**RULE, "conditions": [{"field": "pod", "operator": "regex", "value": "(a)\\1"}]}, "condition 1"),
        ({**RULE, "conditions": [{"field": "colour", "operator": "equals", "value": "x"}]}, "unknown field"),
        (
            {**RULE, "conditions": [{"field": "pod", "operator": "resembles", "value": "x"}]},
            "unknown operator",
        ),
        ({**RULE, "conditions": [{"field": "pod", "operator": "in", "value": []}]}, "list of values"),
    ],
)
def test_rule_validation_from_the_service_is_400_with_its_message(owner_api, body, needle):
    response = _post(owner_api, "/api/v1/rules/", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert needle in error["message"]
    assert error["details"]["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "record"}, "name"),
        ({"name": "x"}, "action"),
        ({"name": "x", "action": "explode"}, "action"),
        ({"name": "x", "action": "record", "enabled": "yes"}, "enabled"),
        ({"name": "x", "action": "record", "conditions": "namespace=x"}, "conditions"),
        ({"name": "x", "action": "record", "conditions": [1, 2]}, "conditions"),
        ({"name": "x", "action": "record", "dedup_window_minutes": -1}, "dedup_window_minutes"),
        ({"name": "x", "action": "record", "dedup_window_minutes": True}, "dedup_window_minutes"),
        ({"name": "x", "action": "record", "position": 0}, "position"),
        ({"name": "x" * 121, "action": "record"}, "name"),
        ({"name": "x", "action": "record", "colour": "red"}, "colour"),
        ({"name": "x", "action": "record", "match_mode": "some"}, "match_mode"),
        ({"name": "x", "action": "record", "notify_channel": None}, "notify_channel"),
        ({"name": "x", "action": "record", "dedup_window_minutes": 1.5}, "dedup_window_minutes"),
    ],
)
def test_rule_type_errors_are_400_naming_the_field(owner_api, body, field):
    response = _post(owner_api, "/api/v1/rules/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]["fields"]


def test_rule_text_with_nul_is_400_not_500(owner_api):
    response = _post(owner_api, "/api/v1/rules/", {"name": "a\u0000b", "action": "record"})
    assert response.status_code == 400
    response = _post(
        owner_api,
        "/api/v1/rules/",
        {
            "name": "x",
            "action": "record",
            "conditions": [{"field": "pod", "operator": "equals", "value": "\u0000"}],
        },
    )
    assert response.status_code == 400
    response = owner_api.post(
        "/api/v1/rules/", b'{"name": "\\ud800", "action": "record"}', content_type="application/json"
    )
    assert response.status_code == 400


def test_members_and_viewers_cannot_change_rules(org, role_api, make_rule):
    rule = make_rule(org)
    for role in (Role.MEMBER, Role.VIEWER):
        client = role_api(role)
        assert client.get(f"/api/v1/rules/{rule.pk}/").status_code == 200
        assert _post(client, "/api/v1/rules/", RULE).status_code == 403
        assert _send(client, "patch", f"/api/v1/rules/{rule.pk}/", {"enabled": False}).status_code == 403
        assert client.delete(f"/api/v1/rules/{rule.pk}/").status_code == 403


def test_read_token_of_an_owner_cannot_write(org, make_rule, make_token, bearer):
    rule = make_rule(org)
    client = bearer(org, make_token(org, scope="read"))
    for method, path in (("post", "/api/v1/rules/"), ("patch", f"/api/v1/rules/{rule.pk}/")):
        response = _send(client, method, path, RULE)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "insufficient_scope"
    assert client.delete(f"/api/v1/rules/{rule.pk}/").status_code == 403
    assert Rule.objects.using("default").model  # the rule is still there:
    assert client.get(f"/api/v1/rules/{rule.pk}/").status_code == 200


def test_organization_token_acts_with_its_fixed_role(org, make_token, bearer, cluster):
    member_token = bearer(org, make_token(org, None, role=Role.MEMBER, scope="write"))
    assert _post(member_token, "/api/v1/investigations/", START).status_code == 201
    assert _post(member_token, "/api/v1/rules/", RULE).status_code == 403
    admin_token = bearer(org, make_token(org, None, role=Role.ADMIN, scope="write"))
    created = _post(admin_token, "/api/v1/rules/", RULE)
    assert created.status_code == 201
    assert created.json()["created_by"] == org.owner.email  # the token's creator answers for it


def test_integral_numbers_written_as_floats_are_integers(owner_api):
    body = {
        "name": "x",
        "action": "record",
        "dedup_window_minutes": 45.0,
        "max_investigations_per_hour": None,
    }
    response = _post(owner_api, "/api/v1/rules/", body)
    assert response.status_code == 201, response.content
    assert response.json()["dedup_window_minutes"] == 45
    assert response.json()["max_investigations_per_hour"] is None


def test_changes_are_audited_when_the_audit_log_exists(org, owner_api, make_investigation):
    audit = pytest.importorskip("tenants.audit")
    _post(owner_api, "/api/v1/rules/", {"name": "Audited", "action": "record"})
    done = make_investigation(org)
    owner_api.post(f"/api/v1/investigations/{done.pk}/rerun/")
    events = audit.AuditEvent.objects.filter(organization=org.organization)
    actions = set(events.values_list("action", flat=True))
    assert {"api_token.used", "rule.created", "investigation.rerun"} <= actions
    created = events.get(action="rule.created")
    assert created.actor_email == org.owner.email
    assert created.details["via"] == "api token"
