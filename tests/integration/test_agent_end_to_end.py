"""The real agent (`python -m agent`) against the real portal (uvicorn) and the cluster simulator.

The agent reaches the organization's host `alpha.localhost:PORT`. glibc does not resolve
`*.localhost` here (browsers and systemd-resolved do), so the agent process gets a two-line
resolver shim mapping `*.localhost` to 127.0.0.1; the Host header stays `alpha.localhost`, which
is what selects the organization. Everything else is the agent as shipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.simulator import start_simulator

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIO = ROOT / "agent" / "simulator" / "scenarios" / "crashloop-configmap-wrong-db-host"
CRASHING_POD = "inventory-api-pbr8tqvq6j-t7596"
HEALTHY_POD = "inventory-api-pkhjh6f26-p4vg5"

AGENT_BOOT = """
import runpy, socket
_real = socket.getaddrinfo
def _resolve(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith('.localhost'):
        host = '127.0.0.1'
    return _real(host, *args, **kwargs)
socket.getaddrinfo = _resolve
runpy.run_module('agent', run_name='__main__', alter_sys=True)
"""


@pytest.fixture
def alpha_cluster(committed):
    """A committed cluster in alpha's schema: (org fixture, cluster, token); removed afterwards."""
    from django_tenants.utils import schema_context

    from clusters.services import cluster_create

    alpha = committed["alpha"]
    with schema_context(alpha.schema):
        made = cluster_create(name="e2e-cluster", created_by="test@example.com")
    yield alpha, made.cluster, made.token
    with schema_context(alpha.schema):
        made.cluster.delete()


@pytest.fixture
def simulator():
    sim = start_simulator(str(SCENARIO))
    yield sim
    sim.stop()


@pytest.fixture
def start_agent(tmp_path):
    processes = []

    def start(portal_url: str, token: str, kube_url: str, **extra: str) -> subprocess.Popen:
        port = portal_url.rsplit(":", 1)[1]
        env = dict(
            os.environ,
            OPSWORKER_PORTAL_URL=f"http://alpha.localhost:{port}",
            OPSWORKER_ALLOW_INSECURE_PORTAL="1",
            OPSWORKER_CLUSTER_TOKEN=token,
            OPSWORKER_KUBE_API_URL=kube_url,
            OPSWORKER_LOG_LEVEL="DEBUG",  # every log call of the agent runs in the suite
            OPSWORKER_POLL_WAIT_SECONDS="5",
            **extra,
        )
        log = open(tmp_path / f"agent-{len(processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-c", AGENT_BOOT], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        log.close()
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _agent_log(tmp_path) -> str:
    return "\n".join(p.read_text() for p in sorted(tmp_path.glob("agent-*.log")))


def _wait_connected(schema: str, cluster, agent, tmp_path, timeout: float = 30) -> None:
    from django_tenants.utils import schema_context

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with schema_context(schema):
            cluster.refresh_from_db()
        if cluster.is_connected:
            return
        if agent.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"agent never connected (exit {agent.poll()}):\n{_agent_log(tmp_path)}")


