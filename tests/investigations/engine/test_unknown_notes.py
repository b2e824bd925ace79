"""The honest `unknown` says what was checked, and says plainly when nothing is failing."""

from __future__ import annotations

from pathlib import Path

from investigations.engine.offline import investigate_snapshot

REALWORLD = Path(__file__).resolve().parents[3] / "agent" / "simulator" / "scenarios-realworld"


def test_a_job_that_succeeded_after_retries_is_reported_as_not_failing():
    result, _ = investigate_snapshot(REALWORLD / "jobfailedpods-ledger-export-succeeded-after-retries")

    cause = result["root_cause"]
    assert cause["category"] == "unknown"
    notes = cause["explanation"]
    assert "Checked Job ledger-export-29390430: conditions SuccessCriteriaMet, Complete" in notes
    assert "1 succeeded and 2 failed pod(s)" in notes
    assert "completed after retries" in notes
    assert "Nothing the alert points at is failing now" in notes
    assert "node logs" not in notes  # no kill to explain


def test_unexplained_recent_kills_still_point_at_the_node_logs():
    ours = Path(__file__).resolve().parents[3] / "agent" / "simulator" / "scenarios"
    result, _ = investigate_snapshot(ours / "unknown-edge-gateway-sigkill-restarts-no-evidence")

    notes = result["root_cause"]["explanation"]
    assert "Checked 3 pod(s)" in notes
    assert "node logs" in notes
    assert "Nothing the alert points at is failing now" not in notes
