"""Choosing the target among the alerts of a group (small hand-written alerts, no cluster)."""

from __future__ import annotations

from typing import Any

from investigations.engine.target import alert_candidates, target_candidates, target_from_fields


def alert(alertname: str, *, status: str = "firing", source: str = "alertmanager", **fields: Any) -> dict:
    """A signal-like mapping, as the runner builds it; `labels` and the normalized fields as given."""
    labels = fields.pop("labels", {})
    extraction = {key: "label" for key in ("namespace", "pod", "workload", "node") if fields.get(key)}
    if fields.get("workload"):
        extraction["workload_kind"] = "label"
    extraction.update(fields.pop("extraction", {}))
    return {
        "source": source,
        "status": status,
        "alertname": alertname,
        "labels": {"alertname": alertname, **labels},
        "extraction": extraction,
        **fields,
    }


def group(first: dict, *others: dict) -> dict:
    return {**first, "group": list(others)}


def chosen(fields: dict) -> tuple[str, str, str, int]:
    target = target_candidates(fields)[0]
    return target.kind, target.namespace, target.name, target.alert_index


CRASHLOOP_WMS = alert(
    "KubePodCrashLooping",
    labels={"namespace": "wms", "pod": "label-printer-5b8f6c7d94-7vhcn", "job": "kube-state-metrics"},
    namespace="wms",
    pod="label-printer-5b8f6c7d94-7vhcn",
)


def test_target_comes_from_the_alert_that_names_one_when_the_first_names_none():
    fields = group(alert("CoreDNSDown", labels={"job": "coredns"}), CRASHLOOP_WMS)

    assert chosen(fields) == ("Pod", "wms", "label-printer-5b8f6c7d94-7vhcn", 1)


def test_target_of_an_alert_naming_a_resource_stays_that_resource_whatever_the_group_says():
    own = alert("KubeDeploymentReplicasMismatch", labels={"deployment": "pos-sync"}, namespace="pos")
    fields = group(own, CRASHLOOP_WMS, CRASHLOOP_WMS)

    assert chosen(fields) == ("Deployment", "pos", "pos-sync", 0)


def test_target_prefers_a_resource_of_the_group_over_the_alerts_namespace_alone():
    own = alert("ArgoCDApplicationNotHealthy", labels={"namespace": "gitops"}, namespace="gitops")
    fields = group(own, CRASHLOOP_WMS)

    assert chosen(fields) == ("Pod", "wms", "label-printer-5b8f6c7d94-7vhcn", 1)


def test_target_prefers_the_namespace_most_alerts_of_the_group_name():
    coredns_pod = alert(
        "KubePodCrashLooping",
        labels={"namespace": "kube-system", "pod": "coredns-ccb96694c-v8xqm"},
        namespace="kube-system",
        pod="coredns-ccb96694c-v8xqm",
    )
    coredns = alert(
        "KubeDeploymentReplicasMismatch",
        labels={"namespace": "kube-system", "deployment": "coredns"},
        namespace="kube-system",
        workload="coredns",
        workload_kind="Deployment",
    )
    fields = group(alert("CoreDNSDown", labels={"job": "coredns"}), CRASHLOOP_WMS, coredns_pod, coredns)

    assert chosen(fields) == ("Pod", "kube-system", "coredns-ccb96694c-v8xqm", 2)


def test_target_is_never_the_monitoring_stacks_own_pod_when_another_alert_names_a_workload():
    node_exporter = alert(
        "NodeFilesystemSpaceFillingUp",
        labels={"namespace": "monitoring", "pod": "prometheus-node-exporter-5xk2n", "job": "node-exporter"},
        namespace="monitoring",
        pod="prometheus-node-exporter-5xk2n",
    )
    fields = group(node_exporter, CRASHLOOP_WMS)

    assert chosen(fields) == ("Pod", "wms", "label-printer-5b8f6c7d94-7vhcn", 1)
    # Alone, the monitoring pod is all there is to look at.
    assert chosen(node_exporter) == ("Pod", "monitoring", "prometheus-node-exporter-5xk2n", 0)


