"""The topology drawing places the kinds the newer categories name (policies, certificates) in a column."""

from __future__ import annotations

from investigations.topology_svg import topology_layout


def test_topology_layout_draws_policies_beside_services_and_certificates_beside_ingresses():
    topology = {
        "nodes": [
            {"kind": "Ingress", "namespace": "shop", "name": "web", "role": "ingress"},
            {"kind": "Certificate", "namespace": "shop", "name": "web-tls", "role": "certificate"},
            {"kind": "Service", "namespace": "shop", "name": "web", "role": "service"},
            {"kind": "NetworkPolicy", "namespace": "shop", "name": "default-deny-egress", "role": "policy"},
            {"kind": "Deployment", "namespace": "shop", "name": "web", "role": "workload"},
        ],
        "edges": [],
        "missing": [],
    }
    root = {"kind": "NetworkPolicy", "namespace": "shop", "name": "default-deny-egress"}

    layout = topology_layout(topology, root=root)

    nodes = {n["kind"]: n for n in layout["nodes"]}
    assert nodes["Certificate"]["layer"] == nodes["Ingress"]["layer"] == 0
    assert nodes["NetworkPolicy"]["layer"] == nodes["Service"]["layer"] == 1
    assert nodes["NetworkPolicy"]["kind_label"] == "NetPol"
    assert nodes["NetworkPolicy"]["root"]
