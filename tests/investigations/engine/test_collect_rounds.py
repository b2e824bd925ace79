"""The collector's later rounds, through the agent's own executor against the cluster simulator: the
namespaces the logs point at, the cluster DNS when lookups fail, add-ons that are not installed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.allowlist import Limits
from agent.executor import Executor
from agent.simulator import start_simulator
from investigations.engine.collect import Answer, Ask
from investigations.engine.evidence import parse_time
from investigations.engine.offline import alert_fields
from investigations.engine.pipeline import Pipeline
from tests.agent.agent_fixtures import api_client_for
from tests.investigations.engine.harness import PROJECT_SCENARIOS, copy_scenario, edit_cluster, find

NODELOCAL = PROJECT_SCENARIOS / "crashloop-ledger-api-nodelocaldns-corefile-forward-without-upstream"
INGRESS = PROJECT_SCENARIOS / "checkout-5xx-payments-ingress-networkpolicy-namespace-label"


def _reader(executor: Executor, asked: list[Ask]):
    def read(asks: list[Ask]) -> list[Answer]:
        answers = []
        for index, ask in enumerate(asks):
            asked.append(ask)
            raw = {
                "id": f"c-{len(asked)}-{index}",
                "op": ask.op,
                "kind": ask.kind,
                "namespace": ask.namespace,
                "name": ask.name,
                "params": dict(ask.params),
                "deadline": (datetime.now(UTC) + timedelta(seconds=30)).isoformat(),
            }
            result = executor.execute(raw)
            error = f"{result.error.code}: {result.error.message}" if result.error else ""
            answers.append(Answer(ask, result.ok, result.data, error, result.truncated, result.redactions))
        return answers

    return read


def _investigate(folder: Path) -> tuple[Pipeline, Any, list[Ask]]:
    alert = json.loads((folder / "alert.json").read_text())
    cluster = json.loads((folder / "cluster.json").read_text())
    asked: list[Ask] = []
    with start_simulator(folder) as sim:
        executor = Executor(api_client_for(sim.url), Limits(), request_timeout=10)
        pipeline = Pipeline(
            _reader(executor, asked), alert_fields(alert), now=parse_time(cluster["x-capture"]["capturedAt"])
        )
        outcome = pipeline.run()
    assert outcome.failure == "", outcome.failure
    return pipeline, outcome, asked


@pytest.fixture(scope="module")
def nodelocal() -> Iterator[tuple[Pipeline, Any, list[Ask]]]:
    yield _investigate(NODELOCAL)


def test_collect_failed_lookups_read_the_cluster_dns_and_its_pods_logs(nodelocal):
    pipeline, outcome, asked = nodelocal
    rounds = [r.name for r in pipeline.collector.reports]
    assert rounds[-2:] == ["cluster DNS", "cluster DNS logs"]
    dns_logs = {a.name for a in asked if a.op == "logs" and a.namespace == "kube-system"}
    assert {"nodelocaldns-7k2qp", "coredns-7c8f9b6d54-4hrtq"} <= dns_logs  # every pod serving port 53
    assert outcome.result["root_cause"]["resource"] == {
        "kind": "ConfigMap",
        "namespace": "kube-system",
        "name": "nodelocaldns",
    }
    collect = next(s for s in outcome.steps if s.stage == "collect")
    assert "cluster DNS" in collect.summary and [r["name"] for r in collect.detail["rounds"]] == rounds[-2:]


def test_collect_absent_add_ons_are_not_installed_rather_than_unavailable(nodelocal):
    pipeline, _outcome, _asked = nodelocal
    first = pipeline.collector.reports[0]
    assert {"Certificate", "ClusterPolicy", "ClusterIssuer"} <= set(first.not_installed)
    assert not [g for g in first.gaps if "Certificate" in g or "Policy" in g]


def test_collect_reads_a_namespace_only_the_logs_name(tmp_path):
    """The client's settings no longer name the payments namespace; its log lines still do."""
    folder = copy_scenario(INGRESS, tmp_path)

    def no_setting(data):
        for name in ("checkout-api",):
            deployment = find(data, "Deployment", name)
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                container["env"] = [e for e in container["env"] if e["name"] != "PAYMENTS_URL"]
        for obj in data["items"]:
            if obj["kind"] in ("Pod", "ReplicaSet") and obj["metadata"]["name"].startswith("checkout-api"):
                spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
                for container in spec["containers"]:
                    container["env"] = [e for e in container.get("env", []) if e["name"] != "PAYMENTS_URL"]

    edit_cluster(folder, no_setting)
    pipeline, outcome, _asked = _investigate(folder)
    rounds = [r.name for r in pipeline.collector.reports]
    assert rounds.index("namespace payments") > rounds.index("logs")  # read after the logs named it
    assert outcome.result["root_cause"]["resource"]["name"] == "payments-api-ingress"
