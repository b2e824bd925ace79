"""Every adapter against inputs no sender should send: only PayloadError may come out."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from alerts.sources import get_adapter
from alerts.sources.base import PayloadError
from tests.alerts.sources.fixture_cases import HOSTILE_VALUES, fixture_paths, load_json, mutations

SOURCES = ("alertmanager", "grafana", "datadog", "cloudwatch", "generic")


def deeply_nested(depth: int) -> Any:
    """A valid structure `depth` levels deep, built without recursion."""
    node: Any = "bottom"
    for level in range(depth):
        node = {"n": node} if level % 2 else [node]
    return node


def _outcome(source: str, payload: Any) -> str:
    try:
        alerts = get_adapter(source).parse(payload, headers={})
    except PayloadError as exc:
        return f"error: {exc}"
    json.dumps([alert.as_json() for alert in alerts])
    return "ok"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("payload", [*HOSTILE_VALUES, "x" * (2 * 1024 * 1024)], ids=repr)
def test_adapters_reject_any_top_level_value_with_payload_error(source: str, payload: Any) -> None:
    assert _outcome(source, payload).startswith("error: ")


@pytest.mark.parametrize("source", SOURCES)
def test_adapters_reject_deep_structure_in_a_label_value(source: str) -> None:
    deep = deeply_nested(50_000)
    payloads = {
        "alertmanager": {
            "version": "4",
            "status": "firing",
            "alerts": [{"labels": {"alertname": "A", "pod": deep}}],
        },
        "grafana": {
            "version": "1",
            "status": "firing",
            "alerts": [{"labels": {"alertname": "A", "pod": deep}}],
        },
        "datadog": {"alert_title": "A", "tags": deep},
        "cloudwatch": {"AlarmName": "A", "NewStateValue": "ALARM", "Trigger": {"Dimensions": [deep]}},
        "generic": {"alertname": "A", "labels": {"pod": deep}},
    }
    assert _outcome(source, payloads[source]).startswith("error: ")


@pytest.mark.parametrize("source", SOURCES)
def test_adapters_survive_every_hostile_value_in_every_position(source: str) -> None:
    # Exhaustive over one fixture: each node replaced by each hostile value in turn.
    path = fixture_paths(source)[0]
    payload = load_json(path)
    rng = random.Random(1)
    for variant in mutations(payload, rng, 2000):
        _outcome(source, variant)


@pytest.mark.parametrize("source", SOURCES)
def test_adapters_survive_fixtures_with_several_mutations(source: str) -> None:
    rng = random.Random(2)
    for path in fixture_paths(source):
        variant = load_json(path)
        for _ in range(60):
            [variant] = mutations(variant, rng, 1)
            _outcome(source, variant)
