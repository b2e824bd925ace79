"""dns-resolution-failed: the scenario, renamed copies and variants (CoreDNS scaled to zero, a pod's own
dnsConfig, a name that does not exist), failed-lookup parsing, and the analyzer as a bystander."""

from __future__ import annotations

import json

import pytest

from investigations.engine.name_resolution import failed_lookup
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

CATEGORY = "dns-resolution-failed"
NODELOCAL = PROJECT_SCENARIOS / "crashloop-ledger-api-nodelocaldns-corefile-forward-without-upstream"


@pytest.mark.parametrize("folder", by_category(CATEGORY), ids=lambda d: d.name)
def test_dns_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["root_cause"]["confidence"] >= 0.85
    assert any(r["kind"] == "preventive" for r in result["recommendations"])


def test_dns_node_local_cache_renamed(tmp_path):
    folder = copy_scenario(
        NODELOCAL,
        tmp_path,
        [
            ("nodelocaldns", "dns-cache-agent"),
            ("169.254.25.10", "169.254.53.53"),
            ("ledger-api", "payroll-api"),
            ("ledger-db", "payroll-db"),
            ('"ledger"', '"payroll"'),
            ("ledger/", "payroll/"),
            (".ledger.svc", ".payroll.svc"),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert root(result) == (CATEGORY, ("ConfigMap", "kube-system", "dns-cache-agent"))
    assert "kubectl -n kube-system edit configmap/dns-cache-agent" in commands(result)
    assert "forward ." in result["root_cause"]["explanation"]  # the offending line, read from the ConfigMap


def _coredns_scaled_to_zero(data: dict) -> None:
    """No node-local cache: pods ask kube-dns, whose Deployment someone scaled to 0."""
    data["items"] = [
        o
        for o in data["items"]
        if not (o["kind"] in ("DaemonSet", "Pod") and "nodelocaldns" in o["metadata"]["name"])
        and not (o["kind"] == "Pod" and o["metadata"]["name"].startswith("coredns-"))
    ]
    coredns = find(data, "Deployment", "coredns")
    coredns["spec"]["replicas"] = 0
    coredns["status"] = {"observedGeneration": 3, "replicas": 0}
    endpoints = find(data, "Endpoints", "kube-dns")
    endpoints.pop("subsets", None)
    for key in list(data["logs"]) + list(data["previous_logs"]):
        if "nodelocaldns" in key or "coredns" in key:
            data["logs"].pop(key, None)
            data["previous_logs"].pop(key, None)
    for logs in (data["logs"], data["previous_logs"]):
        for key, text in logs.items():
            logs[key] = text.replace("169.254.25.10", "10.233.0.3")


def test_dns_coredns_scaled_to_zero_names_the_deployment(tmp_path):
    folder = copy_scenario(NODELOCAL, tmp_path)
    edit_cluster(folder, _coredns_scaled_to_zero)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Deployment", "kube-system", "coredns"))
    assert result["root_cause"]["confidence"] >= 0.8
    assert "scaled to 0" in result["root_cause"]["explanation"]
    assert "10.233.0.3" in result["root_cause"]["explanation"]


def test_dns_pod_dns_config_pointing_nowhere_names_the_workload(tmp_path):
    """The node-local cache is healthy; ledger-api's own dnsConfig points at an address nothing serves."""
    folder = copy_scenario(NODELOCAL, tmp_path)

    def own_resolver(data):
        for pod in data["items"]:
            if pod["kind"] in ("Pod", "Deployment", "ReplicaSet") and pod["metadata"]["name"].startswith(
                "ledger-api"
            ):
                spec = pod["spec"] if pod["kind"] == "Pod" else pod["spec"]["template"]["spec"]
                spec["dnsPolicy"] = "None"
                spec["dnsConfig"] = {"nameservers": ["10.0.0.53"], "searches": ["ledger.svc.cluster.local"]}
        for pod in data["items"]:
            if pod["kind"] == "Pod" and pod["metadata"]["name"].startswith("nodelocaldns-"):
                status = pod["status"]["containerStatuses"][0]
                status.update(ready=True, state={"running": {"startedAt": "2025-11-18T09:00:00Z"}})
        for logs in (data["logs"], data["previous_logs"]):
            for key in list(logs):
                if "nodelocaldns" in key:
                    del logs[key]
                elif key.startswith("ledger/ledger-api"):
                    logs[key] = logs[key].replace("169.254.25.10", "10.0.0.53")

    edit_cluster(folder, own_resolver)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Deployment", "ledger", "ledger-api"))
    assert "dnsPolicy None" in result["root_cause"]["explanation"]
    assert '"value":"ClusterFirst"' in commands(result)


def test_dns_a_name_that_does_not_exist_is_not_a_dns_outage(tmp_path):
    """NXDOMAIN for a host no Service has: the DNS answered; a wrong value, not this category."""
    folder = copy_scenario(NODELOCAL, tmp_path)

    def nxdomain(data):
        data["items"] = [o for o in data["items"] if "nodelocaldns" not in o["metadata"]["name"]]
        for logs in (data["logs"], data["previous_logs"]):
            for key in list(logs):
                if "nodelocaldns" in key:
                    del logs[key]
                else:
                    logs[key] = (
                        logs[key]
                        .replace(
                            "lookup ledger-db.ledger.svc.cluster.local",
                            "lookup ledger-dbx.ledger.svc.cluster.local",
                        )
                        .replace(
                            "read udp 10.233.64.41:44871->169.254.25.10:53: read: connection refused",
                            "no such host",
                        )
                        .replace(
                            "read udp 10.233.64.41:51102->169.254.25.10:53: read: connection refused",
                            "no such host",
                        )
                        .replace(
                            "read udp 10.233.64.41:38013->169.254.25.10:53: read: connection refused",
                            "no such host",
                        )
                        .replace("Temporary failure in name resolution", "Name or service not known")
                    )
                    logs[key] = "\n".join(
                        line for line in logs[key].splitlines() if "connection refused" not in line
                    )

    edit_cluster(folder, nxdomain)
    assert not [f for f in findings(folder).findings if f.category == CATEGORY and f.confidence >= 0.35]


@pytest.mark.parametrize("folder", other_scenarios(CATEGORY), ids=lambda d: d.name)
def test_dns_stays_quiet_elsewhere(folder):
    analysis = findings(folder)
    assert not [e for e in analysis.errors if e.startswith(("dns.", "dns_cluster."))]
    expected = json.loads((folder / "expected.json").read_text())["root_cause_category"]
    ceiling = 0.35 if expected == "unknown" else 0.6
    assert not [
        (f.summary, f.confidence)
        for f in analysis.findings
        if f.category == CATEGORY and f.confidence >= ceiling
    ]


@pytest.mark.parametrize(
    ("line", "host", "server", "failure"),
    [
        (
            'err="dial tcp: lookup db.shop.svc.cluster.local on 10.96.0.10:53: read udp '
            "10.1.2.3:4444->10.96.0.10:53: "
            'i/o timeout"',
            "db.shop.svc.cluster.local",
            "10.96.0.10",
            "timeout",
        ),
        ("lookup kafka on 10.96.0.10:53: server misbehaving", "kafka", "10.96.0.10", "servfail"),
        (
            "hostname resolving error (lookup db on 10.43.0.10:53: read udp 10.42.1.1:5->10.43.0.10:53: "
            "read: "
            "connection refused)",
            "db",
            "10.43.0.10",
            "refused",
        ),
        ("getaddrinfo EAI_AGAIN mqtt.wms.svc.cluster.local", "mqtt.wms.svc.cluster.local", "", "again"),
        ("getaddrinfo ENOTFOUND api.example.com", "api.example.com", "", "nxdomain"),
        (
            "java.net.UnknownHostException: billing-db: Temporary failure in name resolution",
            "billing-db",
            "",
            "again",
        ),
        ('could not translate host name "pg" to address: Name or service not known', "pg", "", "nxdomain"),
        ("socket.gaierror: [Errno -3] Temporary failure in name resolution", "", "", "again"),
        (
            "*1 upstream.shop.svc could not be resolved (110: Operation timed out)",
            "upstream.shop.svc",
            "",
            "timeout",
        ),
        (
            "dial tcp: lookup payments-db.payments.svc.cluster.local: no such host",
            "payments-db.payments.svc.cluster.local",
            "",
            "nxdomain",
        ),
    ],
)
def test_failed_lookup_parses_each_runtimes_wording(line, host, server, failure):
    lookup = failed_lookup(line)
    assert lookup is not None
    assert (lookup.host, lookup.server, lookup.failure) == (host, server, failure)


@pytest.mark.parametrize(
    "line",
    [
        "dial tcp 10.0.0.1:5432: connect: connection refused",
        "GET /lookup?host=a 200",
        "connect timed out to db:5432",
    ],
)
def test_failed_lookup_ignores_other_failures(line):
    assert failed_lookup(line) is None


def test_dns_upstream_that_does_not_answer_names_the_forwarding_config(tmp_path):
    """The cache runs; the corporate upstream its stub zone forwards to does not answer."""
    folder = copy_scenario(NODELOCAL, tmp_path)

    def upstream(data):
        corefile = find(data, "ConfigMap", "nodelocaldns")["data"]["Corefile"]
        find(data, "ConfigMap", "nodelocaldns")["data"]["Corefile"] = corefile.replace(
            "    forward .\n", "    forward . 10.20.0.53\n"
        )
        for pod in data["items"]:
            if pod["kind"] == "Pod" and pod["metadata"]["name"].startswith("nodelocaldns-"):
                pod["status"]["containerStatuses"][0].update(
                    ready=True, restartCount=0, state={"running": {"startedAt": "2025-11-18T09:00:00Z"}}
                )
                pod["status"]["containerStatuses"][0]["lastState"] = {}
        data["previous_logs"] = {k: v for k, v in data["previous_logs"].items() if "nodelocaldns" not in k}
        for key in list(data["logs"]):
            if "nodelocaldns" in key:
                data["logs"][key] = (
                    "[INFO] Starting node-cache image: 1.23.1\n"
                    "[ERROR] plugin/errors: 2 fx.corp.finance.example. A: read udp "
                    "192.168.40.21:5312->10.20.0.53:53: i/o timeout\n"
                )
            elif key.startswith("ledger/ledger-api"):
                data["logs"][key] = (
                    "2025-11-18T10:04:00Z ERROR rates refresh failed: Get "
                    '"https://fx.corp.finance.example/v1/rates": '
                    "dial tcp: lookup fx.corp.finance.example on 169.254.25.10:53: server misbehaving\n"
                )
        data["previous_logs"] = {
            k: v for k, v in data["previous_logs"].items() if not k.startswith("ledger/")
        }

    edit_cluster(folder, upstream)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("ConfigMap", "kube-system", "nodelocaldns"))
    assert result["root_cause"]["confidence"] == 0.7
    assert "10.20.0.53" in result["root_cause"]["summary"]
