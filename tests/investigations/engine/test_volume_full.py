"""volume-full: the scenario, renamed copies and variants (alert on the client, an expandable claim,
errors relayed by clients only, ephemeral-storage and emptyDir evictions, a node out of disk), and the
analyzer as a bystander."""

from __future__ import annotations

import json

import pytest

from tests.investigations.engine.harness import (
    PROJECT_SCENARIOS,
    by_category,
    commands,
    copy_scenario,
    describe,
    edit_cluster,
    find,
    findings,
    other_scenarios,
    root,
    run,
)

CATEGORY = "volume-full"
KAFKA = PROJECT_SCENARIOS / "consumer-lag-clickstream-kafka-broker-local-volume-full"
CONSUMER_POD = "clickstream-sessionizer-7d5c9b8f6-h2xkq"


@pytest.mark.parametrize("folder", by_category(CATEGORY), ids=lambda d: d.name)
def test_volume_full_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["root_cause"]["confidence"] >= 0.85
    assert any(r["kind"] == "preventive" for r in result["recommendations"])


def test_volume_full_renamed(tmp_path):
    folder = copy_scenario(
        KAFKA,
        tmp_path,
        [
            ("events-kafka", "orders-broker"),
            ("clickstream", "ordering"),
            ("/bitnami/kafka", "/var/lib/broker"),
            ("50Gi", "120Gi"),
            ("local-nvme", "fast-local"),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert root(result) == (CATEGORY, ("PersistentVolumeClaim", "ordering", "data-orders-broker-0"))
    assert "120Gi" in result["root_cause"]["explanation"]
    assert "kubectl get storageclass fast-local -o yaml" in commands(result)  # no expansion: free or move


def _alert_on_the_consumer(folder) -> None:
    body = json.loads((folder / "alert.json").read_text())
    body["alerts"][0]["labels"]["deployment"] = "clickstream-sessionizer"
    (folder / "alert.json").write_text(json.dumps(body))


def test_volume_full_reached_from_the_client_through_its_settings(tmp_path):
    """The alert names the consumer; the broker is found through its bootstrap-servers setting."""
    folder = copy_scenario(KAFKA, tmp_path)
    _alert_on_the_consumer(folder)
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["target"]["kind"] == "Deployment"


def test_volume_full_expandable_claim_is_grown(tmp_path):
    folder = copy_scenario(KAFKA, tmp_path)
    edit_cluster(folder, lambda d: find(d, "StorageClass", "local-nvme").update(allowVolumeExpansion=True))
    result, _outcome = run(folder)
    assert (
        "kubectl -n clickstream patch pvc data-events-kafka-0 --type merge -p "
        '\'{"spec":{"resources":{"requests":{"storage":"100Gi"}}}}\''
    ) in commands(result)


@pytest.mark.parametrize(
    "line",
    [
        '{"level":"ERROR","msg":"produce failed: KafkaStorageException: Disk error when trying to access '
        'log file on the disk. (errno: 28 No space left on device)"}',
        "ERROR indexing failed: ClusterBlockException[index [clicks-2025.05] blocked by: "
        "[TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete "
        "block]]",
    ],
    ids=["errno-28", "flood-stage"],
)
def test_volume_full_relayed_by_clients_only(tmp_path, line):
    """The server's logs were not read; its clients report the disk error: its one claim, less sure."""
    folder = copy_scenario(KAFKA, tmp_path)

    def relayed(data):
        data["logs"] = {k: v for k, v in data["logs"].items() if "events-kafka" not in k}
        data["previous_logs"] = {}
        key = f"clickstream/{CONSUMER_POD}/sessionizer"
        data["logs"][key] += line + "\n"

    edit_cluster(folder, relayed)
    _alert_on_the_consumer(folder)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("PersistentVolumeClaim", "clickstream", "data-events-kafka-0"))
    assert 0.6 <= result["root_cause"]["confidence"] <= 0.8


def _evicted(message: str):
    def edit(data):
        pod = find(data, "Pod", CONSUMER_POD)
        pod["status"].update(phase="Failed", reason="Evicted", message=message)

    return edit


@pytest.mark.parametrize(
    ("message", "fix"),
    [
        (
            "Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ",
            "--limits=ephemeral-storage=2Gi",
        ),
        ('Usage of EmptyDir volume "scratch" exceeds the limit "500Mi". ', "/volumes/0/emptyDir/sizeLimit"),
    ],
    ids=["ephemeral-storage-limit", "emptydir-size-limit"],
)
def test_volume_full_evictions_for_the_pods_own_limits(tmp_path, message, fix):
    folder = copy_scenario(KAFKA, tmp_path)

    def scratch(data):
        for kind in ("Deployment", "ReplicaSet"):
            for obj in data["items"]:
                if obj["kind"] == kind and obj["metadata"]["name"].startswith("clickstream-sessionizer"):
                    obj["spec"]["template"]["spec"]["volumes"] = [
                        {"name": "scratch", "emptyDir": {"sizeLimit": "500Mi"}}
                    ]

    edit_cluster(folder, scratch)
    edit_cluster(folder, _evicted(message))
    _alert_on_the_consumer(folder)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Deployment", "clickstream", "clickstream-sessionizer"))
    assert fix in commands(result)


def test_volume_full_is_not_a_node_out_of_disk(tmp_path):
    """The kubelet evicted pods because the node's disk filled: node-problem, not a full volume."""
    folder = copy_scenario(KAFKA, tmp_path)
    edit_cluster(
        folder,
        _evicted(
            "The node was low on resource: ephemeral-storage. Threshold quantity: 10120387379, available: "
            "4712880Ki. Container sessionizer was using 56Ki, request is 0, has larger consumption of "
            "ephemeral-storage. "
        ),
    )

    def logs_without_enospc(data):
        data["previous_logs"] = {}
        data["logs"] = {k: v for k, v in data["logs"].items() if "events-kafka-0" not in k}

    edit_cluster(folder, logs_without_enospc)
    _alert_on_the_consumer(folder)
    assert not [f for f in findings(folder).findings if f.category == CATEGORY]


@pytest.mark.parametrize("folder", other_scenarios(CATEGORY), ids=lambda d: d.name)
def test_volume_full_stays_quiet_elsewhere(folder):
    analysis = findings(folder)
    assert not [e for e in analysis.errors if e.startswith(("volumes.", "volume_fixes."))]
    expected = json.loads((folder / "expected.json").read_text())["root_cause_category"]
    ceiling = 0.35 if expected == "unknown" else 0.6
    assert not [
        (f.summary, f.confidence)
        for f in analysis.findings
        if f.category == CATEGORY and f.confidence >= ceiling
    ]
