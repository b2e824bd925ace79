"""A scenario served as if captured now: every timestamp moves by one offset, intervals stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.simulator.timeshift import offset_to_now, shift


def test_every_timestamp_moves_by_the_same_offset_and_keeps_its_format():
    offset = offset_to_now("2025-06-03T13:05:00Z", now=datetime(2026, 12, 7, 22, 0, tzinfo=UTC))
    document = {
        "metadata": {
            "creationTimestamp": "2025-06-03T12:00:00Z",
            "managedFields": [{"manager": "kubectl-edit", "time": "2025-06-03T12:55:18Z"}],
        },
        "status": {"startTime": "2025-06-03T13:04:59.123456Z", "count": 3, "message": "edited at 12:55"},
        "startsAt": "2025-06-03T13:00:00+02:00",
        "endsAt": "0001-01-01T00:00:00Z",
    }

    moved = shift(document, offset)

    assert moved["metadata"]["creationTimestamp"] == "2026-12-07T20:55:00Z"
    assert moved["metadata"]["managedFields"][0]["time"] == "2026-12-07T21:50:18Z"
    assert moved["status"]["startTime"] == "2026-12-07T21:59:59.123456Z"
    assert moved["startsAt"] == "2026-12-07T19:55:00Z"  # 11:00 UTC moved, written in UTC
    assert moved["endsAt"] == "0001-01-01T00:00:00Z"  # Go's zero time means "never"
    assert moved["status"]["message"] == "edited at 12:55" and moved["status"]["count"] == 3
    assert document["metadata"]["creationTimestamp"] == "2025-06-03T12:00:00Z"  # a copy


def test_loaded_scenario_is_captured_now_and_logs_keep_their_own_clock(tmp_path):
    import json

    from agent.simulator.cluster import load_cluster
    from agent.simulator.logs import captured_at, log_clock

    (tmp_path / "cluster.json").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {
                            "name": "c",
                            "namespace": "n",
                            "creationTimestamp": "2025-01-01T00:00:00Z",
                        },
                    }
                ],
                "x-capture": {"capturedAt": "2025-01-01T01:00:00Z"},
            }
        )
    )
    before = datetime.now(UTC)

    cluster = load_cluster(tmp_path, shift_to_now=True)

    assert captured_at(cluster) - before < timedelta(seconds=5)
    (configmap,) = [o for objs in cluster.objects.values() for o in objs if o.get("kind") == "ConfigMap"]
    created = datetime.fromisoformat(configmap["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    assert captured_at(cluster) - created == timedelta(hours=1)
    assert log_clock(cluster) == datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
    assert load_cluster(tmp_path).capture["capturedAt"] == "2025-01-01T01:00:00Z"  # off by default
