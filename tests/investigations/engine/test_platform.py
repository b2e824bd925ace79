"""Platform analyzers (scheduling, storage, nodes, autoscaling, quotas, Jobs) on every scenario, offline.

- every scenario of the platform categories passes (category, primary resource, keywords);
- per category, a mutated copy (consistent renames, other values, another mechanism variant) is still
  answered right: the analyzers follow mechanisms, not names;
- the honest `unknown` scenario stays unknown, and `unknown_notes` supplies what its answer must say;
- on scenarios of other categories no platform finding exceeds 0.6 (none is documented as an exception).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from investigations.engine.analysis import MIN_CONFIDENCE, run_analyzers
from investigations.engine.analyzers.scheduling import parse_scheduling
from investigations.engine.analyzers.unknown import unknown_notes, unknown_recommendations
from investigations.engine.context import Context
from investigations.engine.offline import alert_fields
from investigations.engine.result import build_result
from investigations.engine.scoring import score
from investigations.engine.snapshot import load_scenario, view_from_cluster_json
from investigations.engine.target import target_from_fields
from investigations.engine.topology import build_topology
from tests.investigations.engine.harness import (
    PROJECT_SCENARIOS,
    SHARED_EXAMPLES,
    by_category,
    describe,
    run,
    scenario_dirs,
)

PLATFORM = (
    "unschedulable-resources",
    "unschedulable-constraints",
    "pvc-unbound",
    "node-problem",
    "hpa-at-max",
    "quota-exceeded",
    "job-failed",
)
# The analyzer modules of the platform family: a finding's analyzer is "<module>.<function>".
PLATFORM_MODULES = (
    "unschedulable_resources",
    "unschedulable_constraints",
    "storage",
    "nodes",
    "autoscaling",
    "quotas",
    "jobs",
)
# Platform findings allowed above 0.6 on a scenario of another category, with the reason. None today.
JUSTIFIED_CROSS_FINDINGS: dict[tuple[str, str], str] = {}


def _scenario(name: str) -> Path:
    for root in (PROJECT_SCENARIOS, SHARED_EXAMPLES):
        if (root / name / "cluster.json").exists():
            return root / name
    pytest.skip(f"scenario {name} not present")


def _context(folder: Path) -> tuple[Context, dict]:
    alert, cluster, expected = load_scenario(folder)
    target = target_from_fields(alert_fields(alert))
    view = view_from_cluster_json(cluster)
    return Context(view, target, build_topology(view, target)), expected


def _is_platform(analyzer_name: str) -> bool:
    return analyzer_name.split(".", 1)[0] in PLATFORM_MODULES


def _platform_findings(analysis) -> list:
    return [f for f in analysis.findings if _is_platform(f.analyzer)]


def mutate(folder: Path, tmp_path: Path, replacements=(), edit=None) -> Path:
    """A copy of a scenario with consistent renames (in alert, cluster and expected alike) and edits."""
    texts = {name: (folder / name).read_text() for name in ("alert.json", "cluster.json", "expected.json")}
    for old, new in replacements:
        assert old in texts["cluster.json"], f"{old!r} not in the scenario: the mutation would test nothing"
        texts = {name: text.replace(old, new) for name, text in texts.items()}
    data = {name: json.loads(text) for name, text in texts.items()}
    if edit:
        edit(data["alert.json"], data["cluster.json"], data["expected.json"])
    out = tmp_path / f"{folder.name}-mutated"
    out.mkdir()
    for name, content in data.items():
        (out / name).write_text(json.dumps(content))
    return out


def items(cluster: dict, kind: str) -> list[dict]:
    return [o for o in cluster["items"] if o.get("kind") == kind]


def containers_of(obj: dict) -> list[dict]:
    spec = obj.get("spec") or {}
    if obj["kind"] == "Pod":
        return spec.get("containers") or []
    return ((spec.get("template") or {}).get("spec") or {}).get("containers") or []


def pod_specs(cluster: dict, prefix: str) -> list[dict]:
    """Pod specs of pods, ReplicaSets and Deployments whose name starts with prefix."""
    specs = []
    for obj in cluster["items"]:
        if not obj["metadata"].get("name", "").startswith(prefix):
            continue
        if obj["kind"] == "Pod":
            specs.append(obj["spec"])
        elif obj["kind"] in ("ReplicaSet", "Deployment"):
            specs.append(obj["spec"]["template"]["spec"])
    return specs


# ------------------------------------------------------------------------------------------------
# every scenario of the platform categories


@pytest.mark.parametrize(
    "folder",
    [d for category in PLATFORM for d in by_category(category)],
    ids=lambda d: d.name,
)
def test_platform_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _is_platform(result["root_cause"]["analyzer"]), result["root_cause"]
    assert result["root_cause"]["confidence"] >= 0.8
    assert result["root_cause"]["evidence"], "cites evidence"
    assert any(r["commands"] for r in result["recommendations"] if r["kind"] == "immediate")
    assert any(r["kind"] == "preventive" for r in result["recommendations"])


def test_every_platform_category_has_a_scenario():
    missing = [c for c in PLATFORM if not by_category(c)]
    assert not missing


# ------------------------------------------------------------------------------------------------
# the honest unknown


def test_unknown_scenario_stays_unknown_and_notes_settle_the_keywords():
    folder = _scenario("unknown-edge-gateway-sigkill-restarts-no-evidence")
    ctx, expected = _context(folder)
    analysis = run_analyzers(ctx)
    assert all(f.confidence < MIN_CONFIDENCE for f in _platform_findings(analysis))
    result = build_result(ctx, analysis, timings={})
    assert result["root_cause"]["category"] == "unknown"
    notes = unknown_notes(ctx)
    for fact in ("137", "not OOMKilled", "no liveness probe", "node logs", "dmesg"):
        assert fact in notes, fact
    # what the lead wires into result._unknown: the unknown answer plus these notes passes the scenario
    result["root_cause"]["explanation"] += " " + notes
    assert score(result, expected).outcome == "pass"
    commands = [c for r in unknown_recommendations(ctx) for c in r.commands]
    assert commands
    assert all("kubectl debug node/" in c for c in commands)


def test_unknown_notes_say_when_a_liveness_probe_exists(tmp_path):
    folder = _scenario("unknown-edge-gateway-sigkill-restarts-no-evidence")

    def add_probe(_alert, cluster, _expected):
        for obj in cluster["items"]:
            if obj["kind"] in ("Pod", "ReplicaSet", "Deployment"):
                for container in containers_of(obj):
                    container["livenessProbe"] = {"httpGet": {"path": "/ready", "port": 9901}}

    ctx, _expected = _context(mutate(folder, tmp_path, edit=add_probe))
    notes = unknown_notes(ctx)
    assert "has a liveness probe" in notes
    assert "no liveness probe" not in notes.lower()


# ------------------------------------------------------------------------------------------------
# no platform finding above 0.6 where another category is the answer


@pytest.mark.parametrize("folder", scenario_dirs(), ids=lambda d: d.name)
def test_platform_findings_stay_low_on_other_categories(folder):
    ctx, expected = _context(folder)
    analysis = run_analyzers(ctx)
    wanted = expected["root_cause_category"]
    for finding in _platform_findings(analysis):
        if finding.category == wanted:
            continue
        if (folder.name, finding.category) in JUSTIFIED_CROSS_FINDINGS:
            continue
        assert finding.confidence <= 0.6, (
            f"{finding.analyzer} {finding.category} {finding.confidence} on a {wanted} scenario: "
            f"{finding.summary}"
        )
    assert not [e for e in analysis.errors if _is_platform(e)], analysis.errors


# ------------------------------------------------------------------------------------------------
# scheduler message parsing


def test_parse_scheduling_counts_reasons_and_keeps_taints_whole():
    total, reasons = parse_scheduling(
        "0/4 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, "
        "3 Insufficient memory. preemption: 0/4 nodes are available: 1 Preemption is not helpful."
    )
    assert total == 4
    assert [(r.count, r.kind, r.resource) for r in reasons] == [(1, "taint", ""), (3, "resources", "memory")]
    _total, old_style = parse_scheduling(
        "0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod "
        "didn't tolerate, 2 node(s) didn't match node selector."
    )
    assert [(r.count, r.kind) for r in old_style] == [(1, "taint"), (2, "selector")]
    _total, storage = parse_scheduling(
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    )
    assert storage[0].kind == "storage"
    assert storage[0].count is None


# ------------------------------------------------------------------------------------------------
# generality: renamed / re-valued / variant copies


def test_unschedulable_resources_renamed_and_resized(tmp_path):
    folder = _scenario("pending-embedding-server-memory-request-too-large")
    copy = mutate(
        folder,
        tmp_path,
        [
            ("embedding-server", "vector-api"),
            ("ml-serving", "inference"),
            ("n2-standard-8", "m6i.2xlarge"),
            ("32Gi", "48Gi"),
        ],
    )
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert result["root_cause"]["resource"] == {
        "kind": "Deployment",
        "namespace": "inference",
        "name": "vector-api",
    }
    assert "48Gi" in result["root_cause"]["summary"]


def test_unschedulable_resources_on_cpu(tmp_path):
    folder = _scenario("pending-embedding-server-memory-request-too-large")

    def cpu_instead(_alert, cluster, expected):
        for obj in cluster["items"]:
            name = obj["metadata"].get("name", "")
            if not (
                name.startswith("embedding-server-jmlp5n7px9")
                or (obj["kind"] == "Deployment" and name == "embedding-server")
            ):
                continue
            for container in containers_of(obj):
                container["resources"] = {
                    "requests": {"cpu": "12", "memory": "8Gi"},
                    "limits": {"memory": "8Gi"},
                }
        for event in items(cluster, "Event"):
            event["message"] = event.get("message", "").replace("Insufficient memory", "Insufficient cpu")
        for pod in items(cluster, "Pod"):
            for condition in pod["status"].get("conditions") or []:
                condition["message"] = (condition.get("message") or "").replace(
                    "Insufficient memory", "Insufficient cpu"
                )
        expected["keywords"] = ["Insufficient cpu", "12", "allocatable", "FailedScheduling", "n2-standard-8"]

    copy = mutate(folder, tmp_path, edit=cpu_instead)
    result, outcome = run(copy)
    cause = result["root_cause"]
    assert cause["category"] == "unschedulable-resources", describe(copy, result, outcome)
    assert cause["resource"]["name"] == "embedding-server"
    assert "Insufficient cpu" in cause["summary"]
    assert "7910m" in cause["explanation"]  # the nodes' allocatable cpu


def test_unschedulable_constraints_renamed_pool_and_label_key(tmp_path):
    folder = _scenario("pending-token-service-nodeselector-retired-nodepool")
    copy = mutate(
        folder,
        tmp_path,
        [
            ("kubernetes.azure.com/agentpool", "cloud.google.com/gke-nodepool"),
            ("apps2023", "blue"),
            ("apps2025", "green"),
            ("token-service", "session-broker"),
        ],
    )
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert "cloud.google.com/gke-nodepool=blue" in result["root_cause"]["summary"]
    assert "green" in result["root_cause"]["summary"]


def test_unschedulable_constraints_with_required_node_affinity(tmp_path):
    folder = _scenario("pending-token-service-nodeselector-retired-nodepool")

    def to_affinity(_alert, cluster, _expected):
        for spec in pod_specs(cluster, "token-service"):
            selector = spec.pop("nodeSelector", None) or {}
            spec["affinity"] = {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": k, "operator": "In", "values": [v]} for k, v in selector.items()
                                ]
                            }
                        ]
                    }
                }
            }

    copy = mutate(folder, tmp_path, edit=to_affinity)
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert "node affinity" in result["root_cause"]["explanation"]


def test_unschedulable_constraints_every_node_tainted(tmp_path):
    folder = _scenario("pending-token-service-nodeselector-retired-nodepool")

    def taint_all(_alert, cluster, _expected):
        for spec in pod_specs(cluster, "token-service"):
            spec.pop("nodeSelector", None)
        for node in items(cluster, "Node"):
            node["spec"]["taints"] = [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]
        message = (
            "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}. preemption: "
            "0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        )
        for event in items(cluster, "Event"):
            if event.get("reason") == "FailedScheduling":
                event["message"] = message

    copy = mutate(folder, tmp_path, edit=taint_all)
    result, _outcome = run(copy)
    cause = result["root_cause"]
    assert cause["category"] == "unschedulable-constraints"
    assert cause["resource"]["name"] == "token-service"
    assert "dedicated=batch:NoSchedule" in cause["explanation"]
    assert cause["confidence"] >= 0.8


def test_pvc_released_pv_renamed(tmp_path):
    folder = _scenario("pending-report-renderer-pvc-released-nfs-pv")
    copy = mutate(
        folder,
        tmp_path,
        [("reports-shared", "team-share"), ("reports-nfs", "team-nfs-pv"), ("report-renderer", "pdf-maker")],
    )
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert result["root_cause"]["resource"]["name"] == "team-share"
    commands = [c for r in result["recommendations"] for c in r["commands"]]
    assert any("patch pv/team-nfs-pv" in c and "claimRef" in c for c in commands)


def test_pvc_missing_storage_class_renamed(tmp_path):
    folder = _scenario("pending-unbound-pvc")
    copy = mutate(folder, tmp_path, [("gp3-encrypted", "premium-ssd"), ("ledger-db", "books-db")])
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert result["root_cause"]["resource"]["name"] == "data-books-db-0"
    assert "StatefulSet/ledger/books-db" in str(result["root_cause"]["contributing"]) or any(
        c["resource"]["name"] == "books-db" for c in result["root_cause"]["contributing"]
    )


def test_pvc_pending_with_available_class_waiting_for_consumer_is_not_blamed(tmp_path):
    folder = _scenario("pending-unbound-pvc")

    def exists(_alert, cluster, _expected):
        cluster["items"].append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": "gp3-encrypted"},
                "provisioner": "ebs.csi.aws.com",
                "volumeBindingMode": "WaitForFirstConsumer",
            }
        )
        cluster["items"] = [
            o
            for o in cluster["items"]
            if not (
                o.get("kind") == "Event" and o.get("reason") in ("ProvisioningFailed", "FailedScheduling")
            )
        ]

    ctx, _expected = _context(mutate(folder, tmp_path, edit=exists))
    findings = [f for f in _platform_findings(run_analyzers(ctx)) if f.category == "pvc-unbound"]
    assert all(f.confidence < MIN_CONFIDENCE for f in findings)


def test_node_disk_pressure_renamed(tmp_path):
    folder = _scenario("node-diskpressure-small-root-volume-evictions")
    copy = mutate(
        folder,
        tmp_path,
        [
            ("ip-10-13-2-88.eu-west-1.compute.internal", "worker-disk-7"),
            ("eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool"),
            ("workers-v8", "pool-b"),
            ("ingest-worker", "log-shipper"),
        ],
    )
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert result["root_cause"]["resource"] == {"kind": "Node", "namespace": "", "name": "worker-disk-7"}
    assert "pool-b" in result["root_cause"]["explanation"]


def test_node_not_ready_false_with_other_message(tmp_path):
    folder = _scenario("node-notready-shipments-mq-pod-stuck-terminating")

    def kubelet_not_ready(_alert, cluster, expected):
        for node in items(cluster, "Node"):
            if node["metadata"]["name"] != "rack-c-node-9":  # renamed before edits run
                continue
            for condition in node["status"]["conditions"]:
                if condition["type"] == "Ready":
                    condition.update(
                        status="False",
                        reason="KubeletNotReady",
                        message="PLEG is not healthy: pleg was last seen 4m ago",
                    )
                else:
                    condition.update(status="False", reason="KubeletHasNoPressure", message="fine")
        expected["keywords"] = [
            "rack-c-node-9",
            "NotReady",
            "PLEG is not healthy",
            "unreachable",
            "shipments-mq-2",
        ]

    copy = mutate(folder, tmp_path, [("lg-worker-03", "rack-c-node-9")], edit=kubelet_not_ready)
    result, outcome = run(copy)
    cause = result["root_cause"]
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert cause["resource"]["name"] == "rack-c-node-9"
    assert "NotReady" in cause["summary"]
    assert "PLEG is not healthy" in cause["explanation"]
    assert "shipments-mq-2" in cause["explanation"]


def test_node_problem_from_a_workload_alert(tmp_path):
    """The StatefulSet alert alone: the stuck pod's node is the cause."""
    folder = _scenario("node-notready-shipments-mq-pod-stuck-terminating")

    def only_statefulset_alert(alert, _cluster, _expected):
        alert["alerts"] = [a for a in alert["alerts"] if "statefulset" in a["labels"]]

    copy = mutate(folder, tmp_path, edit=only_statefulset_alert)
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)


