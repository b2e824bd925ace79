"""Silences through the API: list, create and expire, as the silence pages allow."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Silence
from tenants.roles import Role

pytestmark = pytest.mark.django_db

CONDITIONS = [{"field": "namespace", "operator": "equals", "value": "batch"}]


def _body(**fields):
    ends = (timezone.now() + timedelta(hours=2)).isoformat()
    return {"conditions": CONDITIONS, "ends_at": ends, "comment": "batch maintenance", **fields}


def _post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def role_api(org, make_member, make_token, bearer):
    def make(role, scope="write"):
        return bearer(org, make_token(org, make_member(org, role), scope=scope))

    return make


def test_silence_member_creates_lists_and_expires(org, role_api, in_schema):
    client = role_api(Role.MEMBER)
    created = _post(client, "/api/v1/silences/", _body())
    assert created.status_code == 201, created.content
    silence = created.json()
    assert silence["active"] is True
    assert silence["conditions"] == CONDITIONS
    assert silence["author"].startswith("member")
    listed = client.get("/api/v1/silences/?active=true").json()
    assert [row["id"] for row in listed["results"]] == [silence["id"]]
    expired = _post(client, f"/api/v1/silences/{silence['id']}/expire/")
    assert expired.status_code == 200, expired.content
    assert expired.json()["active"] is False and expired.json()["expired_early_at"]
    assert client.get("/api/v1/silences/?active=true").json()["count"] == 0
    with in_schema(org):
        assert Silence.objects.get(pk=silence["id"]).expired_early_at is not None


def test_silence_viewer_reads_but_cannot_create_or_expire(org, role_api, in_schema):
    with in_schema(org):
        silence = Silence.objects.create(
            conditions=CONDITIONS, ends_at=timezone.now() + timedelta(hours=1), author="a@x", comment="c"
        )
    viewer = role_api(Role.VIEWER)
    assert viewer.get(f"/api/v1/silences/{silence.pk}/").json()["active"] is True
    response = _post(viewer, "/api/v1/silences/", _body())
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert _post(viewer, f"/api/v1/silences/{silence.pk}/expire/").status_code == 403


def test_silence_read_token_cannot_create(org, make_token, bearer):
    response = _post(bearer(org, make_token(org, scope="read")), "/api/v1/silences/", _body())
    assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"comment": "  "}, "say why"),
        ({"conditions": []}, "at least one condition"),
        ({"conditions": [{"field": "colour", "operator": "equals", "value": "x"}]}, "unknown field"),
    ],
)
def test_silence_service_refusals_are_400_with_its_message(owner_api, fields, needle):
    response = _post(owner_api, "/api/v1/silences/", _body(**fields))
    assert response.status_code == 400, response.content
    assert needle in response.json()["error"]["message"]


def test_silence_ending_before_it_starts_is_400(owner_api):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = _post(owner_api, "/api/v1/silences/", _body(ends_at=past))
    assert response.status_code == 400
    assert "end after it starts" in response.json()["error"]["message"]


def test_silence_missing_ends_at_names_the_field(owner_api):
    body = _body()
    del body["ends_at"]
    response = _post(owner_api, "/api/v1/silences/", body)
    assert response.status_code == 400
    assert "ends_at" in response.json()["error"]["details"]["fields"]


def test_silence_other_organization_sees_nothing(org, other_org, owner_api, make_token, bearer):
    silence = _post(owner_api, "/api/v1/silences/", _body()).json()
    beta = bearer(other_org, make_token(other_org, scope="write"))
    assert beta.get("/api/v1/silences/").json()["count"] == 0
    assert beta.get(f"/api/v1/silences/{silence['id']}/").status_code == 404
    assert _post(beta, f"/api/v1/silences/{silence['id']}/expire/").status_code == 404
    assert owner_api.get(f"/api/v1/silences/{silence['id']}/").json()["active"] is True
