"""`manage.py investigate_scenario DIR [--json]` and `--all PARENT_DIR`: the full pipeline through
the real agent and the cluster simulator, with the scoreboard of shared/scenarios/README.md."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from investigations.engine.scoring import CATEGORY_ONLY, PASS, UNKNOWN, WRONG, score
from investigations.scenario_lab import SOURCES, LabError, ScenarioLab, scenario_source

PROVIDERS = ("builtin",)
CAUSE_MARK = " [touches cause]"


class Command(BaseCommand):
    help = (
        "Investigate a scenario folder through the simulator and the real agent; --all prints a scoreboard."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", help="a scenario folder (alert.json, cluster.json)")
        parser.add_argument(
            "--all",
            metavar="PARENT_DIR",
            action="append",
            help="every scenario folder under PARENT_DIR (repeatable)",
        )
        parser.add_argument(
            "--source",
            choices=SOURCES,
            help="the format of alert.json, posted to the lab's webhook for that source "
            "(default: the scenario's alert_source in expected.json, else alertmanager)",
        )
        parser.add_argument("--provider", default="builtin", help="analysis provider (builtin)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        if options["provider"] not in PROVIDERS:
            raise CommandError(
                f"provider {options['provider']!r} is not available here; "
                f"configured providers: {', '.join(PROVIDERS)}"
            )
        folders = self._folders(options)
        try:
            with ScenarioLab() as lab:
                if options["all"]:
                    self._scoreboard(lab, folders, source=options["source"], as_json=options["json"])
                else:
                    investigation, seconds = lab.investigate(folders[0], options["source"])
                    self.stdout.write(
                        json.dumps(self._result(investigation, seconds), indent=2, ensure_ascii=False)
                    )
        except LabError as error:
            raise CommandError(str(error)) from None

    def _folders(self, options) -> list[Path]:
        if options["all"]:
            folders = []
            for parent in options["all"]:
                parent_path = Path(parent)
                if not parent_path.is_dir():
                    raise CommandError(f"{parent} is not a folder")
                folders += [d for d in sorted(parent_path.iterdir()) if (d / "cluster.json").is_file()]
            if not folders:
                raise CommandError("no scenario folders (with cluster.json) found")
            return folders
        if not options["folder"]:
            raise CommandError("give a scenario folder, or --all PARENT_DIR")
        folder = Path(options["folder"])
        if not (folder / "cluster.json").is_file() or not (folder / "alert.json").is_file():
            raise CommandError(f"{folder} is not a scenario folder (alert.json and cluster.json)")
        return [folder]

    def _result(self, investigation, seconds: float) -> dict:
        if investigation is None:
            return {"status": "not run"}
        result = dict(investigation.result or {})
        result.update(
            {
                "status": investigation.status,
                "failure_reason": investigation.failure_reason,
                "partial": investigation.partial,
                "seconds": round(seconds, 3),
            }
        )
        return result

    def _scoreboard(
        self, lab: ScenarioLab, folders: list[Path], *, source: str | None, as_json: bool
    ) -> None:
        rows, times = [], []
        for folder in folders:
            expected_path = folder / "expected.json"
            expected = json.loads(expected_path.read_text()) if expected_path.exists() else {}
            try:
                investigation, seconds = lab.investigate(folder, source)
            except LabError as error:  # one scenario the lab could not even post: a failure, not the end
                investigation, seconds, lab_error = None, 0.0, str(error)
            else:
                lab_error = ""
            times.append(seconds)
            result = self._result(investigation, seconds)
            changes = result.get("changes") or []
            confidence = (result.get("root_cause") or {}).get("confidence")
            if investigation is None or investigation.status != "completed":
                outcome, got, missing = (
                    "failed",
                    lab_error or (investigation.failure_reason if investigation else "not run"),
                    [],
                )
            else:
                graded = score(result, expected) if expected else None
                outcome = graded.outcome if graded else "no expected.json"
                got = (
                    f"{result['root_cause']['category']} {result['root_cause']['resource']['kind']}/"
                    f"{result['root_cause']['resource']['name']}"
                )
                missing = graded.keywords_missing if graded else []
            rows.append(
                {
                    "scenario": folder.name,
                    "expected": expected.get("root_cause_category", ""),
                    "outcome": outcome,
                    "got": got,
                    "keywords_missing": missing,
                    "confidence": confidence,
                    "changes": [_change_line(c) for c in changes],
                    "source": source or scenario_source(folder),
                    "alerts_rejected": len(lab.last_rejected) if not lab_error else 0,
                    "seconds": round(seconds, 2),
                }
            )
        totals = {
            key: sum(1 for r in rows if r["outcome"] == key) for key in (PASS, CATEGORY_ONLY, WRONG, UNKNOWN)
        }
        totals["failed"] = sum(1 for r in rows if r["outcome"] == "failed")
        summary = {
            "scenarios": len(rows),
            **totals,
            "median_seconds": round(statistics.median(times), 2),
            "max_seconds": round(max(times), 2),
            "changes": sum(len(r["changes"]) for r in rows),
            "changes_touching_cause": sum(1 for r in rows for c in r["changes"] if c.endswith(CAUSE_MARK)),
        }
        if as_json:
            self.stdout.write(json.dumps({"rows": rows, "totals": summary}, indent=2))
            return
        width = max(len(r["scenario"]) for r in rows)
        self.stdout.write(
            f"{'scenario':<{width}}  {'expected':<30} {'outcome':<14} {'conf':>4} {'time':>6} "
            f"{'changes':>9}  got"
        )
        for row in rows:
            self.stdout.write(
                f"{row['scenario']:<{width}}  {row['expected']:<30} {row['outcome']:<14} "
                f"{_percent(row['confidence']):>4} {row['seconds']:>5.2f}s "
                f"{_changes_cell(row['changes']):>9}  "
                f"{row['got']}"
                + (
                    f"  (missing keywords: {', '.join(row['keywords_missing'])})"
                    if row["outcome"] != PASS and row["keywords_missing"]
                    else ""
                )
            )
        self.stdout.write(
            f"\n{summary['scenarios']} scenarios: {totals[PASS]} pass, "
            f"{totals[CATEGORY_ONLY]} category-only, "
            f"{totals[WRONG]} wrong, {totals[UNKNOWN]} unknown, {totals['failed']} failed; "
            f"median {summary['median_seconds']} s, max {summary['max_seconds']} s per scenario; "
            f"{summary['changes']} changes found ({summary['changes_touching_cause']} touching the cause)"
        )


def _change_line(change: dict) -> str:
    """One line: `41 min before the alert: Deployment/shop/api rollout to revision 4 (…) (Argo CD)`."""
    resource = change.get("resource") or {}
    where = "/".join(p for p in (resource.get("kind"), resource.get("namespace"), resource.get("name")) if p)
    who = change.get("who") or ""
    line = f"{change.get('relative', '')}: {where} {change.get('what', '')}"
    line += f" ({who})" if who and not who.startswith("(") else ""
    return line + (CAUSE_MARK if change.get("touches_cause") else "")


def _changes_cell(lines: list[str]) -> str:
    """`3` changes, or `3 (1c)` when one of them touches the cause."""
    touching = sum(1 for line in lines if line.endswith(CAUSE_MARK))
    return f"{len(lines)}" + (f" ({touching}c)" if touching else "")


def _percent(confidence) -> str:
    return f"{round(confidence * 100)}%" if isinstance(confidence, int | float) else "-"
