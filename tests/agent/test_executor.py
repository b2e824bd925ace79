"""The executor against the cluster simulator, through the real `kubernetes` client."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.allowlist import Limits
from agent.executor import READ_CALLS, READ_PREFIXES, Executor
from agent.executor.calls import KubeFailure
from agent.simulator import start_simulator
from tests.agent.agent_fixtures import (
    OOM_POD,
    OOM_SCENARIO,
    api_client_for,
    cmd,
    leaky_cluster,
    write_scenario,
)

OOM_CLUSTER = json.loads((OOM_SCENARIO / "cluster.json").read_text())


@pytest.fixture(scope="module")
def oom_sim() -> Iterator[Any]:
    with start_simulator(OOM_SCENARIO) as sim:
        yield sim


@pytest.fixture(scope="module")
def leaky_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory = write_scenario(tmp_path_factory.mktemp("leaky") / "leaky", leaky_cluster())
    with start_simulator(directory) as sim:
        yield sim


def executor(sim: Any, **limits: int) -> Executor:
    return Executor(api_client_for(sim.url), Limits(**limits), request_timeout=10)


def test_executor_gets_a_pod_as_kubectl_shows_it(oom_sim: Any) -> None:
    result = executor(oom_sim).execute(cmd("c1", "get", "Pod", "search", OOM_POD))

    assert result.ok, result.error
    pod = result.data
    assert (pod["apiVersion"], pod["kind"], pod["metadata"]["name"]) == ("v1", "Pod", OOM_POD)
    expected = next(
        i for i in OOM_CLUSTER["items"] if i["kind"] == "Pod" and i["metadata"]["name"] == OOM_POD
    )
    assert pod["status"]["containerStatuses"] == expected["status"]["containerStatuses"]
    assert result.truncated is False


def test_executor_reads_current_and_previous_logs(oom_sim: Any) -> None:
    run = executor(oom_sim).execute
    pod = "search-indexer-7f8c9d6b5-9q2kx"  # its current and previous logs differ in the scenario
    key = f"search/{pod}/indexer"

    current = run(cmd("c1", "logs", "Pod", "search", pod, container="indexer"))
    previous = run(cmd("c2", "logs", "Pod", "search", pod, container="indexer", previous=True))

    assert current.ok and previous.ok
    assert current.data.strip() == OOM_CLUSTER["logs"][key].strip()
    assert previous.data.strip() == OOM_CLUSTER["previous_logs"][key].strip()
    assert current.data != previous.data


def test_executor_tail_lines_returns_the_last_lines(oom_sim: Any) -> None:
    key = f"search/{OOM_POD}/indexer"

    result = executor(oom_sim).execute(
        cmd("c1", "logs", "Pod", "search", OOM_POD, container="indexer", tail_lines=3)
    )

    assert result.ok
    assert result.data.splitlines() == OOM_CLUSTER["logs"][key].splitlines()[-3:]
    assert result.truncated is False


def test_executor_reads_events_for_one_object(oom_sim: Any) -> None:
    expected = {
        i["metadata"]["name"]
        for i in OOM_CLUSTER["items"]
        if i["kind"] == "Event" and i["involvedObject"]["name"] == OOM_POD
    }

    result = executor(oom_sim).execute(cmd("c1", "events", "Pod", "search", OOM_POD))

    assert result.ok
    assert {e["metadata"]["name"] for e in result.data["items"]} == expected
    assert all(e["kind"] == "Event" and e["involvedObject"]["name"] == OOM_POD for e in result.data["items"])


def test_executor_lists_by_label_selector(oom_sim: Any) -> None:
    result = executor(oom_sim).execute(
        cmd("c1", "list", "Pod", "search", label_selector="app.kubernetes.io/name=search-indexer")
    )

    assert result.ok
    assert result.data["kind"] == "List"
    names = sorted(p["metadata"]["name"] for p in result.data["items"])
    assert names == ["search-indexer-7f8c9d6b5-9q2kx", "search-indexer-7f8c9d6b5-h7m3p"]
    assert all(p["kind"] == "Pod" and p["apiVersion"] == "v1" for p in result.data["items"])


def test_executor_lists_across_namespaces_when_namespace_is_null(oom_sim: Any) -> None:
    result = executor(oom_sim).execute(cmd("c1", "list", "Deployment"))

    assert result.ok
    assert {d["metadata"]["name"] for d in result.data["items"]} == {"search-api", "search-indexer"}


def test_executor_marks_list_truncated_at_the_agent_cap(oom_sim: Any) -> None:
    result = executor(oom_sim, max_list_items=2).execute(cmd("c1", "list", "Node"))

    assert result.ok
    assert len(result.data["items"]) == 2
    assert result.truncated is True
    assert "max_list_items=2" in result.truncation


def test_executor_marks_logs_truncated_at_the_line_cap(oom_sim: Any) -> None:
    key = f"search/{OOM_POD}/indexer"

    result = executor(oom_sim, max_log_lines=2).execute(cmd("c1", "logs", "Pod", "search", OOM_POD))

    assert result.ok
    assert result.data.splitlines() == OOM_CLUSTER["logs"][key].splitlines()[-2:]
    assert result.truncated is True
    assert "max_log_lines=2" in result.truncation


def test_executor_marks_logs_truncated_at_the_byte_cap(oom_sim: Any) -> None:
    result = executor(oom_sim, max_log_bytes=1024).execute(cmd("c1", "logs", "Pod", "search", OOM_POD))

    assert result.ok
    assert len(result.data.encode()) <= 1024
    assert result.truncated is True
    assert "max_log_bytes" in result.truncation


def test_executor_keeps_results_under_max_result_bytes(oom_sim: Any) -> None:
    result = executor(oom_sim, max_result_bytes=8192).execute(cmd("c1", "list", "Pod", "search"))

    assert result.ok
    assert len(json.dumps(result.data)) <= 8192
    assert result.truncated is True
    assert "max_result_bytes" in result.truncation


def test_executor_counts_redactions_in_results(leaky_sim: Any) -> None:
    run = executor(leaky_sim).execute

    pod = run(cmd("c1", "get", "Pod", "shop", "api-1"))
    pods = run(cmd("c2", "list", "Pod", "shop", label_selector="app=api"))
    logs = run(cmd("c3", "logs", "Pod", "shop", "api-1"))
    config = run(cmd("c4", "get", "ConfigMap", "shop", "api-config"))

    assert (pod.redactions, pods.redactions, logs.redactions, config.redactions) == (2, 4, 2, 1)
    env = {e["name"]: e["value"] for e in pod.data["spec"]["containers"][0]["env"]}
    assert env == {
        "DB_HOST": "db.shop.svc",
        "DB_PASSWORD": "***",
        "STRIPE_API_KEY": "***",
        "LOG_LEVEL": "info",
    }
    for result in (pod, pods, logs, config):
        text = json.dumps(result.data)
        assert "hunter2" not in text and "Sup3rS3cret" not in text and "sk_live_51" not in text


def test_executor_maps_404_to_not_found(oom_sim: Any) -> None:
    result = executor(oom_sim).execute(cmd("c1", "get", "Pod", "search", "no-such-pod"))

    assert not result.ok
    assert result.error.code == "not_found"
    assert "no-such-pod" in result.error.message


def test_executor_reads_pod_metrics_when_the_metrics_api_exists(oom_sim: Any) -> None:
    result = executor(oom_sim).execute(
        cmd("c1", "get", "PodMetrics", "search", "search-indexer-7f8c9d6b5-9q2kx")
    )

    assert result.ok, result.error
    assert result.data["kind"] == "PodMetrics"
    assert result.data["containers"]


def test_executor_reports_missing_metrics_api_clearly(leaky_sim: Any) -> None:
    result = executor(leaky_sim).execute(cmd("c1", "list", "PodMetrics", "shop"))

    assert not result.ok
    assert result.error.code == "unavailable"
    assert "metrics-server" in result.error.message


def _addons_cluster() -> dict[str, Any]:
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "shop-tls", "namespace": "shop"},
        "spec": {"secretName": "shop-tls", "dnsNames": ["shop.example.com"], "issuerRef": {"name": "le"}},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Expired"}]},
    }
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "le"},
        "spec": {"acme": {"server": "https://acme-v02.api.letsencrypt.org/directory"}},
    }
    webhook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "policy-engine"},
        "webhooks": [{"name": "validate.policy.example.com", "failurePolicy": "Fail"}],
    }
    return {"apiVersion": "v1", "kind": "List", "items": [certificate, issuer, webhook]}


@pytest.fixture(scope="module")
def addons_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory = write_scenario(tmp_path_factory.mktemp("addons") / "addons", _addons_cluster())
    with start_simulator(directory) as sim:
        yield sim


def test_executor_lists_and_gets_custom_resources(addons_sim: Any) -> None:
    ex = executor(addons_sim)

    listed = ex.execute(cmd("c1", "list", "Certificate", "shop"))
    got = ex.execute(cmd("c2", "get", "ClusterIssuer", None, "le"))

    assert listed.ok, listed.error
    assert [(i["kind"], i["metadata"]["name"]) for i in listed.data["items"]] == [("Certificate", "shop-tls")]
    assert got.ok, got.error
    assert got.data["spec"]["acme"]["server"].startswith("https://acme")


def test_executor_reads_admission_webhook_configurations(addons_sim: Any) -> None:
    result = executor(addons_sim).execute(cmd("c1", "list", "ValidatingWebhookConfiguration"))

    assert result.ok, result.error
    assert result.data["items"][0]["webhooks"][0]["failurePolicy"] == "Fail"


def test_executor_reports_an_add_on_that_is_not_installed_as_not_found(oom_sim: Any) -> None:
    result = executor(oom_sim).execute(cmd("c1", "list", "ClusterPolicy"))

    assert not result.ok
    assert result.error.code == "not_found"


def test_executor_skips_expired_commands(oom_sim: Any) -> None:
    raw = cmd("c1", "get", "Pod", "search", OOM_POD) | {"deadline": "2020-01-01T00:00:00Z"}
    ex = executor(oom_sim)

    result = ex.execute(raw)

    assert not result.ok
    assert result.error.code == "expired"
    assert ex.stats.commands_run == 0


def test_executor_maps_rejected_credentials_to_forbidden(tmp_path: Path) -> None:
    with start_simulator(OOM_SCENARIO, token="right-token") as sim:
        ex = Executor(api_client_for(sim.url, token="wrong-token"), Limits())

        result = ex.execute(cmd("c1", "get", "Pod", "search", OOM_POD))

    assert not result.ok
    assert result.error.code == "forbidden"


def test_executor_reports_unreachable_api_as_api_error() -> None:
    ex = Executor(api_client_for("http://127.0.0.1:9"), Limits(), request_timeout=2)

    result = ex.execute(cmd("c1", "get", "Pod", "search", OOM_POD))

    assert not result.ok
    assert result.error.code in ("api_error", "timeout")


def test_executor_reads_kubernetes_version(oom_sim: Any) -> None:
    assert executor(oom_sim).kubernetes_version() == OOM_CLUSTER["x-capture"]["kubernetesVersion"]


def test_executor_table_names_only_read_methods() -> None:
    import kubernetes.client

    for kind, call in READ_CALLS.items():
        api = getattr(kubernetes.client, call.api)
        for method in (call.read, call.list_namespaced, call.list_all):
            if method is None:
                continue
            assert method.startswith(READ_PREFIXES), (kind, method)
            assert hasattr(api, method), (kind, method)


def test_executor_maps_a_silent_api_to_timeout() -> None:
    # given an API server that accepts connections and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        ex = Executor(api_client_for(url), Limits(), request_timeout=0.5)

        result = ex.execute(cmd("c1", "get", "Pod", "search", OOM_POD))

    assert not result.ok
    assert result.error.code == "timeout"


def test_executor_reader_refuses_any_method_that_is_not_a_read() -> None:
    reader = Executor(api_client_for("http://127.0.0.1:9")).kube

    for name in (
        "delete_namespaced_pod",
        "create_namespaced_pod_eviction",
        "connect_get_namespaced_pod_exec",
    ):
        with pytest.raises(KubeFailure) as info:
            reader.method("CoreV1Api", name)
        assert info.value.code == "refused"


def test_executor_source_names_no_write_or_exec_method() -> None:
    # the agent's code (not the simulator) must not even mention a mutating client method
    agent_dir = Path(__file__).resolve().parents[2] / "agent"
    sources = [p for p in agent_dir.rglob("*.py") if "simulator" not in p.parts and "chart" not in p.parts]
    pattern = re.compile(r"\b(create|delete|patch|replace|connect)_[a-z_]+\(|\bstream\(")

    sqs_ack = "delete_message("  # removes a processed command from the SQS queue, not a Kubernetes call
    offenders = [
        f"{p.name}: {m.group(0)}"
        for p in sources
        for m in pattern.finditer(p.read_text())
        if m.group(0) != sqs_ack
    ]

    assert sources and offenders == []
