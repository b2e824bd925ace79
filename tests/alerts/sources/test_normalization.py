"""Shared normalization rules: timestamps, severities, fingerprints, links, Kubernetes fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.sources.base import NormalizedAlert, PayloadError
from alerts.sources.kubernetes_fields import apply_kubernetes_fields, from_prometheus_labels, from_text
from alerts.sources.normalization import (
    content_hash,
    normalize_severity,
    parse_epoch_millis,
    parse_timestamp,
    source_fingerprint,
    web_links,
)
from alerts.sources.validation import id_text, string_map


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:58:07Z", datetime(2025, 3, 14, 9, 58, 7, tzinfo=UTC)),
        ("2025-03-14T09:58:07.521380417Z", datetime(2025, 3, 14, 9, 58, 7, 521380, tzinfo=UTC)),
        ("2025-03-14T09:58:07.5+02:00", datetime(2025, 3, 14, 7, 58, 7, 500000, tzinfo=UTC)),
        ("2025-03-14T09:58:41.872+0000", datetime(2025, 3, 14, 9, 58, 41, 872000, tzinfo=UTC)),
        ("2025-03-14T09:58:41-0530", datetime(2025, 3, 14, 15, 28, 41, tzinfo=UTC)),
        ("2025-03-14 09:58:07", datetime(2025, 3, 14, 9, 58, 7, tzinfo=UTC)),
        ("2025-03-14t09:58:07z", datetime(2025, 3, 14, 9, 58, 7, tzinfo=UTC)),
        ("2024-12-31T23:30:00-01:00", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_reads_rfc3339_variants_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text, "startsAt")
    assert parsed == expected and parsed is not None and parsed.utcoffset() is not None
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("value", [None, "", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"])
def test_parse_timestamp_treats_absent_and_go_zero_time_as_unset(value: object) -> None:
    assert parse_timestamp(value, "endsAt") is None


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2025-03-14", "2025-03-14T09:58:07.1234567891Z", "2025-03-14T25:00:00Z", "1" * 5000],
)
def test_parse_timestamp_names_the_field_when_unparsable(value: str) -> None:
    with pytest.raises(PayloadError, match=r"^alerts\[2\]\.startsAt "):
        parse_timestamp(value, "alerts[2].startsAt")


@pytest.mark.parametrize(
    "value", ["2025-02-29T00:00:00Z", "9999-12-31T23:59:59-01:00", "2025-01-01T00:00:00+24:00"]
)
def test_parse_timestamp_rejects_impossible_moments(value: str) -> None:
    with pytest.raises(PayloadError, match="StateChangeTime"):
        parse_timestamp(value, "StateChangeTime")


def test_parse_timestamp_rejects_non_strings() -> None:
    with pytest.raises(PayloadError, match="startsAt must be an RFC 3339 timestamp string, got number"):
        parse_timestamp(1741946287, "startsAt")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1741946287000, datetime(2025, 3, 14, 9, 58, 7, tzinfo=UTC)),
        ("1741946287000", datetime(2025, 3, 14, 9, 58, 7, tzinfo=UTC)),
        ("1741946287123.0", datetime(2025, 3, 14, 9, 58, 7, 123000, tzinfo=UTC)),
        (1741946287, datetime(2025, 3, 14, 9, 58, 7, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_parse_epoch_millis_reads_numbers_and_strings(value: object, expected: datetime | None) -> None:
    assert parse_epoch_millis(value, "date") == expected


@pytest.mark.parametrize("value", [True, -1, "-5", "1e3", "soon", 1e30, [1], float("nan")])
def test_parse_epoch_millis_names_the_field_when_invalid(value: object) -> None:
    with pytest.raises(PayloadError, match=r"^date "):
        parse_epoch_millis(value, "date")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("critical", "critical"),
        ("High", "critical"),
        ("error", "critical"),
        ("page", "critical"),
        ("P1", "critical"),
        ("p2", "critical"),
        (" warning ", "warning"),
        ("warn", "warning"),
        ("medium", "warning"),
        ("P3", "warning"),
        ("low", "info"),
        ("info", "info"),
        ("informational", "info"),
        ("success", "info"),
        ("P5", "info"),
        ("none", None),
        ("", None),
        ("urgent-ish", None),
        ("critical" * 10, None),
    ],
)
def test_normalize_severity_maps_known_words_only(raw: str, expected: str | None) -> None:
    assert normalize_severity(raw) == expected


def test_content_hash_is_stable_and_order_independent() -> None:
    assert content_hash({"b": "1", "a": "2"}) == content_hash({"a": "2", "b": "1"})
    assert len(content_hash("x")) == 32


def test_content_hash_accepts_lone_surrogates() -> None:
    assert content_hash({"a": "\ud800"}) != content_hash({"a": "\ud801"})


def test_source_fingerprint_hashes_only_overlong_keys() -> None:
    assert source_fingerprint("am:", "abc") == "am:abc"
    long = source_fingerprint("am:", "a" * 201)
    assert long == "am:sha256:" + content_hash("a" * 201)


def test_web_links_keeps_only_absolute_http_urls() -> None:
    links = {
        "generator": "http://prom:9090/graph?g0.expr=up",
        "runbook": "https://wiki/x",
        "js": "javascript:alert(1)",
        "data": "data:text/html,<b>",
        "relative": "/d/abc",
        "empty": "",
        "broken": "http://[::1",
    }
    assert web_links(links) == {"generator": "http://prom:9090/graph?g0.expr=up", "runbook": "https://wiki/x"}


def test_string_map_names_the_offending_key() -> None:
    with pytest.raises(PayloadError, match=r"^alerts\[3\]\.labels must be an object of strings: "):
        string_map({"ok": "x", "bad": [1]}, "alerts[3].labels")


def test_string_map_cuts_hostile_keys_in_messages() -> None:
    with pytest.raises(PayloadError) as info:
        string_map({"k" * 10_000: 1}, "labels")
    assert len(str(info.value)) < 200


def test_string_map_coerces_scalars_only_when_asked() -> None:
    assert string_map({"n": 3, "b": True, "f": 2.5}, "labels", coerce_scalars=True) == {
        "n": "3",
        "b": "true",
        "f": "2.5",
    }
    with pytest.raises(PayloadError):
        string_map({"n": 3}, "labels")


def test_id_text_accepts_strings_and_whole_numbers() -> None:
    assert [id_text("a", "id"), id_text(12, "id"), id_text(12.0, "id"), id_text(None, "id")] == [
        "a",
        "12",
        "12",
        "",
    ]


def test_from_prometheus_labels_prefers_namespace_over_exported_namespace() -> None:
    assert (
        from_prometheus_labels({"namespace": "ingress", "exported_namespace": "shop"})["namespace"]
        == "ingress"
    )
    assert from_prometheus_labels({"exported_namespace": "shop"})["namespace"] == "shop"


def test_from_prometheus_labels_takes_instance_as_node_only_when_clearly_one() -> None:
    def node(instance: str, job: str) -> str:
        return from_prometheus_labels({"instance": instance, "job": job}).get("node", "")

    assert node("ip-10-0-1-5.ec2.internal", "node-exporter") == "ip-10-0-1-5.ec2.internal"
    assert node("10.0.1.5:9100", "node-exporter") == ""
    assert node("10.0.1.5", "node-exporter") == ""
    assert node("api.example.com", "blackbox") == ""
    assert node("https://x", "kubelet") == ""


def test_from_prometheus_labels_names_the_workload_kind() -> None:
    assert from_prometheus_labels({"daemonset": "fluent-bit"}) == {
        "workload": "fluent-bit",
        "workload_kind": "DaemonSet",
    }
    assert from_prometheus_labels({"job_name": "etl-1", "cronjob": "etl"})["workload_kind"] == "CronJob"
    assert from_prometheus_labels({"workload": "w", "workload_type": "weird"})["workload_kind"] == ""


def test_from_prometheus_labels_ignores_the_scrape_job_label() -> None:
    assert from_prometheus_labels({"job": "kube-state-metrics"}) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pod payments/api-7d9f-abc", {"namespace": "payments", "pod": "api-7d9f-abc"}),
        (
            'Pod shop/cart-1 (cart) is in waiting state (reason: "CrashLoopBackOff").',
            {"namespace": "shop", "pod": "cart-1", "container": "cart"},
        ),
        ("Pod api-7d9f in namespace shop", {"pod": "api-7d9f", "namespace": "shop"}),
        ("namespace payments", {"namespace": "payments"}),
        ("pod=`web-0` container: 'nginx'", {"pod": "web-0", "container": "nginx"}),
        (
            "StatefulSet data/kafka has not matched",
            {"namespace": "data", "workload": "kafka", "workload_kind": "StatefulSet"},
        ),
        (
            "deployment checkout-web rollout stuck",
            {"workload": "checkout-web", "workload_kind": "Deployment"},
        ),
        ("Node ip-10-0-1-5.ec2.internal is unready.", {"node": "ip-10-0-1-5.ec2.internal"}),
        (
            "pod/cart-6d8f9-zz81k in namespace shop on container cart",
            {"pod": "cart-6d8f9-zz81k", "namespace": "shop", "container": "cart"},
        ),
        (
            "kubectl rollout restart deployment/checkout-web",
            {"workload": "checkout-web", "workload_kind": "Deployment"},
        ),
        (
            "see node/ip-10-0-3-3 and job/etl-1",
            {"node": "ip-10-0-3-3", "workload": "etl-1", "workload_kind": "Job"},
        ),
        ("The pod is not ready and the node has pressure", {}),
        ("job kube-state-metrics is down", {}),
        ("Pod Payments is down", {}),
        ("namespaces payments and shop", {}),
    ],
)
def test_from_text_finds_kubernetes_names_conservatively(text: str, expected: dict[str, str]) -> None:
    assert from_text([text]) == expected


def test_from_text_first_mention_wins_across_texts() -> None:
    assert from_text(["namespace one", "namespace two, pod p-1"]) == {"namespace": "one", "pod": "p-1"}


def test_from_text_reads_only_the_head_of_huge_text() -> None:
    assert from_text(["x" * 10_000 + " pod late-1"]) == {}


def test_apply_kubernetes_fields_prefers_labels_and_records_the_method() -> None:
    alert = NormalizedAlert(source="generic", fingerprint="f", status="firing", alertname="A")
    apply_kubernetes_fields(alert, {"namespace": "from-label"}, ["Pod shop/p-1 in namespace shop"])
    assert (alert.namespace, alert.pod) == ("from-label", "p-1")
    assert alert.extraction == {"namespace": "label", "pod": "text"}


def test_apply_kubernetes_fields_never_pairs_a_text_kind_with_a_label_workload() -> None:
    alert = NormalizedAlert(source="generic", fingerprint="f", status="firing", alertname="A")
    apply_kubernetes_fields(alert, {"workload": "payments-api"}, ["Deployment shop/web is stuck"])
    assert (alert.workload, alert.workload_kind, alert.namespace) == ("payments-api", "", "shop")


def test_from_prometheus_labels_reads_kubernetes_sd_opentelemetry_and_old_cadvisor_names() -> None:
    assert from_prometheus_labels(
        {"kubernetes_namespace": "identity", "kubernetes_pod_name": "keycloak-0"}
    ) == {
        "namespace": "identity",
        "pod": "keycloak-0",
    }
    assert from_prometheus_labels(
        {
            "k8s_cluster_name": "ams",
            "k8s_namespace_name": "reports",
            "k8s_pod_name": "scheduler-1",
            "k8s_container_name": "scheduler",
            "k8s_deployment_name": "scheduler",
        }
    ) == {
        "cluster": "ams",
        "namespace": "reports",
        "pod": "scheduler-1",
        "container": "scheduler",
        "workload": "scheduler",
        "workload_kind": "Deployment",
    }
    assert from_prometheus_labels({"namespace": "shop", "pod_name": "web-1", "container_name": "web"}) == {
        "namespace": "shop",
        "pod": "web-1",
        "container": "web",
    }


def test_from_prometheus_labels_takes_the_exported_subject_of_a_scraper_in_another_namespace() -> None:
    found = from_prometheus_labels(
        {
            "namespace": "monitoring",
            "pod": "kube-state-metrics-7c9d8f6b5-qq2lm",
            "container": "kube-state-metrics",
            "job": "kube-state-metrics",
            "exported_namespace": "observability",
            "exported_pod": "otel-gateway-6d9c7f8b5d-78n4w",
            "exported_container": "otelcol",
        }
    )
    assert (found["namespace"], found["pod"], found["container"]) == (
        "observability",
        "otel-gateway-6d9c7f8b5d-78n4w",
        "otelcol",
    )


def test_from_prometheus_labels_never_pairs_the_scrapers_pod_with_the_exported_namespace() -> None:
    # ingress-nginx reports on another namespace's Ingress: its own pod is not the subject.
    found = from_prometheus_labels(
        {
            "namespace": "ingress-nginx",
            "pod": "ingress-nginx-controller-5c8d66c76d-4kz8w",
            "exported_namespace": "storefront",
            "ingress": "storefront-web",
        }
    )
    assert found == {"namespace": "storefront"}
    # A monitoring component as the scrape job is sign enough.
    assert (
        from_prometheus_labels(
            {"namespace": "monitoring", "exported_namespace": "shop", "job": "kube-state-metrics"}
        )["namespace"]
        == "shop"
    )


def test_from_text_ignores_measurement_words_after_pod_and_node() -> None:
    assert from_text(["Max pod memory utilization over limit", "aws-node cannot allocate IPs"]) == {}


def test_from_text_reads_the_namespace_of_an_ingress_or_service() -> None:
    assert from_text(["p99 of the ALB for ingress catalog/catalog-api above 1.5s"]) == {
        "namespace": "catalog"
    }
    assert from_text(["svc payments/gateway has no endpoints"]) == {"namespace": "payments"}
