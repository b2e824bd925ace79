"""A ClusterView straight from a scenario's cluster.json, for analyzer unit tests.

Production and `investigate_scenario` read through the agent instead; this exists so analyzers can
be tested on exactly the data the simulator serves, without processes.
"""

from __future__ import annotations

import json
from pathlib import Path

from investigations.engine.evidence import ClusterView, parse_time


def view_from_cluster_json(data: dict) -> ClusterView:
    def split(mapping: dict | None) -> dict[tuple[str, str, str], str]:
        result: dict[tuple[str, str, str], str] = {}
        for key, text in (mapping or {}).items():
            parts = key.split("/")
            if len(parts) == 3:
                result[tuple(parts)] = text
        return result

    items = [o for o in data.get("items") or [] if o.get("kind") != "Secret"]
    return ClusterView(
        items,
        logs=split(data.get("logs")),
        previous_logs=split(data.get("previous_logs")),
        now=parse_time((data.get("x-capture") or {}).get("capturedAt")),
        metrics_available=any(o.get("kind") in ("PodMetrics", "NodeMetrics") for o in items),
    )


def load_scenario(folder: str | Path) -> tuple[dict, dict, dict | None]:
    """(alert.json, cluster.json, expected.json or None) of a scenario folder."""
    folder = Path(folder)
    alert = json.loads((folder / "alert.json").read_text())
    cluster = json.loads((folder / "cluster.json").read_text())
    expected_path = folder / "expected.json"
    expected = json.loads(expected_path.read_text()) if expected_path.exists() else None
    return alert, cluster, expected