def test_hpa_at_max_renamed_and_revalued(tmp_path):
    folder = _scenario("hpa-maxed-booking-api-presale-surge")

    def revalue(_alert, cluster, expected):
        for hpa in items(cluster, "HorizontalPodAutoscaler"):
            if hpa["metadata"]["name"] != "orders-api":
                continue
            hpa["spec"]["maxReplicas"] = 12
            hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = 70
            hpa["status"]["currentReplicas"] = hpa["status"]["desiredReplicas"] = 12
            hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] = 130
        expected["keywords"] = ["maxReplicas", "130%", "70%", "TooManyReplicas", "presale"]

    copy = mutate(folder, tmp_path, [("booking-api", "orders-api"), ("ticketing", "shop")], edit=revalue)
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert "maxReplicas 12" in result["root_cause"]["summary"]


def test_hpa_resting_at_min_is_not_at_max(tmp_path):
    folder = _scenario("hpa-maxed-booking-api-presale-surge")

    def at_min(_alert, cluster, _expected):
        for hpa in items(cluster, "HorizontalPodAutoscaler"):
            hpa["status"]["currentReplicas"] = hpa["status"]["desiredReplicas"] = hpa["spec"]["minReplicas"]
            hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] = 20
            for condition in hpa["status"]["conditions"]:
                if condition["type"] == "ScalingLimited":
                    condition.update(
                        reason="TooFewReplicas", message="the desired replica count is less than the minimum"
                    )

    ctx, _expected = _context(mutate(folder, tmp_path, edit=at_min))
    assert not [f for f in _platform_findings(run_analyzers(ctx)) if f.category == "hpa-at-max"]


