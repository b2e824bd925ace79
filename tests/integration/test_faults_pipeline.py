"""Fault tests: a test-owned Redis stopped mid-ingest and mid-investigation, and a worker (and its
work horse) SIGKILLed mid-investigation. Every acknowledged alert is stored, no stored alert is
answered 5xx, investigations finish after recovery, and the worker is still alive afterwards.

Processes: a real uvicorn, `rqworker` and `rqcron` under `make run`'s own supervisor, the real
agent and the cluster simulator, all on the private Redis. Bounded waits only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from django_tenants.utils import schema_context

from agent.simulator import start_simulator
from opsworker.devtools.run import Supervisor
from tests.integration.conftest import ROOT, RestartablePortal, _free_port
from tests.integration.faults import (
    FAST_RECOVERY,
    PrivateRedis,
    children_of,
    process_env,
    require_redis_server,
    scheduler_command,
    sigkill,
    wait_for,
    worker_command,
)

pytestmark = [pytest.mark.integration]

SCENARIO = ROOT / "agent" / "simulator" / "scenarios" / "oomkilled-thumbnailer-concurrency-raised"
FINISHED = ("completed", "failed")


@pytest.fixture
def stack(committed, tmp_path):
    """Private Redis, web server, and worker + scheduler under the `make run` supervisor."""
    from django.db import connection

    require_redis_server()
    private = PrivateRedis(tmp_path)
    private.start()
    env = process_env(connection.settings_dict, private.url, **FAST_RECOVERY)
    web = RestartablePortal(_free_port(), env, tmp_path / "web.log")
    web.start()
    lines: list[str] = []
    supervisor = Supervisor(
        [("worker", worker_command(), env), ("scheduler", scheduler_command(), env)],
        write=lines.append,
        backoff_first=0.5,
        backoff_max=2,
    )
    import threading

    runner = threading.Thread(target=supervisor.run, daemon=True)
    runner.start()
    import redis
    from rq import Worker

    # The worker must be up before a fault: starting while Redis is down is the supervisor's case.
    connection = redis.Redis.from_url(private.url)
    wait_for(lambda: Worker.count(connection=connection) >= 1, timeout=60, message="no worker registered")
    stack = type("Stack", (), {})()
    stack.redis, stack.web, stack.supervisor, stack.lines, stack.env = private, web, supervisor, lines, env
    stack.log = lambda: "".join(lines[-80:])
    try:
        yield stack
    finally:
        supervisor.stop()
        runner.join(timeout=30)
        web.stop()
        private.stop()


@pytest.fixture
def alpha_rule(committed):
    """An `investigate` rule in alpha (target cluster given per test); everything cleaned up after."""
    from alerts.models import Integration, RawPayload, Rule, RuleChange, Signal
    from alerts.services.integrations import integration_create
    from alerts.services.rules import rule_create
    from clusters.models import Cluster
    from investigations.models import Investigation

    alpha = committed["alpha"]

    def make(target_cluster: str):
        with schema_context(alpha.schema):
            hook = integration_create(name="fault drill", source="alertmanager")
            rule_create(
                data={
                    "name": "fault drill",
                    "action": "investigate",
                    "target_cluster": target_cluster,
                    "conditions": [{"field": "namespace", "operator": "exists"}],
                },
                author="faults@alpha.test",
            )
        return hook

    yield make
    with schema_context(alpha.schema):
        Investigation.objects.all().delete()
        Signal.objects.all().delete()
        RawPayload.objects.all().delete()
        Integration.objects.all().delete()
        RuleChange.objects.all().delete()
        Rule.objects.all().delete()
        Cluster.objects.all().delete()


@pytest.fixture
def connected_cluster(committed, stack):
    """The real agent for a cluster of alpha, reading the simulator, polling the fault stack's server."""
    from clusters.models import Cluster
    from clusters.services import cluster_create

    alpha = committed["alpha"]
    with schema_context(alpha.schema):
        made = cluster_create(name="fault-cluster", created_by="faults")
    simulator = start_simulator(str(SCENARIO))
    agent = subprocess.Popen(
        [sys.executable, "-m", "agent"],
        cwd=ROOT,
        env=dict(
            os.environ,
            OPSWORKER_PORTAL_URL=stack.web.url,
            OPSWORKER_PORTAL_HOST=f"{alpha.domain}:{stack.web.port}",
            OPSWORKER_CLUSTER_TOKEN=made.token,
            OPSWORKER_KUBE_API_URL=simulator.url,
            OPSWORKER_POLL_WAIT_SECONDS="5",
            OPSWORKER_HEARTBEAT_SECONDS="5",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def connected():
        with schema_context(alpha.schema):
            return Cluster.objects.get(pk=made.cluster.pk).is_connected

    try:
        wait_for(connected, timeout=30, message="the agent never connected")
        yield agent
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGCONT)
            agent.terminate()
            agent.wait(timeout=15)
        simulator.stop()


def _alert(i: int) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "status": "firing",
            "receiver": "opsworker",
            "groupKey": f"fault-{i}",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": f"FaultDrill{i}",
                        "namespace": f"shop-{i}",
                        "pod": f"web-{i}",
                        "severity": "critical",
                    },
                    "annotations": {"summary": f"fault drill alert {i}"},
                    "startsAt": "2025-01-01T00:00:00Z",
                    "fingerprint": f"faultdrill{i:04d}",
                }
            ],
        }
    ).encode()