def test_agent_end_to_end_reads_through_client_api(
    committed, alpha_cluster, restartable_portal, simulator, start_agent, tmp_path
):
    from django_tenants.utils import schema_context

    from clusters.gateway.client import CommandRefused, CommandSpec, ObjectNotFound, run_commands
    from clusters.models import AgentCommand, CommandState

    org, cluster, token = alpha_cluster
    assert cluster.status == "pending"
    agent = start_agent(restartable_portal.url, token, simulator.url)
    _wait_connected(org.schema, cluster, agent, tmp_path)
    assert cluster.agent_version and cluster.kubernetes_version.startswith("v1.30")

    specs = [
        CommandSpec("get", "Pod", "inventory", CRASHING_POD),
        CommandSpec("logs", "Pod", "inventory", HEALTHY_POD, {"container": "api", "tail_lines": 50}),
        CommandSpec("logs", "Pod", "inventory", CRASHING_POD, {"container": "api", "previous": True}),
        CommandSpec("events", "Pod", "inventory", CRASHING_POD),
        CommandSpec(
            "list", "Pod", "inventory", None, {"label_selector": "app.kubernetes.io/name=inventory-api"}
        ),
        CommandSpec("get", "Secret", "inventory", "db-credentials"),
        CommandSpec("get", "Pod", "inventory", "no-such-pod"),
    ]
    with schema_context(org.schema):
        pod, logs, previous, events, listed, secret, missing = run_commands(cluster, specs, wait_seconds=30)

    assert pod.ok, pod
    assert pod.data["kind"] == "Pod" and pod.data["metadata"]["name"] == CRASHING_POD
    assert logs.ok and "GET /v1/items" in logs.data
    assert len(logs.data.splitlines()) <= 50
    # The crashed instance's log says why it crashed.
    assert previous.ok and "DB_HOST=inventory-db-primary" in previous.data
    assert events.ok
    reasons = {item["reason"] for item in events.data["items"]}
    assert {"BackOff", "Started"} <= reasons
    assert all(item["involvedObject"]["name"] == CRASHING_POD for item in events.data["items"])
    assert listed.ok
    names = sorted(item["metadata"]["name"] for item in listed.data["items"])
    assert names == sorted(
        ["inventory-api-pkhjh6f26-p4vg5", "inventory-api-pkhjh6f26-qsvlk", "inventory-api-pbr8tqvq6j-t7596"]
    )
    # The agent itself refused the Secret (the portal passed it through untouched).
    assert (secret.ok, secret.error_code) == (False, "refused")
    with pytest.raises(CommandRefused):
        secret.unwrap()
    assert missing.error_code == "not_found"
    with pytest.raises(ObjectNotFound):
        missing.unwrap()
    with schema_context(org.schema):
        states = dict(AgentCommand.objects.filter(cluster=cluster).values_list("command_id", "state"))
    assert states[secret.command_id] == CommandState.REFUSED
    assert states[pod.command_id] == CommandState.DONE

    # The other organization sees none of it.
    from clusters.models import Cluster

    with schema_context(committed["beta"].schema):
        assert not Cluster.objects.exists()
        assert not AgentCommand.objects.exists()


def test_agent_end_to_end_through_real_worker(
    alpha_cluster, live_server_url, simulator, start_agent, run_worker, clean_queues, tmp_path
):
    """The engine's path: an RQ job in a real `rqworker` calls the client API."""
    from tenants.jobs import enqueue_in_tenant

    org, cluster, token = alpha_cluster
    agent = start_agent(live_server_url, token, simulator.url)
    _wait_connected(org.schema, cluster, agent, tmp_path)
    specs = [
        {"op": "get", "kind": "Deployment", "namespace": "inventory", "name": "inventory-api"},
        {
            "op": "logs",
            "kind": "Pod",
            "namespace": "inventory",
            "name": CRASHING_POD,
            "params": {"container": "api", "previous": True},
        },
    ]
    job = enqueue_in_tenant(
        "investigations",
        "clusters.gateway.tasks.cluster_run_commands",
        org.schema,
        cluster.pk,
        specs,
        30,
    )
    finished = run_worker(queues=("investigations",))
    assert finished.returncode == 0, finished.stderr[-3000:]
    job.refresh()
    outcome = job.return_value()
    assert outcome["error"] is None, outcome
    deployment, previous = outcome["results"]
    assert deployment["ok"] and deployment["data"]["metadata"]["name"] == "inventory-api"
    assert previous["ok"] and previous["data"].strip()


