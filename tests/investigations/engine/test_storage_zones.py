"""A Bound volume pinned to a node: a cordoned node is the cause; a node that does not exist is not."""

from __future__ import annotations

from pathlib import Path

from investigations.engine.offline import investigate_snapshot
from tests.investigations.engine.harness import copy_scenario, edit_cluster

SOURCE = (
    Path(__file__).resolve().parents[3]
    / "agent"
    / "simulator"
    / "scenarios-realworld"
    / "pending-jellyfin-local-pv-node-left-cordoned"
)
RENAMES = [("jellyfin", "photo-vault"), ("k3s-agent-02", "edge-node-7"), ("media", "family")]


def _copy(tmp_path: Path, edit=None) -> Path:
    copy = copy_scenario(SOURCE, tmp_path, RENAMES)
    if edit:
        edit_cluster(copy, edit)
    return copy


def test_the_cordoned_node_holding_the_volume_is_the_cause(tmp_path):
    result, _ = investigate_snapshot(_copy(tmp_path))

    cause = result["root_cause"]
    assert (cause["category"], cause["resource"]["kind"], cause["resource"]["name"]) == (
        "unschedulable-constraints",
        "Node",
        "edge-node-7",
    )
    assert "cordoned" in cause["summary"]
    commands = [c for r in result["recommendations"] for c in r["commands"]]
    assert "kubectl uncordon edge-node-7" in commands


def test_when_the_volume_node_is_gone_the_volume_placement_is_the_cause(tmp_path):
    def remove_node(cluster):
        cluster["items"] = [
            i
            for i in cluster["items"]
            if not (i.get("kind") == "Node" and i["metadata"]["name"] == "edge-node-7")
        ]

    result, _ = investigate_snapshot(_copy(tmp_path, remove_node))

    assert result["root_cause"]["category"] == "pvc-unbound"
