"""Network-family analyzers (dependency-unavailable, service-selector-mismatch, service-port-mismatch,
ingress-misconfigured, rbac-forbidden) on every scenario, on mutated copies, and as bystanders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.investigations.engine.harness import (
    PROJECT_SCENARIOS,
    by_category,
    copy_scenario,
    describe,
    edit_cluster,
    find,
    findings,
    run,
    scenario_dirs,
)

MINE = (
    "dependency-unavailable",
    "service-selector-mismatch",
    "service-port-mismatch",
    "ingress-misconfigured",
    "rbac-forbidden",
)

# Bystander ceiling: on scenarios of other categories our findings must stay at or below this.
BYSTANDER_MAX = 0.6


def _scenario(slug: str) -> Path:
    return PROJECT_SCENARIOS / slug


def _root(result: dict) -> tuple[str, tuple[str, str, str]]:
    cause = result["root_cause"]
    resource = cause["resource"]
    return cause["category"], (resource["kind"], resource["namespace"], resource["name"])


# -- every scenario of our categories ------------------------------------------------------------


@pytest.mark.parametrize(
    "folder",
    [folder for category in MINE for folder in by_category(category)],
    ids=lambda d: d.name,
)
def test_network_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    recommendations = result["recommendations"]
    assert recommendations[0]["commands"], "the first recommendation has copy-paste commands"
    assert any(r["kind"] == "preventive" for r in recommendations)
    assert result["root_cause"]["confidence"] >= 0.8
    assert result["root_cause"]["evidence"], "the finding cites evidence"


def test_every_category_has_a_scenario():
    for category in MINE:
        assert by_category(category), category


# -- bystanders: other scenarios -----------------------------------------------------------------


# The analyzer modules of the network family (an error names its analyzer `<module>.<function>`).
NETWORK_MODULES = (
    "connections",
    "service_lookup",
    "dependencies",
    "service_selector",
    "service_ports",
    "ingress",
    "rbac",
    "rbac_rules",
)


@pytest.mark.parametrize(
    "folder",
    [
        d
        for d in scenario_dirs()
        if json.loads((d / "expected.json").read_text())["root_cause_category"] not in MINE
    ],
    ids=lambda d: d.name,
)
def test_network_analyzers_stay_quiet_elsewhere(folder):
    analysis = findings(folder)
    assert not [e for e in analysis.errors if e.split(".")[0] in NETWORK_MODULES], analysis.errors
    loud = [
        (f.category, f.confidence, str(f.resource), f.summary)
        for f in analysis.findings
        if f.category in MINE and f.confidence > BYSTANDER_MAX
    ]
    assert not loud, loud


def test_unknown_scenario_not_claimed():
    for folder in by_category("unknown"):
        analysis = findings(folder)
        assert all(f.confidence < 0.35 for f in analysis.findings if f.category in MINE)


# -- generality: the same mechanisms under other names and values ---------------------------------

DEPENDENCY = "cart-api-notready-redis-scaled-to-zero"
SELECTOR = "frontend-502-payments-service-selector-mismatch"
PORT = "notify-api-service-targetport-mismatch"
INGRESS = "ingress-503-docs-backend-service-renamed"
RBAC = "model-router-notready-role-missing-list-pods"


def test_dependency_renamed_and_reached_by_dns_name(tmp_path):
    folder = copy_scenario(
        _scenario(DEPENDENCY),
        tmp_path,
        [
            ("cart-redis", "session-store"),
            ("shop-cart", "webshop"),
            ("10.43.88.150", "10.96.41.7"),
            ("6379", "6380"),
        ],
    )

    def by_dns(data):
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                "ECONNREFUSED 10.96.41.7:6380", "ECONNREFUSED session-store.webshop.svc.cluster.local:6380"
            )

    edit_cluster(folder, by_dns)
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _root(result) == ("dependency-unavailable", ("StatefulSet", "webshop", "session-store"))
    commands = " ".join(c for r in result["recommendations"] for c in r["commands"])
    assert "scale statefulset/session-store --replicas=1" in commands


def test_dependency_deployment_scaled_to_zero(tmp_path):
    """The backing workload is a Deployment (no StatefulSet), scaled to zero with kubectl scale."""
    folder = copy_scenario(_scenario(DEPENDENCY), tmp_path)

    def to_deployment(data):
        sts = find(data, "StatefulSet", "cart-redis")
        sts["kind"] = "Deployment"
        for key in ("serviceName", "podManagementPolicy", "volumeClaimTemplates", "updateStrategy"):
            sts["spec"].pop(key, None)
        for event in data["items"]:
            if event["kind"] == "Event" and event["involvedObject"].get("kind") == "StatefulSet":
                event["involvedObject"]["kind"] = "Deployment"

    edit_cluster(folder, to_deployment)
    (folder / "expected.json").write_text(
        (folder / "expected.json").read_text().replace('"StatefulSet"', '"Deployment"')
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _root(result)[1] == ("Deployment", "shop-cart", "cart-redis")


def test_dependency_with_pending_pods_defers_to_more_specific_analyzers(tmp_path):
    """Same outage, but the dependency has a replica that is Pending: our confidence drops below 0.8."""
    folder = copy_scenario(_scenario(DEPENDENCY), tmp_path)

    def pending(data):
        sts = find(data, "StatefulSet", "cart-redis")
        sts["spec"]["replicas"] = 1
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "cart-redis-0",
                "namespace": "shop-cart",
                "uid": "0d7c6f7e-1111-4e1e-9c5d-000000000001",
                "labels": {"app.kubernetes.io/name": "cart-redis"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "name": "cart-redis",
                        "uid": sts["metadata"]["uid"],
                    }
                ],
            },
            "spec": {"containers": [{"name": "redis", "image": "redis:7.2.5"}]},
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"},
                ],
            },
        }
        data["items"].append(pod)

    edit_cluster(folder, pending)
    analysis = findings(folder)
    mine = [f for f in analysis.findings if f.category == "dependency-unavailable"]
    assert mine and mine[0].confidence <= BYSTANDER_MAX, [(f.category, f.confidence) for f in mine]
    assert mine[0].resource.name == "cart-redis"


def test_dependency_with_ready_endpoints_is_not_claimed(tmp_path):
    """Clients log ECONNREFUSED but the Service has ready endpoints: not a dependency outage."""
    folder = copy_scenario(_scenario(SELECTOR), tmp_path)

    def fix_selector(data):
        service = find(data, "Service", "payments-api")
        service["spec"]["selector"] = {"app.kubernetes.io/name": "payments-api"}
        endpoints = find(data, "Endpoints", "payments-api")
        endpoints["subsets"] = [{"addresses": [{"ip": "10.44.1.2"}], "ports": [{"port": 8080}]}]

    edit_cluster(folder, fix_selector)
    analysis = findings(folder)
    assert not [f for f in analysis.findings if f.category in MINE and f.confidence >= 0.35]


def _alert_on_pod(folder: Path, namespace: str, pod: str) -> None:
    body = {
        "receiver": "opsworker",
        "status": "firing",
        "version": "4",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "KubePodNotReady",
                    "namespace": namespace,
                    "pod": pod,
                    "severity": "warning",
                },
                "annotations": {"summary": "Pod has been in a non-ready state for more than 15 minutes."},
                "startsAt": "2025-07-19T21:05:00Z",
            }
        ],
    }
    (folder / "alert.json").write_text(json.dumps(body))


def test_dependency_chain_names_the_deepest_down_service(tmp_path):
    """web → cart-api (NotReady, no ready endpoints) → cart-redis (scaled to 0): cart-redis is the cause."""
    folder = copy_scenario(_scenario(DEPENDENCY), tmp_path)

    def add_web(data):
        data["items"].append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web-frontend-0", "namespace": "shop-cart", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
                "status": {
                    "phase": "Running",
                    "podIP": "10.42.9.9",
                    "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [
                        {"name": "web", "ready": False, "restartCount": 0, "state": {"running": {}}}
                    ],
                },
            }
        )
        data["logs"]["shop-cart/web-frontend-0/web"] = (
            "GET /cart failed: connect ECONNREFUSED 10.43.12.61:80\n"
            "upstream http://cart-api.shop-cart.svc.cluster.local/api/cart: connection refused\n"
        )

    edit_cluster(folder, add_web)
    _alert_on_pod(folder, "shop-cart", "web-frontend-0")
    result, _outcome = run(folder)
    assert _root(result) == ("dependency-unavailable", ("StatefulSet", "shop-cart", "cart-redis"))


def test_dependency_alert_on_the_dead_service_itself(tmp_path):
    """The alert names the Service whose workload is at 0 replicas; no client logs are needed."""
    folder = copy_scenario(_scenario(DEPENDENCY), tmp_path)
    body = json.loads((folder / "alert.json").read_text())
    body["alerts"] = [
        {
            "status": "firing",
            "labels": {"alertname": "ServiceNoEndpoints", "namespace": "shop-cart", "service": "cart-redis"},
            "annotations": {"summary": "Service has no endpoints"},
            "startsAt": "2025-07-19T21:00:00Z",
        }
    ]
    (folder / "alert.json").write_text(json.dumps(body))
    result, _outcome = run(folder)
    assert _root(result) == ("dependency-unavailable", ("StatefulSet", "shop-cart", "cart-redis"))
    assert result["root_cause"]["confidence"] == 0.9  # the clients' ECONNREFUSED logs in the namespace
    edit_cluster(folder, lambda data: data.update(logs={}))
    result, _outcome = run(folder)
    assert _root(result) == ("dependency-unavailable", ("StatefulSet", "shop-cart", "cart-redis"))
    assert 0.6 < result["root_cause"]["confidence"] <= 0.8  # no client evidence


def test_selector_mismatch_renamed(tmp_path):
    folder = copy_scenario(
        _scenario(SELECTOR),
        tmp_path,
        [
            ("payments-api", "ledger-gateway"),
            ('"payments"', '"finance"'),
            ("payments/", "finance/"),
            (".payments.svc", ".finance.svc"),
            ("34.118.231.40", "10.100.3.21"),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _root(result) == ("service-selector-mismatch", ("Service", "finance", "ledger-gateway"))
    commands = " ".join(c for r in result["recommendations"] for c in r["commands"])
    assert "app.kubernetes.io/name" in commands and "ledger-gateway" in commands


def test_selector_mismatch_old_label_value(tmp_path):
    """Same key, stale value: the Service selects app.kubernetes.io/name=payments (old release name)."""
    folder = copy_scenario(_scenario(SELECTOR), tmp_path)

    def stale_value(data):
        find(data, "Service", "payments-api")["spec"]["selector"] = {
            "app.kubernetes.io/name": "payments",
            "tier": "api",
        }

    edit_cluster(folder, stale_value)
    result, _outcome = run(folder)
    assert _root(result) == ("service-selector-mismatch", ("Service", "payments", "payments-api"))
    text = result["root_cause"]["explanation"]
    assert "app.kubernetes.io/name=payments" in text and "app.kubernetes.io/name=payments-api" in text
    assert "no endpoints" in text


@pytest.mark.parametrize(
    "selector",
    [
        {"app.kubernetes.io/name": "payment-api"},  # a typo in the value
        {"app.kubernetes.io/name": "payments-api", "app.kubernetes.io/version": "5.2"},  # a key pods lack
    ],
    ids=["typo", "extra-key"],
)
def test_selector_mismatch_variants(tmp_path, selector):
    folder = copy_scenario(_scenario(SELECTOR), tmp_path)
    edit_cluster(folder, lambda data: find(data, "Service", "payments-api")["spec"].update(selector=selector))
    result, _outcome = run(folder)
    assert _root(result) == ("service-selector-mismatch", ("Service", "payments", "payments-api"))
    assert result["root_cause"]["confidence"] >= 0.8


def test_dependency_behind_selectorless_service(tmp_path):
    """An external backend behind a selector-less Service whose hand-made Endpoints are empty."""
    folder = copy_scenario(_scenario(DEPENDENCY), tmp_path)

    def selectorless(data):
        data["items"] = [o for o in data["items"] if o["kind"] != "StatefulSet"]
        find(data, "Service", "cart-redis")["spec"].pop("selector")

    edit_cluster(folder, selectorless)
    result, _outcome = run(folder)
    assert _root(result) == ("dependency-unavailable", ("Service", "shop-cart", "cart-redis"))
    assert 0.6 <= result["root_cause"]["confidence"] <= 0.7


def test_port_mismatch_renamed_and_other_ports(tmp_path):
    folder = copy_scenario(
        _scenario(PORT),
        tmp_path,
        [
            ("notify-api", "mailer"),
            ('"notifications"', '"messaging"'),
            (".notifications.svc", ".messaging.svc"),
        ],
    )

    def ports(data):
        find(data, "Service", "mailer")["spec"]["ports"][0]["targetPort"] = 9090
        for item in data["items"]:
            if item["kind"] == "Endpoints" and item["metadata"]["name"] == "mailer":
                item["subsets"][0]["ports"][0]["port"] = 9090

    edit_cluster(folder, ports)
    expected = json.loads((folder / "expected.json").read_text())
    expected["keywords"] = ["targetPort", "9090", "3000", "connection refused", "mailer"]
    (folder / "expected.json").write_text(json.dumps(expected))
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _root(result) == ("service-port-mismatch", ("Service", "messaging", "mailer"))


def test_port_mismatch_unknown_port_name(tmp_path):
    """targetPort names a port ("web") that no container declares."""
    folder = copy_scenario(_scenario(PORT), tmp_path)
    edit_cluster(
        folder, lambda data: find(data, "Service", "notify-api")["spec"]["ports"][0].update(targetPort="web")
    )
    result, _outcome = run(folder)
    assert _root(result) == ("service-port-mismatch", ("Service", "notifications", "notify-api"))
    assert "web" in result["root_cause"]["summary"]


def test_port_mismatch_on_a_secondary_port_only_is_weak(tmp_path):
    """Only an extra (metrics) port is off while the main port matches: a weak finding at most."""
    folder = copy_scenario(_scenario(PORT), tmp_path)

    def extra_port(data):
        ports = find(data, "Service", "notify-api")["spec"]["ports"]
        ports[0]["targetPort"] = "http"
        ports.append({"name": "metrics", "port": 9464, "targetPort": 9464, "protocol": "TCP"})
        for item in data["items"]:
            if item["kind"] == "Pod" and item["metadata"]["name"].startswith("order-events-consumer"):
                item["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
        data["logs"] = {k: v for k, v in data["logs"].items() if not k.startswith("orders/")}

    edit_cluster(folder, extra_port)
    analysis = findings(folder)
    mine = [f for f in analysis.findings if f.category == "service-port-mismatch"]
    assert mine and mine[0].confidence <= BYSTANDER_MAX


def test_port_match_is_not_claimed(tmp_path):
    folder = copy_scenario(_scenario(PORT), tmp_path)
    edit_cluster(
        folder,
        lambda data: find(data, "Service", "notify-api")["spec"]["ports"][0].update(targetPort="http"),
    )
    analysis = findings(folder)
    assert not [f for f in analysis.findings if f.category == "service-port-mismatch"]


def test_ingress_renamed(tmp_path):
    folder = copy_scenario(
        _scenario(INGRESS),
        tmp_path,
        [
            ("docs-web", "handbook-web"),
            ("docs-site", "handbook-site"),
            ("docs/handbook", "kb/handbook"),
            ("[docs-handbook", "[kb-handbook"),
            ('"docs"', '"kb"'),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _root(result) == ("ingress-misconfigured", ("Ingress", "kb", "kb"))
    commands = " ".join(c for r in result["recommendations"] for c in r["commands"])
    assert "handbook-site" in commands


def test_ingress_backend_port_missing(tmp_path):
    """The backend Service exists but the Ingress asks for a port the Service does not expose."""
    folder = copy_scenario(_scenario(INGRESS), tmp_path)

    def wrong_port(data):
        ingress = find(data, "Ingress", "docs")
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        backend["name"], backend["port"] = "docs-site", {"number": 8080}

    edit_cluster(folder, wrong_port)
    result, _outcome = run(folder)
    assert _root(result) == ("ingress-misconfigured", ("Ingress", "docs", "docs"))
    assert "8080" in result["root_cause"]["summary"]


def test_ingress_near_the_alert_but_not_its_target_is_weak(tmp_path):
    """The alert is about a healthy pod behind another Ingress rule: a stale backend elsewhere stays weak."""
    folder = copy_scenario(_scenario(INGRESS), tmp_path)

    def two_paths(data):
        ingress = find(data, "Ingress", "docs")
        paths = ingress["spec"]["rules"][0]["http"]["paths"]
        paths.append(
            {
                "path": "/",
                "pathType": "Prefix",
                "backend": {"service": {"name": "docs-site", "port": {"number": 80}}},
            }
        )
        paths[0]["path"] = "/legacy"

    edit_cluster(folder, two_paths)
    pod = "docs-site-2nxm442fkl-l6psj"
    _alert_on_pod(folder, "docs", pod)
    analysis = findings(folder)
    mine = [f for f in analysis.findings if f.category == "ingress-misconfigured"]
    assert all(f.confidence <= BYSTANDER_MAX for f in mine), [(f.confidence, f.summary) for f in mine]


def test_ingress_tls_secret_reported_missing(tmp_path):
    """Backends fine; the controller reports the TLS secret the Ingress names as missing."""
    folder = copy_scenario(_scenario(INGRESS), tmp_path)

    def tls(data):
        backend = find(data, "Ingress", "docs")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        backend["name"] = "docs-site"
        for key, text in data["logs"].items():
            if "controller" in key:
                data["logs"][key] = (
                    text + "W0412 13:23:50.1       7 backend_ssl.go:47] Error obtaining X.509 certificate: "
                    'no object matching key "docs/docs-acme-dev-tls" in local store\n'
                )

    edit_cluster(folder, tls)
    result, _outcome = run(folder)
    assert _root(result) == ("ingress-misconfigured", ("Ingress", "docs", "docs"))
    assert "docs-acme-dev-tls" in result["root_cause"]["summary"]


def test_rbac_renamed(tmp_path):
    folder = copy_scenario(
        _scenario(RBAC),
        tmp_path,
        [("model-router", "feature-sync"), ("model-gateway", "mlops")],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert _root(result) == ("rbac-forbidden", ("Role", "mlops", "feature-sync"))
    commands = " ".join(c for r in result["recommendations"] for c in r["commands"])
    assert "auth can-i list pods" in commands


def test_rbac_other_verb_and_resource(tmp_path):
    """`list` on configmaps, where the Role only has a resourceNames-restricted rule for configmaps."""
    folder = copy_scenario(_scenario(RBAC), tmp_path)

    def other(data):
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                'cannot list resource \\"pods\\"', 'cannot list resource \\"configmaps\\"'
            )
            data["logs"][key] = data["logs"][key].replace(
                'cannot list resource "pods"', 'cannot list resource "configmaps"'
            )

    edit_cluster(folder, other)
    result, _outcome = run(folder)
    assert _root(result) == ("rbac-forbidden", ("Role", "model-gateway", "model-router"))
    assert "configmaps" in result["root_cause"]["explanation"]


def test_rbac_missing_binding_points_at_service_account(tmp_path):
    folder = copy_scenario(_scenario(RBAC), tmp_path)
    edit_cluster(
        folder, lambda data: data.update(items=[o for o in data["items"] if o["kind"] != "RoleBinding"])
    )
    result, _outcome = run(folder)
    assert _root(result) == ("rbac-forbidden", ("ServiceAccount", "model-gateway", "model-router"))


def test_rbac_wrong_service_account(tmp_path):
    """The pod runs as `default`; the permission is bound to another ServiceAccount."""
    folder = copy_scenario(_scenario(RBAC), tmp_path)

    def default_sa(data):
        find(data, "Role", "model-router")["rules"][0]["verbs"] = ["get", "list", "watch"]
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                "system:serviceaccount:model-gateway:model-router",
                "system:serviceaccount:model-gateway:default",
            )

    edit_cluster(folder, default_sa)
    result, _outcome = run(folder)
    assert _root(result) == ("rbac-forbidden", ("ServiceAccount", "model-gateway", "default"))
    assert "should run as model-router" in result["root_cause"]["explanation"]


def test_rbac_permission_present_is_not_claimed(tmp_path):
    folder = copy_scenario(_scenario(RBAC), tmp_path)

    def grant(data):
        find(data, "Role", "model-router")["rules"][0]["verbs"] = ["get", "list", "watch"]

    edit_cluster(folder, grant)
    analysis = findings(folder)
    assert not [f for f in analysis.findings if f.category == "rbac-forbidden"]
