"""Run the engine offline on scenario folders and score it (analyzer unit tests).

The real-agent path (`investigate_scenario`) is tested elsewhere; this runs the same analyzers on
exactly the data the simulator would serve, in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from investigations.engine.offline import investigate_snapshot
from investigations.engine.scoring import Score, score

ROOT = Path(__file__).resolve().parents[3]
PROJECT_SCENARIOS = ROOT / "agent" / "simulator" / "scenarios"
SHARED_EXAMPLES = ROOT.parent / "shared" / "scenarios" / "examples"


def scenario_dirs() -> list[Path]:
    dirs = [d for d in sorted(PROJECT_SCENARIOS.iterdir()) if (d / "cluster.json").exists()]
    if SHARED_EXAMPLES.is_dir():
        dirs += [d for d in sorted(SHARED_EXAMPLES.iterdir()) if (d / "cluster.json").exists()]
    return dirs


def by_category(category: str) -> list[Path]:
    import json

    return [
        d
        for d in scenario_dirs()
        if json.loads((d / "expected.json").read_text())["root_cause_category"] == category
    ]


def run(folder: Path) -> tuple[dict, Score]:
    result, expected = investigate_snapshot(folder)
    return result, score(result, expected)


def describe(folder: Path, result: dict, outcome: Score) -> str:
    cause = result["root_cause"]
    return (
        f"{folder.name}: {outcome.outcome} — got {cause['category']} {cause['resource']} "
        f"(conf {cause['confidence']}), missing keywords {outcome.keywords_missing}; "
        f"alternatives {[(a['category'], a['confidence']) for a in result['alternatives']]}\n"
        f"explanation: {cause['explanation'][:600]}"
    )