def _worker(stack):
    return next(c for c in stack.supervisor.children if c.name == "worker")


def _backlog(schema: str, count: int) -> list[int]:
    """`count` queued investigations of a cluster that does not exist (each fails fast)."""
    from investigations.models import Investigation
    from investigations.services import investigation_enqueue

    with schema_context(schema):
        made = Investigation.objects.bulk_create(
            Investigation(cluster="no-such-cluster", namespace="storm") for _ in range(count)
        )
        for investigation in made:
            investigation_enqueue(investigation)
    return [investigation.pk for investigation in made]


def _cancel_backlog(stack, schema: str, ids: list[int]) -> None:
    """Stop the rest of the backlog before teardown deletes rows under a busy worker.

    Pending ones are finished in the database (so neither their queued jobs nor the sweeper run
    them), the queue is emptied, and we wait for the one a worker may be running to end.
    """
    import redis
    from rq import Queue

    from investigations.models import Investigation

    with schema_context(schema):
        Investigation.objects.filter(pk__in=ids, status="pending").update(
            status="failed", failure_reason="fault test: backlog cancelled"
        )
    Queue("investigations", connection=redis.Redis.from_url(stack.redis.url)).empty()
    wait_for(
        lambda: not [i for i in _investigations(schema, ids) if i.status == "running"],
        timeout=60,
        interval=0.2,
        message="a backlog investigation kept running:\n" + stack.log(),
    )


def _investigations(schema: str, ids=None):
    from investigations.models import Investigation

    with schema_context(schema):
        rows = Investigation.objects.all() if ids is None else Investigation.objects.filter(pk__in=ids)
        return list(rows)


def test_faults_redis_stopped_mid_ingest_loses_nothing_and_answers_no_5xx(committed, stack, alpha_rule):
    from alerts.models import RawPayload, Signal

    alpha, beta = committed["alpha"], committed["beta"]
    hook = alpha_rule("no-such-cluster")  # investigations fail fast and clearly: no agent needed
    answers = []
    with httpx.Client(base_url=stack.web.url, headers={"Host": alpha.domain}, timeout=15) as client:

        def post(i: int) -> None:
            response = client.post(
                f"/hooks/alertmanager/{hook.token}/",
                content=_alert(i),
                headers={"Content-Type": "application/json"},
            )
            answers.append((i, response.status_code, response.text[:300]))

        for i in range(10):
            post(i)
        # when Redis goes away in the middle of the stream
        stack.redis.stop()
        for i in range(10, 25):
            post(i)
        time.sleep(4)  # long enough for the worker, its scheduler child and the cron scheduler to notice
        stack.redis.start()  # back, and empty (no persistence): queued work is gone
        for i in range(25, 30):
            post(i)
    # then no request was answered 5xx, and every acknowledged alert is stored
    assert [a for a in answers if a[1] >= 500] == [], stack.log()
    acknowledged = [i for i, status, _ in answers if 200 <= status < 300]
    assert len(acknowledged) == 30, answers
    with schema_context(alpha.schema):
        stored = set(Signal.objects.values_list("alertname", flat=True))
        assert {f"FaultDrill{i}" for i in acknowledged} <= stored
        assert RawPayload.objects.count() == len(acknowledged)
    # and every investigation, including those whose job was lost, is run after recovery
    wait_for(
        lambda: {i.status for i in _investigations(alpha.schema)} <= set(FINISHED),
        timeout=60,
        interval=0.5,
        message="investigations stayed pending after Redis came back:\n" + stack.log(),
    )
    ran = _investigations(alpha.schema)
    assert len(ran) == 30 and all("no cluster named" in i.failure_reason for i in ran)
    # and the worker that lived through the outage is the same process
    assert _worker(stack).restarts == 0 and _worker(stack).process.poll() is None, stack.log()
    # and so is the cron scheduler; nothing died with a traceback, all waited for Redis
    scheduler = next(c for c in stack.supervisor.children if c.name == "scheduler")
    assert scheduler.restarts == 0 and scheduler.process.poll() is None, stack.log()
    output = "".join(stack.lines)
    assert "Traceback" not in output, output[-6000:]
    assert "scheduler.redis_unavailable" in output and "worker.redis_unavailable" in output
    with schema_context(beta.schema):
        assert not Signal.objects.exists() and not _investigations(beta.schema)


