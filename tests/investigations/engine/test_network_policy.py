"""network-policy-blocked: the scenario, renamed copies and variants (egress, config-only, refused, DNS
blocked, admitted), the policy semantics on their own, and the analyzer as a bystander elsewhere."""

from __future__ import annotations

import json

import pytest

from investigations.engine.analyzers.netpol_rules import (
    Peer,
    egress_verdict,
    ingress_verdict,
    isolating_policies,
    port_matches,
)
from investigations.engine.evidence import ClusterView
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

CATEGORY = "network-policy-blocked"
INGRESS = PROJECT_SCENARIOS / "checkout-5xx-payments-ingress-networkpolicy-namespace-label"


@pytest.mark.parametrize("folder", by_category(CATEGORY), ids=lambda d: d.name)
def test_network_policy_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["root_cause"]["confidence"] >= 0.85
    assert result["recommendations"][0]["commands"]
    assert any(r["kind"] == "preventive" for r in result["recommendations"])


def test_network_policy_ingress_renamed(tmp_path):
    folder = copy_scenario(
        INGRESS,
        tmp_path,
        [
            ("payments-api-ingress", "ledger-gateway-ingress"),
            ("payments-api", "ledger-gateway"),
            ('"payments"', '"finance"'),
            ("payments/", "finance/"),
            (".payments.svc", ".finance.svc"),
            ("pci-scope", "finance-zone"),
            ("checkout-api", "basket-svc"),
            ('"checkout"', '"basket"'),
            ("checkout/", "basket/"),
            ("172.20.118.42", "10.100.7.9"),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert root(result) == (CATEGORY, ("NetworkPolicy", "finance", "ledger-gateway-ingress"))
    # the narrowest rule: the client's namespace and labels, on the destination pod's port
    assert '"kubernetes.io/metadata.name":"basket"' in commands(result)
    assert '"port":8080' in commands(result)


def test_network_policy_admitted_traffic_is_not_claimed(tmp_path):
    """The client's namespace carries the label the policy admits: the timeouts come from elsewhere."""
    folder = copy_scenario(INGRESS, tmp_path)
    edit_cluster(
        folder, lambda d: find(d, "Namespace", "checkout")["metadata"]["labels"].update({"pci-scope": "true"})
    )
    analysis = findings(folder)
    assert not [f for f in analysis.findings if f.category == CATEGORY]


def test_network_policy_egress_from_the_client(tmp_path):
    """No ingress policy at the destination; a new default-deny egress in the client's namespace."""
    folder = copy_scenario(INGRESS, tmp_path)

    def egress(data):
        data["items"] = [
            o
            for o in data["items"]
            if not (o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == "payments")
        ]
        data["items"].append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {
                    "name": "egress-lockdown",
                    "namespace": "checkout",
                    "creationTimestamp": "2025-09-23T14:12:00Z",
                },
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {"to": [{"podSelector": {}}]},
                        {
                            "to": [
                                {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["172.16.0.0/12", "10.0.0.0/8"]}}
                            ]
                        },
                    ],
                },
            }
        )

    edit_cluster(folder, egress)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("NetworkPolicy", "checkout", "egress-lockdown"))
    assert "egress" in result["root_cause"]["summary"]
    assert "/spec/egress/-" in commands(result)


def test_network_policy_from_the_configuration_when_the_log_names_no_host(tmp_path):
    folder = copy_scenario(INGRESS, tmp_path)

    def hostless(data):
        for key, text in data["logs"].items():
            if key.startswith("checkout/"):
                data["logs"][key] = text.replace(
                    'Post \\"http://payments-api.payments.svc.cluster.local:8080/v1/authorizations\\": '
                    "dial tcp "
                    "172.20.118.42:8080: i/o timeout",
                    "java.net.SocketTimeoutException: Connect timed out",
                )

    edit_cluster(folder, hostless)
    result, _outcome = run(folder)
    assert root(result)[1] == ("NetworkPolicy", "payments", "payments-api-ingress")
    assert "PAYMENTS_URL" in result["root_cause"]["explanation"]


