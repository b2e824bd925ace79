"""Workload-family analyzers (app-crash, config, probes, image pulls, CPU) on every scenario, offline.

1. every scenario of the family passes;
2. generality: each scenario still gets the right category (and passes) after its namespace, object
   names and the telling values are renamed consistently in alert.json, cluster.json and expected.json;
3. on every other scenario, the family's findings stay below the threshold that could win (≤ 0.6,
   and below 0.35 on the `unknown` one).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from investigations.engine.analysis import MIN_CONFIDENCE, run_analyzers
from investigations.engine.context import Context
from investigations.engine.offline import alert_fields
from investigations.engine.snapshot import load_scenario, view_from_cluster_json
from investigations.engine.target import target_from_fields
from investigations.engine.topology import build_topology
from tests.investigations.engine.harness import by_category, describe, run, scenario_dirs

FAMILY = (
    "app-crash",
    "missing-config-key",
    "bad-config-value",
    "liveness-probe-misconfigured",
    "readiness-probe-misconfigured",
    "image-pull-error",
    "cpu-throttled",
)
FAMILY_SCENARIOS = [folder for category in FAMILY for folder in by_category(category)]


def _expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text())


def _findings(folder: Path):
    alert, cluster, _expected_json = load_scenario(folder)
    view = view_from_cluster_json(cluster)
    target = target_from_fields(alert_fields(alert))
    ctx = Context(view, target, build_topology(view, target))
    return run_analyzers(ctx).findings


def renamed(folder: Path, tmp_path: Path, replacements: dict[str, str]) -> Path:
    """A copy of a scenario with strings replaced consistently in all three files (longest first)."""
    target = tmp_path / f"{folder.name}-renamed"
    target.mkdir()
    for name in ("alert.json", "cluster.json", "expected.json"):
        text = (folder / name).read_text()
        for old in sorted(replacements, key=len, reverse=True):
            text = text.replace(old, replacements[old])
        (target / name).write_text(text)
    return target


def test_every_family_category_has_a_scenario():
    covered = {_expected(folder)["root_cause_category"] for folder in FAMILY_SCENARIOS}
    assert covered == set(FAMILY)


@pytest.mark.parametrize("folder", FAMILY_SCENARIOS, ids=lambda d: d.name)
def test_family_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    cause = result["root_cause"]
    assert cause["evidence"], "the explanation cites evidence"
    kinds = {r["kind"] for r in result["recommendations"]}
    assert {"immediate", "preventive"} <= kinds
    assert any(r["commands"] for r in result["recommendations"] if r["kind"] == "immediate")
    for recommendation in result["recommendations"]:
        for command in recommendation["commands"]:
            assert command.startswith("kubectl "), command


# Per scenario: what to rename (namespace, workload/config names, the telling values).
MUTATIONS = {
    "createcontainerconfigerror-missing-configmap-key": {
        "checkout-settings": "worker-env",
        "checkout": "orders-eu",
        "PAYMENT_GATEWAY_URL": "PSP_ENDPOINT",
        "PAYMENTS_GATEWAY_URL": "PSP_ENDPOINTS",
    },
    "createcontainerconfigerror-secret-not-found-externalsecret-denied": {
        "recs-feature-store-creds": "fs-credentials",
        "recs": "reco",
    },
    "crashloop-configmap-wrong-db-host": {
        "inventory-api-config": "stock-settings",
        "inventory": "stock",
        "DB_HOST": "DATABASE_HOST",
    },
    "crashloop-points-api-sslmode-require-db-without-tls": {
        "points-api-db": "ledger-db-env",
        "loyalty": "bonus",
        "points-api": "bonus-points",
        "PGSSLMODE": "DB_SSLMODE",
    },
    "crashloop-fraud-scorer-nil-pointer-panic-after-release": {
        "fraud-scorer": "risk-engine",
        "fraud": "risk",
        "DeviceFingerprintRule": "MerchantCategoryRule",
        "2.8.0": "5.1.0",
    },
    "crashloop-invoice-service-liveness-kills-slow-startup": {
        "invoice-service": "ledger-core",
        "InvoiceServiceApplication": "LedgerCoreApplication",
        "billing": "finance",
    },
    "rollout-stuck-catalog-api-readiness-probe-wrong-port": {
        "catalog-api": "product-api",
        "catalog": "products",
        "8081": "7443",
    },
    "imagepullbackoff-query-gateway-tag-not-found": {
        "query-gateway": "search-front",
        "3.4.1": "3.9.7",
    },
    "cpu-throttled-pricing-engine-limit-cut": {
        "pricing-engine": "tariff-svc",
        "pricing": "tariffs",
    },
}


@pytest.mark.parametrize("folder", FAMILY_SCENARIOS, ids=lambda d: d.name)
def test_generality_after_renaming(folder, tmp_path):
    replacements = MUTATIONS.get(folder.name)
    if replacements is None:
        pytest.skip("no mutation written for this scenario yet")
    mutated = renamed(folder, tmp_path, replacements)
    original = (folder / "cluster.json").read_text()
    changed = (mutated / "cluster.json").read_text()
    assert original != changed
    for old in replacements:
        assert old not in changed or any(old in new for new in replacements.values())
    result, outcome = run(mutated)
    assert result["root_cause"]["category"] == _expected(folder)["root_cause_category"]
    assert outcome.outcome == "pass", describe(mutated, result, outcome)


def test_missing_key_without_similar_key(tmp_path):
    """The ConfigMap lacks the key and has nothing close to it: still missing-config-key on the ConfigMap."""
    folder = next(d for d in by_category("missing-config-key") if "configmap" in d.name)
    mutated = renamed(folder, tmp_path, {"PAYMENTS_GATEWAY_URL": "UPSTREAM"})
    result, _outcome = run(mutated)
    cause = result["root_cause"]
    assert cause["category"] == "missing-config-key"
    assert cause["resource"]["kind"] == "ConfigMap"


def test_wrong_host_that_exists_is_not_bad_config(tmp_path):
    """The configured host is a real Service: a DNS failure is no wrong value; bad-config-value is quiet."""
    folder = next(d for d in by_category("bad-config-value") if "db-host" in d.name)
    cluster = json.loads((folder / "cluster.json").read_text())
    service = next(
        o
        for o in cluster["items"]
        if o["kind"] == "Service" and o["metadata"]["name"] == "inventory-db"  # the existing one
    )
    twin = json.loads(json.dumps(service))
    twin["metadata"]["name"] = "inventory-db-primary"
    twin["metadata"]["uid"] = "00000000-0000-0000-0000-000000000001"
    cluster["items"].append(twin)
    target = tmp_path / "dns-outage"
    target.mkdir()
    for name in ("alert.json", "expected.json"):
        (target / name).write_text((folder / name).read_text())
    (target / "cluster.json").write_text(json.dumps(cluster))
    assert not [f for f in _findings(target) if f.category == "bad-config-value"]
    crash = [f for f in _findings(target) if f.category == "app-crash"]
    assert all(f.confidence < MIN_CONFIDENCE for f in crash), "a DNS error is not a code bug"


OTHER_SCENARIOS = [d for d in scenario_dirs() if _expected(d)["root_cause_category"] not in FAMILY]


@pytest.mark.parametrize("folder", OTHER_SCENARIOS, ids=lambda d: d.name)
def test_family_stays_quiet_elsewhere(folder):
    """On scenarios of other families, our findings never reach a level that could win (≤ 0.6)."""
    expected = _expected(folder)["root_cause_category"]
    ceiling = MIN_CONFIDENCE if expected == "unknown" else 0.6
    loud = [
        (f.category, f.confidence, f.summary)
        for f in _findings(folder)
        if f.category in FAMILY and f.confidence >= ceiling
    ]
    assert not loud, loud


@pytest.mark.parametrize("folder", FAMILY_SCENARIOS, ids=lambda d: d.name)
def test_no_wrong_family_finding_beats_the_right_one(folder):
    expected = _expected(folder)["root_cause_category"]
    findings = _findings(folder)
    right = max((f.confidence for f in findings if f.category == expected), default=0.0)
    wrong = [(f.category, f.confidence) for f in findings if f.category in FAMILY and f.category != expected]
    assert all(confidence < right for _category, confidence in wrong), wrong


# -- the same mechanisms with different evidence shapes ------------------------------------------


def edited(folder: Path, tmp_path: Path, change) -> Path:
    """A copy of a scenario after `change(alert, cluster)` edited the parsed JSON in place."""
    alert, cluster, expected = load_scenario(folder)
    change(alert, cluster)
    target = tmp_path / f"{folder.name}-edited"
    target.mkdir()
    (target / "alert.json").write_text(json.dumps(alert))
    (target / "cluster.json").write_text(json.dumps(cluster))
    (target / "expected.json").write_text(json.dumps(expected))
    return target


def _scenario(category: str, hint: str) -> Path:
    return next(d for d in by_category(category) if hint in d.name)


def _pods(cluster: dict, prefix: str = "") -> list[dict]:
    return [o for o in cluster["items"] if o["kind"] == "Pod" and o["metadata"]["name"].startswith(prefix)]


def _events_of(cluster: dict, reason: str) -> list[dict]:
    return [o for o in cluster["items"] if o["kind"] == "Event" and o.get("reason") == reason]


def _cause(folder: Path) -> dict:
    result, _outcome = run(folder)
    return result["root_cause"]


def test_image_pull_denied_by_registry(tmp_path):
    def change(_alert, cluster):
        for event in _events_of(cluster, "Failed"):
            if "not found" in event["message"]:
                event["message"] = event["message"].split(": rpc error")[0] + (
                    ": rpc error: code = Unknown desc = failed to authorize: 401 Unauthorized"
                )

    cause = _cause(edited(_scenario("image-pull-error", "tag-not-found"), tmp_path, change))
    assert cause["category"] == "image-pull-error"
    assert "credentials" in cause["summary"]


def test_secret_missing_for_a_volume_mount(tmp_path):
    """FailedMount 'secret "X" not found' while the pod sits in ContainerCreating."""

    def change(_alert, cluster):
        for pod in _pods(cluster):
            for status in pod["status"].get("containerStatuses") or []:
                if "waiting" in status.get("state", {}):
                    status["state"] = {"waiting": {"reason": "ContainerCreating"}}
        for event in _events_of(cluster, "Failed"):
            if "not found" in event["message"]:
                event["reason"] = "FailedMount"
                name = event["message"].split('"')[1]
                event["message"] = f'MountVolume.SetUp failed for volume "creds" : secret "{name}" not found'

    folder = _scenario("missing-config-key", "secret-not-found")
    cause = _cause(edited(folder, tmp_path, change))
    assert cause["category"] == "missing-config-key"
    primary = next(r for r in _expected(folder)["root_cause_resources"] if r["role"] == "primary")
    assert cause["resource"]["name"] == primary["name"]
    assert "ContainerCreating" in cause["explanation"]


def test_liveness_without_a_measured_startup_time(tmp_path):
    """No pod ever logged its startup time: still the liveness probe, from the kills and the clean log."""

    def change(_alert, cluster):
        for key in list(cluster.get("logs") or {}):
            cluster["logs"][key] = "\n".join(
                line for line in cluster["logs"][key].splitlines() if " seconds (" not in line
            )

    cause = _cause(edited(_scenario("liveness-probe-misconfigured", "slow-startup"), tmp_path, change))
    assert cause["category"] == "liveness-probe-misconfigured"
    assert cause["confidence"] >= 0.7


def test_cpu_throttling_without_the_alert_text(tmp_path):
    def change(alert, _cluster):
        for item in alert["alerts"]:
            item["annotations"] = {"summary": "latency above SLO"}
            item["labels"]["alertname"] = "LatencyHigh"

    cause = _cause(edited(_scenario("cpu-throttled", "limit-cut"), tmp_path, change))
    assert cause["category"] == "cpu-throttled"


def test_python_traceback_is_an_app_crash(tmp_path):
    trace = (
        "INFO starting worker\nTraceback (most recent call last):\n"
        '  File "/app/worker/score.py", line 88, in score\n    ratio = hits / total\n'
        "ZeroDivisionError: division by zero\n"
    )

    def change(_alert, cluster):
        for key in list(cluster.get("previous_logs") or {}):
            cluster["previous_logs"][key] = trace

    cause = _cause(edited(_scenario("app-crash", "panic"), tmp_path, change))
    assert cause["category"] == "app-crash"
    assert "ZeroDivisionError" in cause["explanation"]
    assert 0.35 <= cause["confidence"] <= 0.6


def test_app_crash_stands_down_on_a_connection_error(tmp_path):
    def change(_alert, cluster):
        for key in list(cluster.get("previous_logs") or {}):
            cluster["previous_logs"][key] = (
                "FATAL could not connect to broker: dial tcp 10.0.0.7:9092: connect: connection refused\n"
            )

    findings = _findings(edited(_scenario("app-crash", "panic"), tmp_path, change))
    assert all(f.confidence < MIN_CONFIDENCE for f in findings if f.category == "app-crash")


def test_readiness_wrong_path(tmp_path):
    """The probe reaches the app on the right port but asks a path it does not serve (404)."""

    def change(_alert, cluster):
        for obj in cluster["items"]:
            if obj["kind"] in ("Deployment", "ReplicaSet"):
                for container in obj["spec"]["template"]["spec"]["containers"]:
                    probe = container.get("readinessProbe") or {}
                    if probe.get("httpGet", {}).get("port") == 8081:
                        probe["httpGet"].update(port="http", path="/health/ready")
        for event in _events_of(cluster, "Unhealthy"):
            if "8081" in event["message"]:
                event["message"] = "Readiness probe failed: HTTP probe failed with statuscode: 404"

    cause = _cause(edited(_scenario("readiness-probe-misconfigured", "wrong-port"), tmp_path, change))
    assert cause["category"] == "readiness-probe-misconfigured"
    assert "404" in cause["explanation"]


def test_readiness_503_is_not_a_probe_problem(tmp_path):
    """HTTP 503 means the app itself says it is not ready: not readiness-probe-misconfigured."""

    def change(_alert, cluster):
        for event in _events_of(cluster, "Unhealthy"):
            if "8081" in event["message"]:
                event["message"] = "Readiness probe failed: HTTP probe failed with statuscode: 503"
        for obj in cluster["items"]:
            if obj["kind"] in ("Deployment", "ReplicaSet"):
                for container in obj["spec"]["template"]["spec"]["containers"]:
                    probe = container.get("readinessProbe") or {}
                    if probe.get("httpGet", {}).get("port") == 8081:
                        probe["httpGet"]["port"] = "http"

    findings = _findings(edited(_scenario("readiness-probe-misconfigured", "wrong-port"), tmp_path, change))
    assert not [f for f in findings if f.category == "readiness-probe-misconfigured"]


def test_app_log_naming_a_missing_setting(tmp_path):
    """The program exits on a setting nobody provides: missing-config-key, not app-crash."""

    def change(_alert, cluster):
        for key in list(cluster.get("previous_logs") or {}):
            cluster["previous_logs"][key] = (
                "INFO starting\nFATAL config: required environment variable RULES_BUCKET is not set\n"
            )

    findings = _findings(edited(_scenario("app-crash", "panic"), tmp_path, change))
    best = max(findings, key=lambda f: f.confidence)
    assert best.category == "missing-config-key"
    assert "RULES_BUCKET" in best.explanation
    assert all(f.confidence < MIN_CONFIDENCE for f in findings if f.category == "app-crash")