def test_faults_redis_stopped_mid_investigation_worker_survives_and_it_completes(
    committed, stack, alpha_rule, connected_cluster
):
    alpha = committed["alpha"]
    hook = alpha_rule("fault-cluster")
    response = httpx.post(
        f"{stack.web.url}/hooks/alertmanager/{hook.token}/",
        content=(SCENARIO / "alert.json").read_bytes(),
        headers={"Host": alpha.domain, "Content-Type": "application/json"},
        timeout=15,
    )
    assert response.status_code == 202, response.text
    investigation_id = response.json()["investigations"][0]
    wait_for(
        lambda: _investigations(alpha.schema, [investigation_id])[0].status != "pending",
        timeout=30,
        interval=0.05,
        message="no worker took the investigation:\n" + stack.log(),
    )
    # when Redis is down while the job runs and ends (its outcome cannot be recorded in Redis)
    stack.redis.stop()
    wait_for(
        lambda: _investigations(alpha.schema, [investigation_id])[0].status in FINISHED,
        timeout=45,
        message="the investigation did not finish with Redis down:\n" + stack.log(),
    )
    time.sleep(2)  # the work horse exits and the worker tries to record the outcome, Redis still down
    stack.redis.start()
    finished = _investigations(alpha.schema, [investigation_id])[0]
    assert finished.status == "completed", finished.failure_reason
    assert finished.root_cause_category == "oom-killed"
    # then the worker is the same process, and it takes new work once Redis is back
    from investigations.models import PipelineCheck

    with schema_context(alpha.schema):
        check = PipelineCheck.objects.create(requested_by="faults@alpha.test")
    import redis
    from rq import Queue

    Queue("default", connection=redis.Redis.from_url(stack.redis.url)).enqueue(
        "investigations.tasks.pipeline_check_report", alpha.schema, check.pk, "default"
    )

    def reported():
        with schema_context(alpha.schema):
            return "default" in PipelineCheck.objects.get(pk=check.pk).results

    try:
        wait_for(reported, timeout=45, message="no job taken after Redis came back:\n" + stack.log())
        assert _worker(stack).restarts == 0 and _worker(stack).process.poll() is None, stack.log()
    finally:
        with schema_context(alpha.schema):
            PipelineCheck.objects.filter(pk=check.pk).delete()


def test_faults_worker_killed_mid_investigation_is_resumed_and_completes(
    committed, stack, alpha_rule, connected_cluster
):
    from investigations.models import InvestigationStep

    alpha = committed["alpha"]
    hook = alpha_rule("fault-cluster")
    response = httpx.post(
        f"{stack.web.url}/hooks/alertmanager/{hook.token}/",
        content=(SCENARIO / "alert.json").read_bytes(),
        headers={"Host": alpha.domain, "Content-Type": "application/json"},
        timeout=15,
    )
    assert response.status_code == 202, response.text
    investigation_id = response.json()["investigations"][0]
    # given the investigation is running, its agent momentarily frozen so it cannot finish yet
    wait_for(
        lambda: _investigations(alpha.schema, [investigation_id])[0].status == "running",
        timeout=30,
        interval=0.02,
        message="no worker took the investigation:\n" + stack.log(),
    )
    connected_cluster.send_signal(signal.SIGSTOP)
    # and a backlog of investigations waits behind it (an alert storm): the sweeper must not
    # queue behind them, or the lost run waits for the whole backlog
    backlog = _backlog(alpha.schema, 300)
    # when the worker and its work horse are SIGKILLed
    worker = _worker(stack).process
    horses = children_of(worker.pid)
    sigkill(worker.pid)
    for pid in horses:
        sigkill(pid)
    connected_cluster.send_signal(signal.SIGCONT)
    # then (the supervisor starts a new worker) the lapsed lease gets it resumed, and it completes
    wait_for(
        lambda: _investigations(alpha.schema, [investigation_id])[0].status in FINISHED,
        timeout=90,
        interval=0.5,
        message="the killed worker's investigation never finished:\n" + stack.log(),
    )
    still_waiting = [i for i in _investigations(alpha.schema, backlog) if i.status not in FINISHED]
    _cancel_backlog(stack, alpha.schema, backlog)
    assert still_waiting, "the lost run was resumed only after the whole backlog had run"
    finished = _investigations(alpha.schema, [investigation_id])[0]
    assert finished.status == "completed", finished.failure_reason
    assert finished.attempts == 2 and finished.root_cause_category == "oom-killed"
    with schema_context(alpha.schema):
        note = InvestigationStep.objects.get(investigation_id=investigation_id, stage="resumed")
    assert note.summary.startswith("Resumed after a lost worker")
    assert _worker(stack).restarts >= 1 and _worker(stack).process.poll() is None
    assert any("worker exited with code" in line for line in stack.lines)
