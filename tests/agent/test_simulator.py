"""The cluster simulator through the real `kubernetes` client (and plain HTTP for its control API)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from agent.simulator import ScenarioError, Simulator, start_simulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_ROOTS = (
    Path(os.environ.get("OPSWORKER_SCENARIO_EXAMPLES", "/work/shared/scenarios/examples")),
    REPO / "agent" / "simulator" / "scenarios",
)
OOM = "oomkilled-low-memory-limit"
PVC = "pending-unbound-pvc"
OOM_POD = "search-indexer-7f8c9d6b5-9q2kx"


def example(name: str) -> Path:
    for root in EXAMPLE_ROOTS:
        if (root / name / "cluster.json").is_file():
            return root / name
    pytest.skip(f"example scenario {name} not found under {[str(r) for r in EXAMPLE_ROOTS]}")


def cluster_json(name: str) -> dict:
    return json.loads((example(name) / "cluster.json").read_text())


ANY_TOKEN = "any-token"


def api_client(url: str, token: str = ANY_TOKEN) -> client.ApiClient:
    configuration = client.Configuration()
    configuration.host = url
    configuration.api_key = {"authorization": token}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(configuration)


@pytest.fixture
def oom():
    with start_simulator(example(OOM)) as sim:
        yield sim


@pytest.fixture
def pvc():
    with start_simulator(example(PVC)) as sim:
        yield sim


@pytest.fixture
def core(oom) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(oom.url))


def write_scenario(directory: Path, items: list[dict], **extra) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    document = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
    document.update(extra)
    (directory / "cluster.json").write_text(json.dumps(document))
    return directory


def pod(name: str, namespace: str = "web", containers=("app",), init=(), **status) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "7"},
        "spec": {
            "containers": [{"name": c, "image": "busybox"} for c in containers],
            "initContainers": [{"name": c, "image": "busybox"} for c in init],
            "nodeName": "node-1",
        },
        "status": {"phase": "Running", **status},
    }


def http(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    """(status, parsed JSON body) for a plain HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# ---------------------------------------------------------------- objects


def test_simulator_read_pod_deserialises_last_terminated_state(core):
    found = core.read_namespaced_pod(OOM_POD, "search")

    terminated = found.status.container_statuses[0].last_state.terminated
    assert terminated.reason == "OOMKilled"
    assert terminated.exit_code == 137
    assert found.status.container_statuses[0].restart_count == 9


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app.kubernetes.io/name=search-indexer", {"9q2kx", "h7m3p"}),
        ("app.kubernetes.io/name==search-api", {"vktw7"}),
        ("app.kubernetes.io/name!=search-indexer", {"vktw7"}),
        ("app.kubernetes.io/name in (search-api, nothing)", {"vktw7"}),
        ("app.kubernetes.io/name notin (search-api)", {"9q2kx", "h7m3p"}),
        ("app.kubernetes.io/part-of", {"9q2kx", "h7m3p"}),
        ("!app.kubernetes.io/part-of", {"vktw7"}),
        ("app.kubernetes.io/part-of=search,app.kubernetes.io/name in (search-api)", set()),
    ],
)
def test_simulator_list_filters_by_label_selector(core, selector, expected):
    listed = core.list_namespaced_pod("search", label_selector=selector)

    assert {p.metadata.name.rsplit("-", 1)[1] for p in listed.items} == expected


def test_simulator_list_rejects_malformed_label_selector(core):
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("search", label_selector="a in (b")

    assert caught.value.status == 400


def test_simulator_list_events_by_involved_object_field_selector(core):
    events = core.list_namespaced_event(
        "search", field_selector=f"involvedObject.kind=Pod,involvedObject.name={OOM_POD}"
    )

    assert events.items
    assert {e.involved_object.name for e in events.items} == {OOM_POD}
    assert "BackOff" in {e.reason for e in events.items}


def test_simulator_list_pods_by_status_phase_and_node_field_selector(pvc):
    core = client.CoreV1Api(api_client(pvc.url))

    pending = core.list_pod_for_all_namespaces(field_selector="status.phase=Pending")
    unscheduled = core.list_namespaced_pod("ledger", field_selector="spec.nodeName=")
    not_pending = core.list_namespaced_pod("ledger", field_selector="status.phase!=Pending")

    assert [p.metadata.name for p in pending.items] == ["ledger-db-0"]
    assert [p.metadata.name for p in unscheduled.items] == ["ledger-db-0"]
    assert "ledger-db-0" not in {p.metadata.name for p in not_pending.items}


