"""The agent gateway refuses hostile JSON bodies with a 400, never a RecursionError or a 500."""

from __future__ import annotations

import json

import pytest

from agent.protocol import PROTOCOL_VERSION

pytestmark = pytest.mark.django_db

DEEP = 5000


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("path", ["/agent/v1/hello", "/agent/v1/heartbeat", "/agent/v1/results"])
def test_gateway_deeply_nested_body_400(org, make_cluster, agent_client, path):
    _cluster, token = make_cluster(org)
    body = f'{{"protocol": {PROTOCOL_VERSION}, "results": [], "stats": {_nested(DEEP)}}}'
    response = agent_client(org, token).post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nesting is deeper than" in response.json()["error"]


def test_gateway_deeply_nested_inside_one_result_400(org, make_cluster, agent_client):
    _cluster, token = make_cluster(org)
    result = f'{{"command_id": "c-1", "ok": true, "data": {_nested(DEEP)}}}'
    body = f'{{"protocol": {PROTOCOL_VERSION}, "results": [{result}]}}'
    response = agent_client(org, token).post("/agent/v1/results", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nesting is deeper than" in response.json()["error"]


def test_gateway_ordinary_nesting_still_accepted(org, make_cluster, agent_client):
    # A Kubernetes object is a few dozen levels deep at most; the guard must not refuse it.
    _cluster, token = make_cluster(org)
    body = {"protocol": PROTOCOL_VERSION, "stats": json.loads(_nested(40))}
    response = agent_client(org, token).post(
        "/agent/v1/heartbeat", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
