"""bad-config-value from an unreadable configuration, on a renamed copy of its scenario."""

from __future__ import annotations

from pathlib import Path

from investigations.engine.offline import investigate_snapshot
from investigations.engine.scoring import score
from tests.investigations.engine.harness import copy_scenario, edit_cluster

BLIND = Path(__file__).resolve().parents[3] / "agent" / "simulator" / "scenarios-blind"
SOURCE = BLIND / "crashloop-claims-portal-partners-yaml-indentation"
RENAMES = [("claims-portal", "quote-desk"), ("partners.yml", "brokers.yml"), ("claims", "underwriting")]


def _renamed_copy(tmp_path: Path) -> Path:
    return copy_scenario(SOURCE, tmp_path, RENAMES)


def test_unreadable_configmap_is_the_cause_not_the_application(tmp_path):
    result, expected = investigate_snapshot(_renamed_copy(tmp_path))

    cause = result["root_cause"]
    assert cause["category"] == "bad-config-value"
    assert cause["resource"] == {
        "kind": "ConfigMap",
        "namespace": "underwriting",
        "name": "quote-desk-config",
    }
    assert "brokers.yml" in cause["explanation"] and "kubectl-edit" in cause["explanation"]
    assert cause["confidence"] >= 0.8  # the file's ConfigMap was edited minutes before
    assert score(result, expected).outcome == "pass"
    commands = [c for r in result["recommendations"] for c in r["commands"]]
    assert "kubectl -n underwriting edit configmap/quote-desk-config" in commands


def test_without_the_recent_edit_it_is_less_sure(tmp_path):
    def undo_edits(cluster):
        for item in cluster["items"]:
            if item.get("kind") == "ConfigMap":
                for entry in item["metadata"].get("managedFields") or []:
                    entry["time"] = item["metadata"]["creationTimestamp"]

    copy = _renamed_copy(tmp_path)
    edit_cluster(copy, undo_edits)

    result, _ = investigate_snapshot(copy)

    assert result["root_cause"]["category"] == "bad-config-value"
    assert result["root_cause"]["confidence"] < 0.8
