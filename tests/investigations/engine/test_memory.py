"""oom-killed analyzer on every oom-killed scenario, offline."""

import pytest

from tests.investigations.engine.harness import by_category, describe, run


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
