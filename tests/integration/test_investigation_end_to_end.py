"""Acceptance for the engine, end to end: a webhook alert matching an `investigate` rule becomes a
completed investigation through a real worker, the real agent process and the cluster simulator,
visible to its organization only."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from django_tenants.utils import schema_context

from agent.simulator import start_simulator

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT.parent / "shared" / "scenarios" / "examples" / "oomkilled-low-memory-limit"
if not SCENARIO.is_dir():  # CI lays shared/ beside the clone; fall back to our own copy of the format
    SCENARIO = ROOT / "agent" / "simulator" / "scenarios" / "oomkilled-thumbnailer-concurrency-raised"


@pytest.fixture
def connected_cluster(committed, live_server_url):
    """A cluster in alpha whose real agent process reads the simulator and polls the live portal."""
    from clusters.models import Cluster
    from clusters.services import cluster_create

    alpha = committed["alpha"]
    with schema_context(alpha.schema):
        made = cluster_create(name="e2e-cluster", created_by="e2e")
    simulator = start_simulator(str(SCENARIO))
    port = live_server_url.rsplit(":", 1)[1]
    env = dict(
        os.environ,
        OPSWORKER_PORTAL_URL=live_server_url,
        OPSWORKER_PORTAL_HOST=f"{alpha.domain}:{port}",
        OPSWORKER_CLUSTER_TOKEN=made.token,
        OPSWORKER_KUBE_API_URL=simulator.url,
        OPSWORKER_LOG_LEVEL="DEBUG",  # every log call of the agent runs in the suite
        OPSWORKER_POLL_WAIT_SECONDS="5",
        OPSWORKER_HEARTBEAT_SECONDS="5",
    )
    # A file, not a pipe: nobody reads a pipe while the test runs, and a full one blocks the agent.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in the finally below
    agent = subprocess.Popen(
        [sys.executable, "-m", "agent"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with schema_context(alpha.schema):
                if Cluster.objects.get(pk=made.cluster.pk).is_connected:
                    break
            time.sleep(0.2)
        else:
            log.seek(0)
            raise AssertionError("agent never connected:\n" + log.read()[-4000:])
        yield made.cluster
    finally:
        agent.terminate()
        agent.wait(timeout=15)
        log.close()
        simulator.stop()
        with schema_context(alpha.schema):
            Cluster.objects.filter(pk=made.cluster.pk).delete()


def test_webhook_alert_becomes_completed_investigation_through_worker_and_agent(
    committed, live_server_url, connected_cluster, run_worker, clean_queues
):
    from alerts.models import Integration, RawPayload, Rule, RuleChange, Signal
    from alerts.services.integrations import integration_create
    from alerts.services.rules import rule_create
    from investigations.models import Investigation, InvestigationStep

    alpha, beta = committed["alpha"], committed["beta"]
    with schema_context(alpha.schema):
        hook = integration_create(name="e2e prometheus", source="alertmanager")
        rule_create(
            data={
                "name": "investigate search",
                "action": "investigate",
                "target_cluster": connected_cluster.name,
                "conditions": [{"field": "namespace", "operator": "exists"}],
            },
            author="e2e@alpha.test",
        )
    try:
        # given an alert posted to alpha's webhook over real HTTP
        response = httpx.post(
            f"{live_server_url}/hooks/alertmanager/{hook.token}/",
            content=(SCENARIO / "alert.json").read_bytes(),
            headers={"Host": alpha.domain, "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        investigation_ids = response.json()["investigations"]
        assert investigation_ids, "the rule should have started an investigation"
        # when a real worker runs the investigations queue
        worker = run_worker(queues=("investigations",))
        assert worker.returncode == 0, worker.stderr[-3000:]
        # then the investigation completed through the agent with the right root cause
        with schema_context(alpha.schema):
            investigation = Investigation.objects.get(pk=investigation_ids[0])
            assert investigation.status == "completed", (investigation.failure_reason, worker.stderr[-2000:])
            assert investigation.root_cause_category == "oom-killed"
            cause = investigation.result["root_cause"]
            assert cause["resource"]["kind"] == "Deployment"
            assert "OOMKilled" in cause["explanation"]
            stages = list(
                InvestigationStep.objects.filter(investigation=investigation).values_list("stage", "status")
            )
            assert stages == [(s, "ok") for s in ("extract", "topology", "collect", "analyze", "recommend")]
            topology = InvestigationStep.objects.get(investigation=investigation, stage="topology")
            assert any("list Pod" in asked for r in topology.detail["rounds"] for asked in r["asked"])
        # and the other organization sees none of it
        with schema_context(beta.schema):
            assert Investigation.objects.count() == 0
    finally:
        with schema_context(alpha.schema):
            Investigation.objects.all().delete()
            Signal.objects.all().delete()
            RawPayload.objects.all().delete()
            Integration.objects.filter(pk=hook.integration.pk).delete()
            RuleChange.objects.all().delete()
            Rule.objects.all().delete()
