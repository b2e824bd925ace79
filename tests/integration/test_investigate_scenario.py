"""`manage.py investigate_scenario`: the scenario lab posts each alert through the real webhook of
its source, the real agent reads the simulator, and the scoreboard says what happened."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parent.parent.parent
OURS = ROOT / "agent" / "simulator" / "scenarios"
BLIND = ROOT / "agent" / "simulator" / "scenarios-blind"


@pytest.fixture
def lab_cleanup(committed):
    yield
    from tenants.models import Organization

    lab = Organization.objects.filter(slug="scenario-lab").first()
    if lab is not None:
        lab.delete(force_drop=True)


def _run(*args) -> str:
    out = io.StringIO()
    call_command("investigate_scenario", *args, stdout=out)
    return out.getvalue()


def test_one_scenario_runs_through_the_webhook_and_the_real_agent(lab_cleanup):
    result = json.loads(_run(str(OURS / "oomkilled-thumbnailer-concurrency-raised")))

    assert result["status"] == "completed", result.get("failure_reason")
    assert result["root_cause"]["category"] == "oom-killed"


def test_scoreboard_posts_each_scenario_in_its_own_source_format(lab_cleanup, tmp_path):
    # A Datadog and a CloudWatch (SNS) scenario of the blind corpus beside one of ours.
    for folder in (
        OURS / "cart-api-notready-redis-scaled-to-zero",
        BLIND / "pending-assistant-llm-vllm-gpu-request-exceeds-node",
        BLIND / "oomkilled-thumbnailer-native-memory-leak",
    ):
        shutil.copytree(folder, tmp_path / folder.name)

    board = json.loads(_run("--all", str(tmp_path), "--json"))

    sources = {row["scenario"]: row["source"] for row in board["rows"]}
    assert sources == {
        "cart-api-notready-redis-scaled-to-zero": "alertmanager",
        "pending-assistant-llm-vllm-gpu-request-exceeds-node": "datadog",
        "oomkilled-thumbnailer-native-memory-leak": "cloudwatch",
    }
    assert all(row["outcome"] != "failed" for row in board["rows"]), board["rows"]
    assert all(row["alerts_rejected"] == 0 for row in board["rows"])
    assert board["totals"]["scenarios"] == 3


def test_a_payload_in_the_wrong_format_is_a_failed_row_not_a_crash(lab_cleanup, tmp_path):
    # An Alertmanager body posted as Datadog: the webhook refuses it, the scoreboard says so.
    shutil.copytree(OURS / "cart-api-notready-redis-scaled-to-zero", tmp_path / "cart")

    board = json.loads(_run("--all", str(tmp_path), "--source", "datadog", "--json"))

    (row,) = board["rows"]
    assert row["outcome"] == "failed"
    assert "datadog webhook answered 4" in row["got"]


def test_unknown_source_is_refused_before_anything_starts():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "investigate_scenario",
            str(OURS / "cart-api-notready-redis-scaled-to-zero"),
            "--source",
            "pagerduty",
        )