def test_quota_renamed_and_revalued(tmp_path):
    folder = _scenario("replicas-mismatch-report-api-resourcequota-exhausted")

    def revalue(_alert, cluster, expected):
        message_old = "used: limits.memory=7Gi, limited: limits.memory=8Gi"
        message_new = "used: limits.memory=11Gi, limited: limits.memory=12Gi"
        for obj in cluster["items"]:
            if obj.get("kind") == "Event":
                obj["message"] = obj.get("message", "").replace(message_old, message_new)
            for condition in (obj.get("status") or {}).get("conditions") or []:
                condition["message"] = (condition.get("message") or "").replace(message_old, message_new)
            if obj.get("kind") == "ResourceQuota":
                obj["spec"]["hard"]["limits.memory"] = obj["status"]["hard"]["limits.memory"] = "12Gi"
                obj["status"]["used"]["limits.memory"] = "11Gi"
        expected["keywords"] = ["exceeded quota", "team-budget", "limits.memory", "12Gi", "csv-render"]

    copy = mutate(
        folder, tmp_path, [("compute-quota", "team-budget"), ("pdf-export", "csv-render")], edit=revalue
    )
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert result["root_cause"]["resource"]["name"] == "team-budget"
    assert any(c["resource"]["name"] == "csv-render" for c in result["root_cause"]["contributing"])