def test_agent_end_to_end_portal_restart_loses_no_command(
    alpha_cluster, restartable_portal, simulator, start_agent, tmp_path
):
    from django_tenants.utils import schema_context

    from clusters.gateway.client import CommandSpec, run_commands

    org, cluster, token = alpha_cluster
    agent = start_agent(restartable_portal.url, token, simulator.url)
    _wait_connected(org.schema, cluster, agent, tmp_path)
    time.sleep(0.5)  # let the agent settle into a long poll
    # Given the portal dies mid-poll ...
    restartable_portal.kill()
    # ... when the engine queues a command while it is down (the client API needs only the DB) ...
    outcome = {}

    def engine():
        from django.db import connection

        try:
            with schema_context(org.schema):
                outcome["results"] = run_commands(
                    cluster, [CommandSpec("get", "Pod", "inventory", CRASHING_POD)], wait_seconds=45
                )
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=engine)
    thread.start()
    time.sleep(1)
    # ... and the portal comes back on the same port,
    restartable_portal.start()
    thread.join(timeout=60)
    # then the agent reconnects on its own and the command completes.
    assert not thread.is_alive()
    [result] = outcome["results"]
    assert result.ok, (result, _agent_log(tmp_path))
    assert result.data["metadata"]["name"] == CRASHING_POD
    assert "agent.portal.unavailable" in _agent_log(tmp_path)


