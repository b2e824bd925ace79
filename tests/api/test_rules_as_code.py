"""Rules as YAML (export, all-or-nothing import) and the default action, through the API."""

from __future__ import annotations

import json

import pytest
import yaml

from alerts.models import Rule
from alerts.rules.loader import rule_settings
from tenants.roles import Role

pytestmark = pytest.mark.django_db

FILE = """
version: 1
default_action: investigate
rules:
  - name: Investigate payments
    action: investigate
    conditions:
      - {field: namespace, operator: equals, value: payments}
  - name: Record batch
    action: record
    conditions:
      - {field: namespace, operator: equals, value: batch}
"""


def _send(client, method, path, body):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def role_api(org, make_member, make_token, bearer):
    def make(role, scope="write"):
        return bearer(org, make_token(org, make_member(org, role), scope=scope))

    return make


def test_rules_export_is_the_pages_yaml(org, owner_api, make_rule):
    make_rule(org, name="Investigate payments")
    response = owner_api.get("/api/v1/rules/export/")
    assert response.status_code == 200
    document = yaml.safe_load(response.json()["yaml"])
    assert document["version"] == 1
    assert [rule["name"] for rule in document["rules"]] == ["Investigate payments"]
    assert document["default_action"] == "record"


def test_rules_import_replaces_every_rule_and_the_default_action(org, owner_api, make_rule, in_schema):
    make_rule(org, name="Old rule")
    response = _send(owner_api, "post", "/api/v1/rules/import/", {"yaml": FILE})
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "removed": 1}
    with in_schema(org):
        assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == [
            "Investigate payments",
            "Record batch",
        ]
        assert rule_settings().default_action == "investigate"
    exported = yaml.safe_load(owner_api.get("/api/v1/rules/export/").json()["yaml"])
    assert [rule["name"] for rule in exported["rules"]] == ["Investigate payments", "Record batch"]


def test_rules_import_with_problems_changes_nothing_and_lists_each(org, owner_api, make_rule, in_schema):
    make_rule(org, name="Kept")
    broken = FILE.replace("operator: equals, value: payments", "operator: resembles, value: payments")
    broken = broken.replace("action: record", "action: explode")
    response = _send(owner_api, "post", "/api/v1/rules/import/", {"yaml": broken})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert len(error["details"]["errors"]) == 2, error
    assert any("rule 1" in problem for problem in error["details"]["errors"])
    assert any("rule 2" in problem for problem in error["details"]["errors"])
    with in_schema(org):
        assert list(Rule.objects.values_list("name", flat=True)) == ["Kept"]
        assert rule_settings().default_action == "record"


def test_rules_import_of_garbage_is_400(owner_api):
    response = _send(owner_api, "post", "/api/v1/rules/import/", {"yaml": "rules: [unclosed"})
    assert response.status_code == 400
    assert "not valid YAML" in response.json()["error"]["message"]


def test_rules_import_and_default_action_need_configure(org, role_api):
    for role in (Role.MEMBER, Role.VIEWER):
        client = role_api(role)
        assert client.get("/api/v1/rules/export/").status_code == 200
        assert client.get("/api/v1/rules/default-action/").status_code == 200
        assert _send(client, "post", "/api/v1/rules/import/", {"yaml": FILE}).status_code == 403
        body = {"default_action": "investigate"}
        assert _send(client, "put", "/api/v1/rules/default-action/", body).status_code == 403
    read_only = role_api(Role.ADMIN, scope="read")
    response = _send(read_only, "post", "/api/v1/rules/import/", {"yaml": FILE})
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_default_action_get_and_set(org, role_api, in_schema):
    admin = role_api(Role.ADMIN)
    assert admin.get("/api/v1/rules/default-action/").json() == {"default_action": "record"}
    response = _send(admin, "put", "/api/v1/rules/default-action/", {"default_action": "investigate"})
    assert response.status_code == 200, response.content
    assert response.json() == {"default_action": "investigate"}
    with in_schema(org):
        assert rule_settings().default_action == "investigate"


def test_default_action_refuses_unknown_actions(owner_api):
    response = _send(owner_api, "put", "/api/v1/rules/default-action/", {"default_action": "panic"})
    assert response.status_code == 400
    assert "default_action" in response.json()["error"]["details"]["fields"]


def test_rules_as_code_other_organization_sees_nothing(org, other_org, owner_api, make_token, bearer):
    _send(owner_api, "post", "/api/v1/rules/import/", {"yaml": FILE})
    beta = bearer(other_org, make_token(other_org, scope="write"))
    assert yaml.safe_load(beta.get("/api/v1/rules/export/").json()["yaml"])["rules"] == []
    assert beta.get("/api/v1/rules/default-action/").json() == {"default_action": "record"}
    _send(beta, "put", "/api/v1/rules/default-action/", {"default_action": "suppress"})
    assert owner_api.get("/api/v1/rules/default-action/").json() == {"default_action": "investigate"}