def test_simulator_list_rejects_unsupported_field_selector_with_400_status(core):
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("search", field_selector="spec.priority=5")

    assert caught.value.status == 400
    body = json.loads(caught.value.body)
    assert body["kind"] == "Status"
    assert body["reason"] == "BadRequest"
    assert "field label not supported: spec.priority" in body["message"]


def test_simulator_list_is_a_typed_list_with_resource_version(oom):
    status, body = http(f"{oom.url}/apis/apps/v1/namespaces/search/deployments")

    assert status == 200
    assert body["kind"] == "DeploymentList"
    assert body["apiVersion"] == "apps/v1"
    assert body["metadata"]["resourceVersion"].isdigit()
    assert {i["kind"] for i in body["items"]} == {"Deployment"}
    assert {i["apiVersion"] for i in body["items"]} == {"apps/v1"}


def test_simulator_list_pages_with_limit_and_continue(core):
    everything = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]

    first = core.list_pod_for_all_namespaces(limit=2)
    rest = core.list_pod_for_all_namespaces(limit=2, _continue=first.metadata._continue)

    assert len(everything) == 3
    assert first.metadata.remaining_item_count == 1
    assert [p.metadata.name for p in first.items + rest.items] == everything
    assert rest.metadata._continue is None


def test_simulator_read_cluster_scoped_node(oom):
    node_name = next(i for i in cluster_json(OOM)["items"] if i["kind"] == "Node")["metadata"]["name"]

    node = client.CoreV1Api(api_client(oom.url)).read_node(node_name)

    assert node.metadata.name == node_name
    assert node.status.allocatable["memory"]


def test_simulator_missing_pod_is_404_status(core):
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod("nope", "search")

    assert caught.value.status == 404
    assert json.loads(caught.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "code": 404,
        "details": {"name": "nope", "kind": "pods"},
    }


def test_simulator_missing_grouped_object_names_the_group(oom):
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(api_client(oom.url)).read_namespaced_deployment("nope", "search")

    assert caught.value.status == 404
    assert json.loads(caught.value.body)["message"] == 'deployments.apps "nope" not found'