def test_network_policy_refused_connections_stay_weak(tmp_path):
    """Policies drop packets; "connection refused" points at something else."""
    folder = copy_scenario(INGRESS, tmp_path)

    def refused(data):
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace("i/o timeout", "connect: connection refused")

    edit_cluster(folder, refused)
    mine = [f for f in findings(folder).findings if f.category == CATEGORY]
    assert mine and all(f.confidence <= 0.6 for f in mine)


def _add_cluster_dns(data: dict) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "coredns-5d78c9869d-abcde",
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns"},
        },
        "spec": {"containers": [{"name": "coredns", "ports": [{"containerPort": 53, "protocol": "UDP"}]}]},
        "status": {
            "phase": "Running",
            "podIP": "10.12.40.2",
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system"},
        "spec": {
            "clusterIP": "172.20.0.10",
            "selector": {"k8s-app": "kube-dns"},
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}],
        },
    }
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kube-dns", "namespace": "kube-system"},
        "subsets": [
            {
                "addresses": [
                    {
                        "ip": "10.12.40.2",
                        "targetRef": {
                            "kind": "Pod",
                            "namespace": "kube-system",
                            "name": pod["metadata"]["name"],
                        },
                    }
                ],
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
            }
        ],
    }
    data["items"] += [pod, service, endpoints]


def test_network_policy_blocking_dns_is_named_and_dns_stands_down(tmp_path):
    """Egress is denied without a DNS rule: lookups time out, the policy is the cause, not CoreDNS."""
    folder = copy_scenario(INGRESS, tmp_path)

    def no_dns(data):
        _add_cluster_dns(data)
        data["items"] = [o for o in data["items"] if o["kind"] != "NetworkPolicy"]
        data["items"].append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {
                    "name": "deny-all-egress",
                    "namespace": "checkout",
                    "creationTimestamp": "2025-09-23T14:10:00Z",
                },
                "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
            }
        )
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                "dial tcp 172.20.118.42:8080: i/o timeout",
                "dial tcp: lookup payments-api.payments.svc.cluster.local on 172.20.0.10:53: "
                "read udp 10.12.35.18:41234->172.20.0.10:53: i/o timeout",
            )

    edit_cluster(folder, no_dns)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("NetworkPolicy", "checkout", "deny-all-egress"))
    assert "UDP/53" in result["root_cause"]["summary"]
    assert not [
        f for f in findings(folder).findings if f.category == "dns-resolution-failed" and f.confidence >= 0.35
    ]


@pytest.mark.parametrize("folder", other_scenarios(CATEGORY), ids=lambda d: d.name)
def test_network_policy_stays_quiet_elsewhere(folder):
    analysis = findings(folder)
    assert not [
        e for e in analysis.errors if e.startswith(("network_policy.", "netpol_rules.", "destinations."))
    ]
    expected = json.loads((folder / "expected.json").read_text())["root_cause_category"]
    ceiling = 0.35 if expected == "unknown" else 0.6
    assert not [
        (f.summary, f.confidence)
        for f in analysis.findings
        if f.category == CATEGORY and f.confidence >= ceiling
    ]


# -- the semantics on their own ----------------------------------------------------------------------


def _pod(name: str, namespace: str, labels: dict, ip: str, ports: list[dict] | None = None) -> dict:
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "ports": ports or []}]},
        "status": {"podIP": ip},
    }


def _policy(name: str, namespace: str, spec: dict) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _namespace(name: str, labels: dict) -> dict:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


CLIENT = _pod("web-1", "shop", {"app": "web"}, "10.0.1.5")
DB = _pod("db-0", "data", {"app": "db"}, "10.0.2.7", [{"name": "pg", "containerPort": 5432}])


def test_netpol_a_policy_without_policy_types_isolates_ingress_only():
    view = ClusterView([CLIENT, _policy("p", "shop", {"podSelector": {}, "ingress": [{}]})])
    assert isolating_policies(view, CLIENT, "Ingress") and not isolating_policies(view, CLIENT, "Egress")