def test_agent_end_to_end_wrong_token_sees_nothing(
    alpha_cluster, live_server_url, simulator, start_agent, tmp_path
):
    from django_tenants.utils import schema_context

    from clusters.models import AgentCommand

    org, cluster, _token = alpha_cluster
    agent = start_agent(live_server_url, "owc_wrong-token", simulator.url)
    deadline = time.monotonic() + 15
    while "agent.portal.unauthorized" not in _agent_log(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "agent.portal.unauthorized" in _agent_log(tmp_path)
    assert agent.poll() is None  # keeps retrying (slowly), does not crash
    with schema_context(org.schema):
        cluster.refresh_from_db()
        assert cluster.status == "pending"
        assert not AgentCommand.objects.exists()


# --- the same through SQS (moto's server) -----------------------------------------------------


@pytest.fixture
def sqs_queues(monkeypatch, settings):
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    settings.AGENT_SQS_ENDPOINT_URL = endpoint
    client = boto3.client("sqs", region_name="eu-west-1", endpoint_url=endpoint)
    commands = client.create_queue(QueueName="e2e-commands")["QueueUrl"]
    results = client.create_queue(QueueName="e2e-results")["QueueUrl"]
    yield endpoint, commands, results
    server.stop()


def test_agent_end_to_end_over_sqs(committed, sqs_queues, simulator, tmp_path):
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from clusters.gateway.client import CommandRefused, CommandSpec, run_commands
    from clusters.services import cluster_create

    endpoint, command_queue, result_queue = sqs_queues
    alpha = committed["alpha"]
    with schema_context(alpha.schema):
        cluster = cluster_create(
            name="e2e-sqs",
            transport="sqs",
            sqs_command_queue_url=command_queue,
            sqs_result_queue_url=result_queue,
            sqs_region="eu-west-1",
        ).cluster
    env = dict(
        os.environ,
        OPSWORKER_TRANSPORT="sqs",
        OPSWORKER_SQS_COMMAND_QUEUE_URL=command_queue,
        OPSWORKER_SQS_RESULT_QUEUE_URL=result_queue,
        OPSWORKER_SQS_REGION="eu-west-1",
        OPSWORKER_SQS_ENDPOINT_URL=endpoint,
        OPSWORKER_KUBE_API_URL=simulator.url,
        OPSWORKER_LOG_LEVEL="DEBUG",  # every log call of the agent runs in the suite
        OPSWORKER_POLL_WAIT_SECONDS="1",
    )
    log = open(tmp_path / "agent-sqs.log", "w")  # noqa: SIM115
    agent = subprocess.Popen([sys.executable, "-m", "agent"], cwd=ROOT, env=env, stdout=log, stderr=log)
    log.close()
    try:
        # The consumer reads the agent's hello from the result queue: pending -> connected.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            call_command("agent_sqs_results", "--once", stdout=open(os.devnull, "w"))  # noqa: SIM115
            with schema_context(alpha.schema):
                cluster.refresh_from_db()
            if cluster.is_connected:
                break
            time.sleep(0.3)
        assert cluster.is_connected, (tmp_path / "agent-sqs.log").read_text()
        specs = [
            CommandSpec("get", "Pod", "inventory", CRASHING_POD),
            CommandSpec("logs", "Pod", "inventory", CRASHING_POD, {"container": "api", "previous": True}),
            CommandSpec("events", "Pod", "inventory", CRASHING_POD),
            CommandSpec(
                "list", "Pod", "inventory", None, {"label_selector": "app.kubernetes.io/name=inventory-api"}
            ),
            CommandSpec("list", "Secret", "inventory"),
        ]
        with schema_context(alpha.schema):
            pod, previous, events, listed, secrets = run_commands(cluster, specs, wait_seconds=30)
        assert pod.ok and pod.data["metadata"]["name"] == CRASHING_POD
        assert previous.ok and "DB_HOST=inventory-db-primary" in previous.data
        assert events.ok and {"BackOff"} <= {item["reason"] for item in events.data["items"]}
        assert listed.ok and len(listed.data["items"]) == 3
        with pytest.raises(CommandRefused):
            secrets.unwrap()
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        with schema_context(alpha.schema):
            cluster.delete()


def test_agent_poll_refusals_over_http(committed, alpha_cluster, restartable_portal):
    """The long poll's refusals on a real server (both ways of serving it)."""
    import httpx
    from django_tenants.utils import schema_context

    from clusters.services import cluster_create

    alpha, _cluster, alpha_token = alpha_cluster
    beta = committed["beta"]
    with schema_context(beta.schema):
        beta_cluster = cluster_create(name="beta-e2e").cluster
        beta_token = cluster_create(name="beta-e2e-2").token
    try:
        url = f"{restartable_portal.url}/agent/v1/commands"

        def poll(host, token=None, wait="0"):
            headers = {"Host": f"{host}:{restartable_portal.port}"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            return httpx.get(url, params={"wait": wait}, headers=headers, timeout=30)

        assert poll(alpha.domain).status_code == 401
        assert poll(alpha.domain, "owc_made-up").status_code == 404
        assert poll(alpha.domain, beta_token).status_code == 404  # another organization's token
        assert poll("nosuch.localhost", alpha_token).status_code == 404
        assert poll(alpha.domain, alpha_token, wait="soon").status_code == 400
        ok = poll(beta.domain, beta_token, wait="1")
        assert (ok.status_code, ok.json()["commands"]) == (200, [])
    finally:
        with schema_context(beta.schema):
            from clusters.models import Cluster

            Cluster.objects.filter(name__startswith="beta-e2e").delete()
        del beta_cluster


def test_client_timeout_when_agent_silent_and_late_result_dropped(alpha_cluster):
    """A connected agent that never answers: CommandTimeout, and its late answer is dropped."""
    from django_tenants.utils import schema_context

    from agent.protocol import Result
    from clusters.gateway.client import CommandSpec, CommandTimeout, run_commands
    from clusters.models import AgentCommand, CommandState
    from clusters.services import cluster_record_hello, results_record

    org, cluster, _token = alpha_cluster
    with schema_context(org.schema):
        cluster_record_hello(cluster=cluster, body={"agent_version": "0.1.0"}, protocol=1)
        [result] = run_commands(
            cluster, [CommandSpec("get", "Pod", "inventory", CRASHING_POD)], wait_seconds=1
        )
        assert result.error_code == "timeout"
        with pytest.raises(CommandTimeout):
            result.unwrap()
        row = AgentCommand.objects.get(command_id=result.command_id)
        assert row.state == CommandState.EXPIRED
        outcome = results_record(
            cluster=cluster, results=[Result(command_id=row.command_id, ok=True, data={})]
        )
        assert (outcome.stored, outcome.late) == (0, 1)
        row.refresh_from_db()
        assert (row.state, row.result) == (CommandState.EXPIRED, None)