def test_simulator_secrets_are_forbidden(core):
    for call in (
        lambda: core.list_namespaced_secret("search"),
        lambda: core.list_secret_for_all_namespaces(),
        lambda: core.read_namespaced_secret("search-indexer-db", "search"),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        assert caught.value.status == 403
        assert json.loads(caught.value.body)["reason"] == "Forbidden"


def test_simulator_write_is_405(core):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(
            "search", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x"))
        )

    assert caught.value.status == 405
    assert json.loads(caught.value.body)["reason"] == "MethodNotAllowed"


def test_simulator_delete_is_405(core):
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_pod(OOM_POD, "search")

    assert caught.value.status == 405


def test_simulator_serves_concurrent_requests(oom):
    # given a watch holding one connection open
    with ThreadPoolExecutor(max_workers=9) as pool:
        held = pool.submit(
            lambda: list(
                watch.Watch().stream(
                    client.CoreV1Api(api_client(oom.url)).list_namespaced_pod, "search", timeout_seconds=1
                )
            )
        )
        # when eight other clients read at the same time
        reads = [
            pool.submit(
                lambda: (
                    client.CoreV1Api(api_client(oom.url)).read_namespaced_pod(OOM_POD, "search").metadata.name
                )
            )
            for _ in range(8)
        ]
        names = [r.result(timeout=30) for r in reads]
        events = held.result(timeout=30)

    # then all are answered
    assert names == [OOM_POD] * 8
    assert {e["type"] for e in events} == {"ADDED"}
    assert len(events) == 3


# ---------------------------------------------------------------- logs


def test_simulator_log_tail_lines(core):
    text = core.read_namespaced_pod_log(OOM_POD, "search", tail_lines=2)

    full = cluster_json(OOM)["logs"][f"search/{OOM_POD}/indexer"]
    assert text == "".join(full.splitlines(keepends=True)[-2:])


def test_simulator_previous_log(core):
    text = core.read_namespaced_pod_log(OOM_POD, "search", container="indexer", previous=True, tail_lines=5)

    previous = cluster_json(OOM)["previous_logs"][f"search/{OOM_POD}/indexer"]
    assert text == "".join(previous.splitlines(keepends=True)[-5:])
    assert text != core.read_namespaced_pod_log(OOM_POD, "search", tail_lines=5)


def test_simulator_previous_log_of_never_restarted_container_is_400(core):
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("search-api-6c8d7f9b5-vktw7", "search", previous=True)

    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == (
        'previous terminated container "search-api" in pod "search-api-6c8d7f9b5-vktw7" not found'
    )


def test_simulator_log_limit_bytes(core):
    text = core.read_namespaced_pod_log(OOM_POD, "search", limit_bytes=10)

    assert text == cluster_json(OOM)["logs"][f"search/{OOM_POD}/indexer"][:10]


def test_simulator_log_since_seconds_counts_back_from_capture_time(core):
    # search-api logs one line every two seconds up to 10:34:58; capture time is 10:35:00
    text = core.read_namespaced_pod_log("search-api-6c8d7f9b5-vktw7", "search", since_seconds=30)

    lines = text.splitlines()
    assert (
        0
        < len(lines)
        < len(cluster_json(OOM)["logs"]["search/search-api-6c8d7f9b5-vktw7/search-api"].splitlines())
    )
    assert all(line[:19] >= "2025-03-15T10:34:30" for line in lines)


def test_simulator_log_timestamps_prefix_each_line(core):
    text = core.read_namespaced_pod_log("search-api-6c8d7f9b5-vktw7", "search", tail_lines=1, timestamps=True)

    assert text.startswith("2025-03-15T10:34:58.000000000Z 2025-03-15T10:34:58.000Z")


def test_simulator_log_of_missing_pod_is_404(core):
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("nope", "search")

    assert caught.value.status == 404


def test_simulator_log_error_from_scenario_is_400(pvc):
    core = client.CoreV1Api(api_client(pvc.url))

    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("ledger-db-0", "ledger")

    assert caught.value.status == 400
    expected = cluster_json(PVC)["log_errors"]["ledger/ledger-db-0/postgres"]
    assert json.loads(caught.value.body)["message"] == expected


def test_simulator_log_requires_container_when_pod_has_several(tmp_path):
    scenario = write_scenario(
        tmp_path / "multi",
        [pod("two", containers=("a", "b"), init=("setup",))],
        logs={"web/two/b": "hello\n"},
    )
    with start_simulator(scenario) as sim:
        core = client.CoreV1Api(api_client(sim.url))

        with pytest.raises(ApiException) as caught:
            core.read_namespaced_pod_log("two", "web")
        text = core.read_namespaced_pod_log("two", "web", container="b")
        with pytest.raises(ApiException) as invalid:
            core.read_namespaced_pod_log("two", "web", container="c")

    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == (
        "a container name must be specified for pod two, choose one of: [a b] "
        "or one of the init containers: [setup]"
    )
    assert text == "hello\n"
    assert invalid.value.status == 400
    assert json.loads(invalid.value.body)["message"] == "container c is not valid for pod two"


def test_simulator_log_of_container_waiting_to_start_is_400(tmp_path):
    waiting = pod(
        "pulling",
        containerStatuses=[
            {
                "name": "app",
                "restartCount": 0,
                "ready": False,
                "state": {"waiting": {"reason": "ImagePullBackOff"}},
            }
        ],
    )
    with (
        start_simulator(write_scenario(tmp_path / "s", [waiting])) as sim,
        pytest.raises(ApiException) as caught,
    ):
        client.CoreV1Api(api_client(sim.url)).read_namespaced_pod_log("pulling", "web")

    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == (
        'container "app" in pod "pulling" is waiting to start: ImagePullBackOff'
    )


# ---------------------------------------------------------------- discovery


def test_simulator_discovery_groups(oom):
    groups = client.ApisApi(api_client(oom.url)).get_api_versions()

    names = {g.name: g.preferred_version.version for g in groups.groups}
    assert names["apps"] == "v1"
    assert names["autoscaling"] == "v2"
    assert names["metrics.k8s.io"] == "v1beta1"
    assert {"batch", "networking.k8s.io", "discovery.k8s.io", "policy", "rbac.authorization.k8s.io"} <= set(
        names
    )
    assert "storage.k8s.io" in names


def test_simulator_discovery_core_versions_and_resources(oom):
    api = api_client(oom.url)

    versions = client.CoreApi(api).get_api_versions()
    resources = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    apps = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}

    assert versions.versions == ["v1"]
    assert resources["pods"].namespaced is True
    assert resources["nodes"].namespaced is False
    assert resources["pods"].verbs == ["get", "list", "watch"]
    assert "pods/log" in resources
    assert apps["deployments"].kind == "Deployment"