def test_limitrange_maximum(tmp_path):
    folder = _scenario("replicas-mismatch-report-api-resourcequota-exhausted")

    def limitrange(_alert, cluster, _expected):
        message = (
            'Error creating: pods "report-api-2wrrc7lf8-x" is forbidden: '
            "maximum memory usage per Container is 1Gi, but limit is 2Gi"
        )
        for obj in cluster["items"]:
            if obj.get("kind") == "Event" and obj.get("reason") == "FailedCreate":
                obj["message"] = message
            for condition in (obj.get("status") or {}).get("conditions") or []:
                if condition.get("reason") == "FailedCreate":
                    condition["message"] = message
            if obj.get("kind") == "LimitRange":
                obj["spec"]["limits"][0]["max"] = {"memory": "1Gi"}

    ctx, _expected = _context(mutate(folder, tmp_path, edit=limitrange))
    best = run_analyzers(ctx).best
    assert best.category == "quota-exceeded"
    assert (best.resource.kind, best.resource.name) == ("LimitRange", "defaults")
    assert "maximum memory usage per Container is 1Gi" in best.explanation


def test_job_deadline_renamed_and_revalued(tmp_path):
    folder = _scenario("job-failed-ledger-export-deadline-exceeded")

    def revalue(_alert, cluster, expected):
        for obj in items(cluster, "Job") + items(cluster, "CronJob"):
            spec = obj["spec"] if obj["kind"] == "Job" else obj["spec"]["jobTemplate"]["spec"]
            if spec.get("activeDeadlineSeconds"):
                spec["activeDeadlineSeconds"] = 3300
        expected["keywords"] = [
            "DeadlineExceeded",
            "activeDeadlineSeconds",
            "3300",
            "runtime growing",
            "nightly-sync",
        ]

    copy = mutate(
        folder, tmp_path, [("ledger-export", "nightly-sync"), ("data-pipeline", "etl")], edit=revalue
    )
    result, outcome = run(copy)
    assert outcome.outcome == "pass", describe(copy, result, outcome)
    assert result["root_cause"]["resource"]["namespace"] == "etl"