def test_target_of_a_node_alert_scraped_by_kube_state_metrics_is_the_node_not_its_pod():
    fields = alert(
        "KubeNodeNotReady",
        labels={
            "namespace": "monitoring",
            "pod": "kube-state-metrics-6d8f4b7c9-lx2mq",
            "node": "ip-10-0-1-5",
        },
        namespace="monitoring",
        pod="kube-state-metrics-6d8f4b7c9-lx2mq",
        node="ip-10-0-1-5",
    )

    assert chosen(fields) == ("Node", "monitoring", "ip-10-0-1-5", 0)


def test_target_takes_a_missing_namespace_from_the_group():
    service_only = alert("CheckoutPaymentFailuresHigh", labels={"service": "checkout-api"})
    namespace_only = alert(
        "HTTP5xxRatioHigh", labels={"exported_namespace": "storefront"}, namespace="storefront"
    )
    target = target_candidates(group(service_only, namespace_only))[0]

    assert (target.kind, target.namespace, target.name) == ("Service", "storefront", "checkout-api")
    assert "storefront" in target.note


def test_target_firing_alerts_come_before_resolved_ones():
    resolved = alert(
        "KubePodCrashLooping", status="resolved", labels={"pod": "old-1"}, namespace="a", pod="old-1"
    )
    firing = alert("KubePodCrashLooping", labels={"pod": "new-1"}, namespace="b", pod="new-1")

    assert chosen(group(alert("Vague"), resolved, firing)) == ("Pod", "b", "new-1", 2)


def test_target_words_are_the_groups_with_the_chosen_alerts_first():
    throttled = alert(
        "CPUThrottlingHigh",
        labels={"pod": "bff-1"},
        namespace="storefront",
        pod="bff-1",
        summary="Processes experience elevated CPU throttling.",
    )
    fields = group(alert("Checkout p99 latency above 1s", summary="p99 is 2.41s"), throttled)
    target = target_candidates(fields)[0]

    assert target.alertname == "CPUThrottlingHigh"
    assert target.text.startswith("Processes experience elevated CPU throttling.")
    assert "p99 is 2.41s" in target.text


def test_datadog_service_tag_is_an_apm_service_and_kube_service_a_kubernetes_one():
    apm = alert(
        "claims-processor restarting",
        source="datadog",
        labels={"kube_namespace": "claims", "kube_deployment": "claims-processor", "service": "claims"},
        namespace="claims",
        workload="claims-processor",
        workload_kind="Deployment",
    )
    assert chosen(apm) == ("Deployment", "claims", "claims-processor", 0)

    kube = alert(
        "web 5xx",
        source="datadog",
        labels={"kube_namespace": "web", "kube_service": "frontend"},
        namespace="web",
    )
    assert chosen(kube) == ("Service", "web", "frontend", 0)


def test_target_reads_an_ingress_the_alert_text_names_when_nothing_else_does():
    fields = alert(
        "invoice-portal-login-canary-failing",
        source="cloudwatch",
        summary="Synthetics login check failing (EKS billing, namespace invoicing, ingress invoice-portal).",
        namespace="invoicing",
        extraction={"namespace": "text"},
    )
    target = target_from_fields(fields)

    assert (target.kind, target.namespace, target.name, target.method) == (
        "Ingress",
        "invoicing",
        "invoice-portal",
        "text",
    )
    assert target_from_fields(alert("x", summary="ingress controller returns 503")).method == "none"


def test_node_of_a_pod_is_context_not_a_candidate():
    fields = alert(
        "Pod is CrashLoopBackOff",
        source="datadog",
        labels={"kube_namespace": "pricing", "pod_name": "engine-1"},
        namespace="pricing",
        pod="engine-1",
        node="gke-pool-1",
    )

    assert [t.kind for t in alert_candidates(fields)] == ["Pod"]


def test_target_of_a_group_naming_nothing_says_so():
    target = target_candidates(group(alert("BlackboxProbeFailed"), alert("RabbitMQQueueNoConsumers")))[0]

    assert (target.known, target.namespace, target.method) == (False, "", "none")