def test_simulator_version_comes_from_capture(oom):
    version = client.VersionApi(api_client(oom.url)).get_code()

    assert version.git_version == cluster_json(OOM)["x-capture"]["kubernetesVersion"]
    assert (version.major, version.minor) == ("1", "29+")


def test_simulator_metrics_served_only_when_scenario_has_them(oom, pvc):
    metrics = client.CustomObjectsApi(api_client(oom.url)).list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", "search", "pods"
    )
    groups = {g.name for g in client.ApisApi(api_client(pvc.url)).get_api_versions().groups}

    assert metrics["kind"] == "PodMetricsList"
    assert {m["metadata"]["name"] for m in metrics["items"]} >= {OOM_POD}
    assert "metrics.k8s.io" not in groups
    with pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api_client(pvc.url)).list_cluster_custom_object(
            "metrics.k8s.io", "v1beta1", "pods"
        )
    assert caught.value.status == 404


# ---------------------------------------------------------------- every kind through the typed client


def typed_lists(api: client.ApiClient) -> dict[str, object]:
    """Every all-namespaces / cluster-scoped list call the agent may make, by kind."""
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    net, rbac, storage = (
        client.NetworkingV1Api(api),
        client.RbacAuthorizationV1Api(api),
        client.StorageV1Api(api),
    )
    return {
        "Pod": core.list_pod_for_all_namespaces,
        "Service": core.list_service_for_all_namespaces,
        "Endpoints": core.list_endpoints_for_all_namespaces,
        "ConfigMap": core.list_config_map_for_all_namespaces,
        "PersistentVolumeClaim": core.list_persistent_volume_claim_for_all_namespaces,
        "PersistentVolume": core.list_persistent_volume,
        "Node": core.list_node,
        "Namespace": core.list_namespace,
        "Event": core.list_event_for_all_namespaces,
        "ServiceAccount": core.list_service_account_for_all_namespaces,
        "ResourceQuota": core.list_resource_quota_for_all_namespaces,
        "LimitRange": core.list_limit_range_for_all_namespaces,
        "Deployment": apps.list_deployment_for_all_namespaces,
        "ReplicaSet": apps.list_replica_set_for_all_namespaces,
        "StatefulSet": apps.list_stateful_set_for_all_namespaces,
        "DaemonSet": apps.list_daemon_set_for_all_namespaces,
        "ControllerRevision": apps.list_controller_revision_for_all_namespaces,
        "Job": batch.list_job_for_all_namespaces,
        "CronJob": batch.list_cron_job_for_all_namespaces,
        "Ingress": net.list_ingress_for_all_namespaces,
        "NetworkPolicy": net.list_network_policy_for_all_namespaces,
        "EndpointSlice": client.DiscoveryV1Api(api).list_endpoint_slice_for_all_namespaces,
        "HorizontalPodAutoscaler": client.AutoscalingV2Api(
            api
        ).list_horizontal_pod_autoscaler_for_all_namespaces,
        "PodDisruptionBudget": client.PolicyV1Api(api).list_pod_disruption_budget_for_all_namespaces,
        "Role": rbac.list_role_for_all_namespaces,
        "RoleBinding": rbac.list_role_binding_for_all_namespaces,
        "ClusterRole": rbac.list_cluster_role,
        "ClusterRoleBinding": rbac.list_cluster_role_binding,
        "StorageClass": storage.list_storage_class,
        "events.k8s.io/Event": client.EventsV1Api(api).list_event_for_all_namespaces,
        "autoscaling/v1/HorizontalPodAutoscaler": (
            client.AutoscalingV1Api(api).list_horizontal_pod_autoscaler_for_all_namespaces
        ),
    }


def project_scenarios() -> list[Path]:
    root = REPO / "agent" / "simulator" / "scenarios"
    return sorted(d for d in root.iterdir() if (d / "cluster.json").is_file()) if root.is_dir() else []


