"""oom-killed analyzer on every oom-killed scenario, offline."""

import pytest

from tests.investigations.engine.harness import by_category, describe, run


@pytest.mark.parametrize("folder", by_category("oom-killed"), ids=lambda d: d.name)
def test_oom_killed_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["recommendations"][0]["commands"], "commands with real names"