def test_netpol_namespace_and_pod_selectors_in_one_peer_must_both_match():
    peer_rule = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"tier": "data"}},
                "podSelector": {"matchLabels": {"app": "db"}},
            }
        ]
    }
    policy = _policy("p", "shop", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [peer_rule]})
    matching = ClusterView([CLIENT, DB, policy, _namespace("data", {"tier": "data"})])
    other_ns = ClusterView([CLIENT, DB, policy, _namespace("data", {"tier": "cache"})])
    assert egress_verdict(matching, CLIENT, Peer(DB, "10.0.2.7"), 5432, "TCP").allowed
    assert not egress_verdict(other_ns, CLIENT, Peer(DB, "10.0.2.7"), 5432, "TCP").allowed


def test_netpol_namespace_selector_matches_the_implicit_metadata_name_label():
    rule = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}]}
    view = ClusterView(
        [CLIENT, DB, _policy("p", "data", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [rule]})]
    )
    assert ingress_verdict(view, DB, Peer(CLIENT, "10.0.1.5"), 5432, "TCP").allowed


def test_netpol_pod_selector_alone_means_the_policys_own_namespace():
    rule = {"from": [{"podSelector": {}}]}
    view = ClusterView(
        [CLIENT, DB, _policy("p", "data", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [rule]})]
    )
    verdict = ingress_verdict(view, DB, Peer(CLIENT, "10.0.1.5"), 5432, "TCP")
    assert verdict.blocking and verdict.isolating


def test_netpol_ip_block_except():
    rule = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}
    view = ClusterView(
        [CLIENT, _policy("p", "shop", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [rule]})]
    )
    assert egress_verdict(view, CLIENT, Peer(None, "52.1.2.3"), 443, "TCP").allowed
    assert not egress_verdict(view, CLIENT, Peer(None, "10.20.4.11"), 389, "TCP").allowed


@pytest.mark.parametrize(
    ("ports", "port", "protocol", "allowed"),
    [
        ([{"port": 5432}], 5432, "TCP", True),
        ([{"port": 5432}], 5432, "UDP", False),
        ([{"port": 5000, "endPort": 6000}], 5432, "TCP", True),
        ([{"port": "pg"}], 5432, "TCP", True),
        ([{"port": "pg"}], 6432, "TCP", False),
        ([{"protocol": "UDP", "port": 53}], 53, "UDP", True),
        ([], 1234, "TCP", True),
    ],
)
def test_netpol_ports(ports, port, protocol, allowed):
    assert port_matches(ports, port, protocol, DB) is allowed


def _deny_egress_except(rules: list[dict]):
    def edit(data):
        data["items"] = [o for o in data["items"] if o["kind"] != "NetworkPolicy"]
        data["items"].append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "egress-allowlist", "namespace": "checkout"},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": rules},
            }
        )
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                'Post \\"http://payments-api.payments.svc.cluster.local:8080/v1/authorizations\\": dial tcp '
                "172.20.118.42:8080: i/o timeout",
                'Post \\"https://api.stripe.com/v1/payment_intents\\": dial tcp: i/o timeout',
            )

    return edit


def test_network_policy_egress_to_an_outside_host_no_rule_can_admit(tmp_path):
    """Only in-cluster egress is admitted: calls to an outside API time out, at a lower confidence."""
    folder = copy_scenario(INGRESS, tmp_path)
    edit_cluster(folder, _deny_egress_except([{"to": [{"podSelector": {}}]}]))
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("NetworkPolicy", "checkout", "egress-allowlist"))
    assert result["root_cause"]["confidence"] == 0.75
    assert "api.stripe.com:443, outside the cluster" in result["root_cause"]["explanation"]


def test_network_policy_outside_host_with_an_ip_block_rule_is_not_claimed(tmp_path):
    """An ipBlock on 443 may cover the API's addresses, which the logs do not give: not claimed."""
    folder = copy_scenario(INGRESS, tmp_path)
    rules = [{"to": [{"ipBlock": {"cidr": "54.187.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    edit_cluster(folder, _deny_egress_except(rules))
    assert not [f for f in findings(folder).findings if f.category == CATEGORY]