@pytest.mark.parametrize(
    "folder",
    [pytest.param(lambda: example(OOM), id=OOM), pytest.param(lambda: example(PVC), id=PVC)]
    + [pytest.param(lambda d=d: d, id=f"project:{d.name}") for d in project_scenarios()],
)
def test_simulator_every_object_deserialises_through_the_typed_client(folder):
    scenario = folder()
    items = json.loads((scenario / "cluster.json").read_text())["items"]
    with start_simulator(scenario) as sim:
        api = api_client(sim.url)
        listed = {kind: call().items for kind, call in typed_lists(api).items()}
        metrics = {
            plural: client.CustomObjectsApi(api).list_cluster_custom_object(
                "metrics.k8s.io", "v1beta1", plural
            )
            for plural in ("pods", "nodes")
            if any(i["kind"] in ("PodMetrics", "NodeMetrics") for i in items)
        }

    served = {
        (kind, o.metadata.namespace, o.metadata.name) for kind, objs in listed.items() for o in objs
    } | {
        (
            "PodMetrics" if plural == "pods" else "NodeMetrics",
            m["metadata"].get("namespace"),
            m["metadata"]["name"],
        )
        for plural, document in metrics.items()
        for m in document["items"]
    }
    typed_kinds = set(typed_lists(client.ApiClient())) | {"PodMetrics", "NodeMetrics"}
    expected = {
        (i["kind"], i["metadata"].get("namespace"), i["metadata"]["name"])
        for i in items
        if i["kind"] in typed_kinds
    }
    assert expected <= served
    assert len(listed["events.k8s.io/Event"]) == len(listed["Event"])


# ---------------------------------------------------------------- conversions and derived objects


def test_simulator_derives_namespaces_from_objects(pvc):
    names = [n.metadata.name for n in client.CoreV1Api(api_client(pvc.url)).list_namespace().items]

    assert "ledger" in names
    assert {"default", "kube-system"} <= set(names)
    assert client.CoreV1Api(api_client(pvc.url)).read_namespace("ledger").status.phase == "Active"


def test_simulator_serves_hpa_in_v1_and_v2_and_events_in_events_api(tmp_path):
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
        "status": {"currentReplicas": 5, "desiredReplicas": 5},
    }  # fmt: skip
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "web"},
        "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "web", "namespace": "web"},
        "reason": "FailedGetResourceMetric",
        "message": "missing request for cpu",
        "type": "Warning",
        "count": 3,
        "firstTimestamp": "2025-01-01T00:00:00Z",
        "lastTimestamp": "2025-01-01T00:05:00Z",
        "eventTime": None,
    }
    with start_simulator(write_scenario(tmp_path / "s", [hpa, event])) as sim:
        api = api_client(sim.url)
        v1 = client.AutoscalingV1Api(api).read_namespaced_horizontal_pod_autoscaler("web", "web")
        v2 = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler("web", "web")
        events = client.EventsV1Api(api).list_namespaced_event("web", field_selector="regarding.name=web")

    assert v1.spec.target_cpu_utilization_percentage == 70
    assert v2.spec.metrics[0].resource.target.average_utilization == 70
    assert [(e.note, e.deprecated_count) for e in events.items] == [("missing request for cpu", 3)]


def test_simulator_serves_unknown_kinds_under_a_guessed_plural(tmp_path):
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web-tls", "namespace": "web"},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
    }
    with start_simulator(write_scenario(tmp_path / "s", [certificate])) as sim:
        found = client.CustomObjectsApi(api_client(sim.url)).get_namespaced_custom_object(
            "cert-manager.io", "v1", "web", "certificates", "web-tls"
        )

    assert found["status"]["conditions"][0]["status"] == "False"


# ---------------------------------------------------------------- lifecycle, control, auth


def test_simulator_load_swaps_the_whole_cluster(oom):
    core = client.CoreV1Api(api_client(oom.url))
    page = core.list_pod_for_all_namespaces(limit=1)

    oom.load(example(PVC))

    assert {p.metadata.namespace for p in core.list_pod_for_all_namespaces().items} == {"ledger"}
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod(OOM_POD, "search")
    assert caught.value.status == 404
    with pytest.raises(ApiException) as expired:
        core.list_pod_for_all_namespaces(limit=1, _continue=page.metadata._continue)
    assert expired.value.status == 410


def test_simulator_load_of_a_bad_folder_keeps_the_current_cluster(oom, tmp_path):
    with pytest.raises(ScenarioError):
        oom.load(tmp_path)

    assert oom.cluster.name == OOM


def test_simulator_empty_serves_an_empty_cluster():
    with start_simulator(None) as sim:
        core = client.CoreV1Api(api_client(sim.url))
        pods = core.list_pod_for_all_namespaces().items
        namespaces = {n.metadata.name for n in core.list_namespace().items}
        status, state = http(f"{sim.url}/_simulator/state")

    assert pods == []
    assert "default" in namespaces
    assert status == 200
    assert state["scenario"] is None


def test_simulator_control_endpoint_loads_and_reports_state(oom):
    status, state = http(f"{oom.url}/_simulator/load", "POST", {"scenario": str(example(PVC).resolve())})

    assert status == 200
    assert state["scenario"] == PVC
    assert state["objects"]["StorageClass"] == 2
    assert http(f"{oom.url}/_simulator/state")[1]["scenario"] == PVC


