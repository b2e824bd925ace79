"""The agent gateway (`/agent/v1/...`): auth, versions, delivery, results, status, tenancy."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from agent.protocol import (
    MAX_SUPPORTED,
    MIN_SUPPORTED,
    Result,
    ResultError,
    heartbeat_message,
    hello_message,
    results_message,
    validate_command,
)
from clusters.models import AgentCommand, Cluster, CommandState

pytestmark = pytest.mark.django_db

HELLO = hello_message(
    agent_version="0.1.0",
    kubernetes_version="v1.29.8",
    capabilities={"ops": ["get"], "kinds": ["Pod"], "metrics": True, "limits": {"max_log_lines": 2000}},
)
HEARTBEAT = heartbeat_message(
    agent_version="0.1.1",
    kubernetes_version="v1.29.9",
    stats={"commands_run": 3, "commands_refused": 1, "rss_bytes": 40_000_000, "uptime_seconds": 60},
)
ENDPOINTS = [
    ("post", "/agent/v1/hello"),
    ("post", "/agent/v1/heartbeat"),
    ("get", "/agent/v1/commands?wait=0"),
    ("post", "/agent/v1/results"),
]


def _post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


async def _collect(chunks) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def _poll(client, wait=0):
    response = client.get(f"/agent/v1/commands?wait={wait}")
    content = async_to_sync(_collect)(response.streaming_content) if response.streaming else response.content
    return response.status_code, json.loads(content) if content else None


def _queue(in_schema, org, cluster, *, deadline_in=60, op="get", kind="Pod", name="api-1", params=None):
    with in_schema(org):
        return AgentCommand.objects.create(
            cluster=cluster,
            command_id=f"c-{AgentCommand.objects.count() + 1}-{name}",
            op=op,
            kind=kind,
            namespace="shop",
            name=name,
            params=params or {},
            deadline=timezone.now() + timedelta(seconds=deadline_in),
        )


def _result(command_id, data=None, ok=True, code=None):
    error = ResultError(code, f"{code} message") if code else None
    return Result(command_id=command_id, ok=ok, data=data, error=error, redactions=2, duration_ms=7)


# --- authentication and tenancy ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Bearer \x7fbad"])
def test_gateway_missing_or_garbled_credentials_401(org, agent_client, method, path, header):
    client = agent_client(org, None)
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = getattr(client, method)(path, **extra)
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_gateway_unknown_token_404_sees_nothing(org, make_cluster, agent_client, in_schema, method, path):
    cluster, _token = make_cluster(org)
    _queue(in_schema, org, cluster)
    response = getattr(agent_client(org, "owc_not-a-real-token"), method)(path)
    assert response.status_code == 404
    assert set(response.json()) == {"error", "status"}
    with in_schema(org):
        assert AgentCommand.objects.get().state == CommandState.QUEUED
        assert Cluster.objects.get().last_seen_at is None


def test_gateway_other_org_token_is_404_on_this_host(org, other_org, make_cluster, agent_client, in_schema):
    cluster, _ = make_cluster(org, "alpha-prod")
    _queue(in_schema, org, cluster)
    _beta_cluster, beta_token = make_cluster(other_org, "beta-prod")
    # beta's token works on beta's host ...
    assert _post(agent_client(other_org, beta_token), "/agent/v1/hello", HELLO).status_code == 200
    # ... and is unknown on alpha's: 404, nothing delivered, nothing touched.
    alpha_host = agent_client(org, beta_token)
    assert _post(alpha_host, "/agent/v1/hello", HELLO).status_code == 404
    assert _poll(alpha_host)[0] == 404
    with in_schema(org):
        assert AgentCommand.objects.get().state == CommandState.QUEUED
        assert Cluster.objects.get().last_seen_at is None


def test_gateway_suspended_org_404(org, make_cluster, agent_client):
    _cluster, token = make_cluster(org)
    org.organization.is_active = False
    org.organization.save(update_fields=["is_active"])
    assert _post(agent_client(org, token), "/agent/v1/hello", HELLO).status_code == 404


def test_gateway_public_host_has_no_agent_endpoints(org, make_cluster, agent_client):
    _cluster, token = make_cluster(org)
    response = _post(agent_client(org, token, host="localhost"), "/agent/v1/hello", HELLO)
    assert response.status_code == 404


def test_gateway_rotated_token_stops_working(org, make_cluster, agent_client, in_schema):
    from clusters.services import cluster_rotate_token

    cluster, old = make_cluster(org)
    with in_schema(org):
        new = cluster_rotate_token(cluster=cluster).token
    assert _post(agent_client(org, old), "/agent/v1/hello", HELLO).status_code == 404
    assert _post(agent_client(org, new), "/agent/v1/hello", HELLO).status_code == 200


# --- versions and malformed input -------------------------------------------------------------


def test_gateway_hello_version_mismatch_426(org, make_cluster, agent_client, in_schema):
    _cluster, token = make_cluster(org)
    body = dict(
        HELLO, protocol=MAX_SUPPORTED + 1, min_protocol=MAX_SUPPORTED + 1, max_protocol=MAX_SUPPORTED + 3
    )
    response = _post(agent_client(org, token), "/agent/v1/hello", body)
    assert response.status_code == 426
    assert (response.json()["min_protocol"], response.json()["max_protocol"]) == (
        MIN_SUPPORTED,
        MAX_SUPPORTED,
    )
    with in_schema(org):
        assert Cluster.objects.get().last_seen_at is None  # a refused agent is not "connected"


@pytest.mark.parametrize("path", ["/agent/v1/heartbeat", "/agent/v1/results"])
def test_gateway_message_with_unsupported_protocol_426(org, make_cluster, agent_client, path):
    _cluster, token = make_cluster(org)
    response = _post(agent_client(org, token), path, {"protocol": MAX_SUPPORTED + 1, "results": []})
    assert response.status_code == 426


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"protocol": "1", "results": []}',
        b'{"protocol": 1, "results": {}}',
        b"\xff\xfe",
    ],
)
def test_gateway_malformed_results_400(org, make_cluster, agent_client, body):
    _cluster, token = make_cluster(org)
    response = agent_client(org, token).post("/agent/v1/results", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_gateway_wrong_methods_405(org, make_cluster, agent_client):
    _cluster, token = make_cluster(org)
    client = agent_client(org, token)
    assert client.get("/agent/v1/hello").status_code == 405
    assert client.post("/agent/v1/commands").status_code == 405


def test_gateway_bad_wait_400(org, make_cluster, agent_client):
    _cluster, token = make_cluster(org)
    assert agent_client(org, token).get("/agent/v1/commands?wait=-3").status_code == 400


def test_gateway_oversized_body_413(org, make_cluster, agent_client, settings):
    settings.AGENT_MAX_BODY_BYTES = 1024
    _cluster, token = make_cluster(org)
    body = results_message([_result("c-1", data="x" * 4000)])
    response = _post(agent_client(org, token), "/agent/v1/results", body)
    assert response.status_code == 413


# --- hello, heartbeat, status -----------------------------------------------------------------


def test_gateway_status_pending_connected_disconnected(org, make_cluster, agent_client, in_schema, settings):
    settings.AGENT_HEARTBEAT_SECONDS = 1
    settings.AGENT_MISSED_HEARTBEATS = 1
    cluster, token = make_cluster(org)
    assert cluster.status == "pending"
    response = _post(agent_client(org, token), "/agent/v1/hello", HELLO)
    assert response.status_code == 200
    assert response.json()["cluster"] == {"name": "prod-eu-1"}
    assert response.json()["heartbeat_seconds"] == 1
    with in_schema(org):
        cluster = Cluster.objects.get()
    assert cluster.status == "connected"
    assert (cluster.agent_version, cluster.kubernetes_version, cluster.protocol_version) == (
        "0.1.0",
        "v1.29.8",
        1,
    )
    assert cluster.capabilities["metrics"] is True
    # No word from the agent for longer than heartbeat x missed heartbeats.
    time.sleep(1.2)
    assert cluster.status == "disconnected"
    assert _post(agent_client(org, token), "/agent/v1/heartbeat", HEARTBEAT).status_code == 200
    with in_schema(org):
        cluster = Cluster.objects.get()
    assert cluster.status == "connected"
    assert cluster.agent_version == "0.1.1"
    assert cluster.last_stats["rss_bytes"] == 40_000_000


# --- commands ---------------------------------------------------------------------------------


def test_gateway_poll_delivers_queued_command_once(org, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster, op="logs", params={"tail_lines": 50, "previous": True})
    client = agent_client(org, token)
    status, body = _poll(client)
    assert status == 200
    assert body["protocol"] == 1
    [command] = body["commands"]
    parsed = validate_command(command)  # exactly the protocol's shape
    assert (parsed.id, parsed.op, parsed.kind, parsed.namespace, parsed.name) == (
        row.command_id,
        "logs",
        "Pod",
        "shop",
        "api-1",
    )
    assert parsed.params.present() == {"tail_lines": 50, "previous": True}
    # Delivered: not handed out again while its lease runs.
    assert _poll(client)[1]["commands"] == []
    with in_schema(org):
        row.refresh_from_db()
    assert (row.state, row.deliveries) == (CommandState.DELIVERED, 1)


def test_gateway_unanswered_command_redelivered_after_lease(
    org, make_cluster, agent_client, in_schema, settings
):
    settings.AGENT_COMMAND_LEASE_SECONDS = 0
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster)
    client = agent_client(org, token)
    assert [c["id"] for c in _poll(client)[1]["commands"]] == [row.command_id]
    assert [c["id"] for c in _poll(client)[1]["commands"]] == [row.command_id]  # e.g. agent restarted
    with in_schema(org):
        row.refresh_from_db()
    assert row.deliveries == 2


def test_gateway_expired_command_not_delivered(org, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster, deadline_in=-1)
    assert _poll(agent_client(org, token))[1]["commands"] == []
    with in_schema(org):
        row.refresh_from_db()
    assert row.state == CommandState.EXPIRED


def test_gateway_empty_long_poll_answers_empty_list(org, make_cluster, agent_client):
    _cluster, token = make_cluster(org)
    status, body = _poll(agent_client(org, token), wait=1)
    assert (status, body) == (200, {"protocol": 1, "type": "commands", "commands": []})


def test_gateway_poll_of_other_org_cluster_sees_nothing(
    org, other_org, make_cluster, agent_client, in_schema
):
    cluster, _ = make_cluster(org, "alpha-prod")
    _queue(in_schema, org, cluster)
    _other, beta_token = make_cluster(other_org, "beta-prod")
    assert _poll(agent_client(other_org, beta_token))[1]["commands"] == []
    with in_schema(other_org):
        assert AgentCommand.objects.count() == 0


# --- results ----------------------------------------------------------------------------------


def test_gateway_results_stored_and_idempotent(org, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster)
    client = agent_client(org, token)
    _poll(client)
    body = results_message([_result(row.command_id, data={"kind": "Pod", "metadata": {"name": "api-1"}})])
    first = _post(client, "/agent/v1/results", body)
    assert first.status_code == 200
    assert (first.json()["accepted"], first.json()["stored"], first.json()["duplicate"]) == (1, 1, 0)
    # The agent retries a batch it believes was lost: same answer, nothing changes.
    again = _post(client, "/agent/v1/results", results_message([_result(row.command_id, data={"other": 1})]))
    assert again.status_code == 200
    assert (again.json()["accepted"], again.json()["stored"], again.json()["duplicate"]) == (1, 0, 1)
    with in_schema(org):
        row.refresh_from_db()
    assert row.state == CommandState.DONE
    assert row.result == {"kind": "Pod", "metadata": {"name": "api-1"}}
    assert (row.redactions, row.duration_ms) == (2, 7)


def test_gateway_refused_result_state(org, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster, kind="Secret")
    body = results_message([_result(row.command_id, ok=False, code="refused")])
    assert _post(agent_client(org, token), "/agent/v1/results", body).status_code == 200
    with in_schema(org):
        row.refresh_from_db()
    assert (row.state, row.error_code) == (CommandState.REFUSED, "refused")


def test_gateway_late_result_for_expired_command_dropped(org, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster, deadline_in=-5)
    response = _post(
        agent_client(org, token), "/agent/v1/results", results_message([_result(row.command_id, "x")])
    )
    assert response.status_code == 200
    assert (response.json()["stored"], response.json()["late"]) == (0, 1)
    with in_schema(org):
        row.refresh_from_db()
    assert (row.state, row.result) == (CommandState.EXPIRED, None)


def test_gateway_result_for_other_clusters_command_ignored(org, make_cluster, agent_client, in_schema):
    cluster_a, _token_a = make_cluster(org, "a")
    _cluster_b, token_b = make_cluster(org, "b")
    row = _queue(in_schema, org, cluster_a)
    response = _post(
        agent_client(org, token_b), "/agent/v1/results", results_message([_result(row.command_id, 1)])
    )
    assert (response.status_code, response.json()["unknown"]) == (200, 1)
    with in_schema(org):
        row.refresh_from_db()
    assert row.state == CommandState.QUEUED


def test_gateway_invalid_result_items_counted_not_500(org, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org)
    row = _queue(in_schema, org, cluster)
    items = [
        {"command_id": row.command_id, "ok": True, "data": "log\x00line", "redactions": 0},
        {"ok": True},
        "nope",
        {"command_id": "c-x", "ok": False, "error": "not an object"},
        {"command_id": "c-y", "ok": True, "redactions": "many"},
    ]
    response = _post(agent_client(org, token), "/agent/v1/results", {"protocol": 1, "results": items})
    assert response.status_code == 200
    assert (response.json()["stored"], response.json()["invalid"]) == (1, 4)
    with in_schema(org):
        row.refresh_from_db()
    assert row.result == "log\ufffdline"


# --- client API (what does not need a live agent) ---------------------------------------------


def test_client_pending_cluster_is_offline(org, make_cluster, in_schema):
    from clusters.gateway.client import AgentOffline, CommandSpec, run_commands

    cluster, _ = make_cluster(org)
    with in_schema(org), pytest.raises(AgentOffline):
        run_commands(cluster, [CommandSpec("get", "Pod", "shop", "api")], wait_seconds=1)
    with in_schema(org):
        assert AgentCommand.objects.count() == 0


def test_client_rejects_malformed_spec(org, make_cluster, agent_client, in_schema):
    from clusters.gateway.client import CommandSpec, run_commands

    cluster, token = make_cluster(org)
    _post(agent_client(org, token), "/agent/v1/hello", HELLO)
    with in_schema(org), pytest.raises((ValueError, RuntimeError)):
        run_commands(cluster, [CommandSpec("get", "Pod", "shop", "api", params={"bogus": 1})], wait_seconds=1)