def test_job_backoff_limit_exceeded(tmp_path):
    folder = _scenario("job-failed-ledger-export-deadline-exceeded")

    def backoff(_alert, cluster, _expected):
        for job in items(cluster, "Job"):
            for condition in job["status"].get("conditions") or []:
                if condition.get("reason") == "DeadlineExceeded":
                    condition.update(
                        reason="BackoffLimitExceeded", message="Job has reached the specified backoff limit"
                    )
        cluster["items"] = [
            o
            for o in cluster["items"]
            if not (o.get("kind") == "Event" and o.get("reason") == "DeadlineExceeded")
        ]

    copy = mutate(folder, tmp_path, edit=backoff)
    result, outcome = run(copy)
    cause = result["root_cause"]
    assert cause["category"] == "job-failed", describe(copy, result, outcome)
    assert cause["resource"]["name"] == "ledger-export-29430780"
    assert "BackoffLimitExceeded" in cause["summary"]
    assert "DeadlineExceeded" not in cause["summary"]


def test_pvc_volume_zone_conflict(tmp_path):
    folder = _scenario("pending-unbound-pvc")

    def zone_conflict(_alert, cluster, _expected):
        for pvc in items(cluster, "PersistentVolumeClaim"):
            if pvc["metadata"]["name"] == "data-ledger-db-0":
                pvc["spec"]["volumeName"] = "pvc-zonal-1"
                pvc["spec"]["storageClassName"] = "gp3"
                pvc["status"] = {"phase": "Bound"}
        cluster["items"].append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": "pvc-zonal-1"},
                "spec": {
                    "storageClassName": "gp3",
                    "capacity": {"storage": "50Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "claimRef": {"namespace": "ledger", "name": "data-ledger-db-0"},
                    "nodeAffinity": {
                        "required": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "topology.kubernetes.io/zone",
                                            "operator": "In",
                                            "values": ["eu-west-1z"],
                                        }
                                    ]
                                }
                            ]
                        }
                    },
                },
                "status": {"phase": "Bound"},
            }
        )
        cluster["items"] = [
            o
            for o in cluster["items"]
            if not (o.get("kind") == "Event" and o.get("reason") == "ProvisioningFailed")
        ]
        conflict = "0/3 nodes are available: 3 node(s) had volume node affinity conflict. preemption: none."
        for obj in cluster["items"]:
            if obj.get("kind") == "Event" and obj.get("reason") == "FailedScheduling":
                obj["message"] = conflict
            if obj.get("kind") == "Pod":
                for condition in obj["status"].get("conditions") or []:
                    if condition.get("reason") == "Unschedulable":
                        condition["message"] = conflict

    ctx, _expected = _context(mutate(folder, tmp_path, edit=zone_conflict))
    analysis = run_analyzers(ctx)
    best = analysis.best
    assert best.category == "pvc-unbound"
    assert best.resource.name == "data-ledger-db-0"
    assert "eu-west-1z" in best.explanation
    assert not [f for f in _platform_findings(analysis) if f.category.startswith("unschedulable")]