@pytest.mark.parametrize("scenario", ["relative/path", "/nonexistent/folder", None])
def test_simulator_control_endpoint_refuses_bad_paths(oom, scenario):
    status, body = http(f"{oom.url}/_simulator/load", "POST", {"scenario": scenario})

    assert status == 400
    assert body["kind"] == "Status"
    assert http(f"{oom.url}/_simulator/state")[1]["scenario"] == OOM


def test_simulator_control_endpoint_refuses_a_folder_without_cluster_json(oom, tmp_path):
    status, _ = http(f"{oom.url}/_simulator/load", "POST", {"scenario": str(tmp_path)})

    assert status == 400


def test_simulator_token_is_required_when_configured():
    with start_simulator(example(OOM), token="s3cret") as sim:
        good = client.CoreV1Api(api_client(sim.url, "s3cret")).read_namespaced_pod(OOM_POD, "search")
        with pytest.raises(ApiException) as wrong:
            client.CoreV1Api(api_client(sim.url, "other")).read_namespaced_pod(OOM_POD, "search")
        missing, _ = http(f"{sim.url}/api/v1/namespaces/search/pods")

    assert good.metadata.name == OOM_POD
    assert wrong.value.status == 401
    assert missing == 401


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com"])
def test_simulator_refuses_non_loopback_bind(host):
    with pytest.raises(ValueError, match="loopback"):
        Simulator(None, host=host)


def test_simulator_binds_ipv6_loopback():
    try:
        sim = start_simulator(None, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with sim:
        status, _ = http(f"{sim.url}/version")

    assert sim.url.startswith("http://[::1]:")
    assert status == 200


def test_simulator_cli_prints_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.simulator", "--scenario", str(example(OOM))],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(process.stdout.readline())["url"]
        status, version = http(f"{url}/version")
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert url.startswith("http://127.0.0.1:")
    assert (status, version["gitVersion"]) == (200, "v1.29.8-eks-a737599")
    assert code == 0


def test_simulator_cli_refuses_non_loopback_host():
    result = subprocess.run(
        [sys.executable, "-m", "agent.simulator", "--host", "0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "loopback" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------- kubectl tables


def table_request(url: str) -> dict:
    request = urllib.request.Request(url)
    request.add_header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_simulator_table_shows_pod_status_and_restarts_as_of_capture(oom):
    body = table_request(f"{oom.url}/api/v1/namespaces/search/pods")

    columns = [c["name"] for c in body["columnDefinitions"]]
    rows = {r["cells"][0]: dict(zip(columns, r["cells"], strict=True)) for r in body["rows"]}
    crashing = rows["search-indexer-7f8c9d6b5-h7m3p"]
    assert body["kind"] == "Table"
    assert (crashing["Ready"], crashing["Status"]) == ("0/1", "CrashLoopBackOff")
    # lastState.terminated.finishedAt is 10:30:41, capture time 10:35:00
    assert crashing["Restarts"] == "7 (4m19s ago)"
    assert rows["search-api-6c8d7f9b5-vktw7"]["Status"] == "Running"
    assert body["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_simulator_table_for_a_single_object_and_a_kind_without_printer(pvc):
    one = table_request(f"{pvc.url}/api/v1/namespaces/ledger/persistentvolumeclaims/data-ledger-db-0")
    generic = table_request(f"{pvc.url}/apis/apps/v1/namespaces/ledger/controllerrevisions")

    cells = dict(zip([c["name"] for c in one["columnDefinitions"]], one["rows"][0]["cells"], strict=True))
    assert (cells["Status"], cells["StorageClass"]) == ("Pending", "gp3-encrypted")
    assert [c["name"] for c in generic["columnDefinitions"]] == ["Name", "Age"]
    assert generic["rows"] == []


def test_simulator_odd_object_answers_500_and_keeps_serving(tmp_path):
    odd = pod("odd", containerStatuses=[{"name": "app", "restartCount": "many"}])
    with start_simulator(write_scenario(tmp_path / "s", [odd])) as sim:
        with pytest.raises(urllib.error.HTTPError) as caught:
            table_request(f"{sim.url}/api/v1/namespaces/web/pods")
        status, _ = http(f"{sim.url}/api/v1/namespaces/web/pods/odd")

    assert caught.value.code == 500
    assert json.loads(caught.value.read())["reason"] == "InternalError"
    assert status == 200
