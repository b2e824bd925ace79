"""oom-killed analyzer on every oom-killed scenario, offline."""

import pytest

from tests.investigations.engine.harness import by_category, copy_scenario, describe, edit_cluster, run


@pytest.mark.parametrize("folder", by_category("oom-killed"), ids=lambda d: d.name)
def test_oom_killed_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["recommendations"][0]["commands"], "commands with real names"


def test_oom_suggested_limit_covers_the_configured_heap():
    from investigations.engine.analyzers.memory import _suggested_limit

    # 384Mi doubled is 768Mi, but a JVM told -Xmx768m needs more than its heap: at least 1152Mi.
    assert _suggested_limit("384Mi", ["-Xmx768m"]) == "1152Mi"
    assert _suggested_limit("512Mi", ["--max-old-space-size=384"]) == "1Gi"
    assert _suggested_limit("1Gi", []) == "2Gi"
    assert _suggested_limit(None, []) is None


def _with_pods(folder, tmp_path, change):
    def edit(cluster):
        for item in cluster["items"]:
            if item.get("kind") == "Pod":
                for status in (item.get("status") or {}).get("containerStatuses") or []:
                    change(status, cluster["x-capture"]["capturedAt"])

    copy = copy_scenario(folder, tmp_path)
    edit_cluster(copy, edit)
    return copy


def test_an_old_single_oom_kill_on_a_container_ready_since_is_not_the_cause(tmp_path):
    from datetime import datetime, timedelta

    (folder,) = [d for d in by_category("oom-killed") if "thumbnailer" in d.name]

    def old_kill(status, captured):
        if ((status.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled":
            days_ago = datetime.fromisoformat(captured.replace("Z", "+00:00")) - timedelta(days=3)
            status["lastState"]["terminated"]["finishedAt"] = days_ago.strftime("%Y-%m-%dT%H:%M:%SZ")
            status.update(
                restartCount=1, ready=True, state={"running": {"startedAt": "2020-01-01T00:00:00Z"}}
            )

    result, _ = run(_with_pods(folder, tmp_path, old_kill))

    assert result["root_cause"]["category"] != "oom-killed"
    assert all(a["category"] != "oom-killed" for a in result["alternatives"])


def test_a_recent_kill_on_a_running_container_still_counts(tmp_path):
    (folder,) = [d for d in by_category("oom-killed") if "thumbnailer" in d.name]

    def recovered(status, captured):
        if ((status.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled":
            status["lastState"]["terminated"]["finishedAt"] = captured
            status.update(ready=True, state={"running": {"startedAt": captured}})

    result, _ = run(_with_pods(folder, tmp_path, recovered))

    assert result["root_cause"]["category"] == "oom-killed"
