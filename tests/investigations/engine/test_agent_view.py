"""Every scenario passes when the engine sees only what the agent can read.

The offline harness reads cluster.json whole; the agent reads only allow-listed kinds (no custom
resources such as ExternalSecrets, never Secrets). Analyzers must reach the same conclusion from
that narrower view, as `investigate_scenario` does through the real agent.
"""

import json
import shutil

import pytest

from agent.allowlist import KINDS
from tests.investigations.engine.harness import describe, run, scenario_dirs


@pytest.mark.parametrize("folder", scenario_dirs(), ids=lambda d: d.name)
def test_scenario_passes_with_only_agent_readable_objects(folder, tmp_path):
    cluster = json.loads((folder / "cluster.json").read_text())
    hidden = sorted({o.get("kind") for o in cluster["items"] if o.get("kind") not in KINDS})
    cluster["items"] = [o for o in cluster["items"] if o.get("kind") in KINDS]
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    (copy / "cluster.json").write_text(json.dumps(cluster))
    result, outcome = run(copy)
    assert outcome.outcome == "pass", f"hidden kinds {hidden}\n" + describe(copy, result, outcome)
