"""Run the engine offline on scenario folders and score it (analyzer unit tests).

The real-agent path (`investigate_scenario`) is tested elsewhere; this runs the same analyzers on
exactly the data the simulator would serve, in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from investigations.engine.offline import investigate_snapshot
from investigations.engine.scoring import Score, score
from investigations.engine.topology import build_topology

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


# -- scenario copies and edits (tests of the five newer categories use these) --------------------


def copy_scenario(folder: Path, tmp_path: Path, replacements: list[tuple[str, str]] = ()) -> Path:
    """A copy of a scenario with consistent text replacements in alert, cluster and expected."""
    import shutil

    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    for name in ("alert.json", "cluster.json", "expected.json"):
        path = target / name
        text = path.read_text()
        for old, new in replacements:
            text = text.replace(old, new)
        path.write_text(text)
    return target


def edit_cluster(folder: Path, edit) -> None:
    import json

    path = folder / "cluster.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def find(data: dict, kind: str, name: str) -> dict:
    return next(o for o in data["items"] if o["kind"] == kind and o["metadata"]["name"] == name)


def findings(folder: Path):
    """Every analyzer's findings on a scenario folder (Analysis), without building the result."""
    from investigations.engine.analysis import run_analyzers
    from investigations.engine.context import Context
    from investigations.engine.offline import alert_fields
    from investigations.engine.snapshot import load_scenario, view_from_cluster_json
    from investigations.engine.target import target_from_fields

    alert, cluster, _expected = load_scenario(folder)
    target = target_from_fields(alert_fields(alert))
    view = view_from_cluster_json(cluster)
    return run_analyzers(Context(view, target, build_topology(view, target)))


def root(result: dict) -> tuple[str, tuple[str, str, str]]:
    cause = result["root_cause"]
    resource = cause["resource"]
    return cause["category"], (resource["kind"], resource["namespace"], resource["name"])


def commands(result: dict) -> str:
    return "\n".join(c for r in result["recommendations"] for c in r["commands"])


def other_scenarios(*categories: str) -> list[Path]:
    import json

    return [
        d
        for d in scenario_dirs()
        if json.loads((d / "expected.json").read_text())["root_cause_category"] not in categories
    ]