def test_quota_must_specify(tmp_path):
    folder = _scenario("replicas-mismatch-report-api-resourcequota-exhausted")

    def must_specify(_alert, cluster, _expected):
        message = (
            'Error creating: pods "report-api-2wrrc7lf8-x" is forbidden: failed quota: compute-quota: '
            "must specify limits.memory for: report-api"
        )
        for obj in cluster["items"]:
            if obj.get("kind") == "Event" and obj.get("reason") == "FailedCreate":
                obj["message"] = message
            for condition in (obj.get("status") or {}).get("conditions") or []:
                if condition.get("reason") == "FailedCreate":
                    condition["message"] = message

    ctx, _expected = _context(mutate(folder, tmp_path, edit=must_specify))
    best = run_analyzers(ctx).best
    assert best.category == "quota-exceeded"
    assert (best.resource.kind, best.resource.name) == ("ResourceQuota", "compute-quota")
    assert "must specify limits.memory" in best.summary


def test_hpa_at_max_stands_down_when_pods_are_pinned_at_their_cpu_limit(tmp_path):
    folder = _scenario("hpa-maxed-booking-api-presale-surge")

    def at_limit(_alert, cluster, _expected):
        for metrics in items(cluster, "PodMetrics"):
            if metrics["metadata"]["name"].startswith("booking-api"):
                for container in metrics["containers"]:
                    container["usage"]["cpu"] = "1985m"

    ctx, _expected = _context(mutate(folder, tmp_path, edit=at_limit))
    findings = [f for f in _platform_findings(run_analyzers(ctx)) if f.category == "hpa-at-max"]
    assert findings
    assert all(f.confidence <= 0.6 for f in findings)
    assert "throttling" in findings[0].explanation
