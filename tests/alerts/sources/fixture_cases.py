"""Captured-style payload fixtures and their hand-written expectations, shared by the adapter tests.

Each `fixtures/<source>/<case>.json` has a `<case>.expected.json` beside it holding either
``{"alerts": [...]}`` — every alert's non-default fields; the test fills in the defaults so every
field is still compared — or ``{"error": "<text the PayloadError message must contain>"}``.
With ``"alerts"``, an optional ``"rejected": [{"index": i, "reason": "<text it contains>"}]``
lists the alerts the adapter could not read while it kept the others (none when absent).
An optional ``"headers"`` object is passed to the adapter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alerts.sources.base import NormalizedAlert, PayloadError, SourceAdapter

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_paths(source: str) -> list[Path]:
    """Every payload fixture of `source`, sorted by name."""
    return sorted(p for p in (FIXTURES / source).glob("*.json") if not p.name.endswith(".expected.json"))


def cases(source: str) -> list[Any]:
    """pytest params (payload path) with readable ids."""
    return [pytest.param(path, id=path.stem) for path in fixture_paths(source)]


def load_json(path: Path) -> Any:
    """A fixture file's JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


def full_expected(source: str, partial: dict[str, Any]) -> dict[str, Any]:
    """An expected alert with every field present: the defaults of NormalizedAlert, then `partial`."""
    defaults = NormalizedAlert(source=source, fingerprint="", status="", alertname="").as_json()
    unknown = set(partial) - set(defaults)
    assert not unknown, f"expected file names unknown fields: {unknown}"
    return {**defaults, **partial}


def check_case(adapter: SourceAdapter, path: Path) -> None:
    """Parse the fixture at `path` and compare with its expected file, field by field."""
    expected = load_json(path.with_name(path.stem + ".expected.json"))
    payload = load_json(path)
    headers = expected.get("headers", {})
    if "error" in expected:
        with pytest.raises(PayloadError) as info:
            adapter.parse(payload, headers=headers)
        assert expected["error"] in str(info.value)
        return
    result = adapter.parse_partial(payload, headers=headers)
    rejected = expected.get("rejected", [])
    assert [r.index for r in result.rejected] == [r["index"] for r in rejected]
    for got_rejection, want in zip(result.rejected, rejected, strict=True):
        assert want["reason"] in got_rejection.reason
    alerts = [alert.as_json() for alert in result.alerts]
    wanted = [full_expected(adapter.name, partial) for partial in expected["alerts"]]
    assert len(alerts) == len(wanted)
    for index, (got, want) in enumerate(zip(alerts, wanted, strict=True)):
        for field in want:
            assert got[field] == want[field], f"alert {index} field {field}"


# Values a hostile or broken sender might put anywhere.
HOSTILE_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    -0.5,
    "",
    " ",
    "firing",
    "resolved",
    "ALARM",
    "$ALERT_ID",
    "\ud800",
    "<script>alert(1)</script>",
    "x" * 5000,
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2025-02-30T10:00:00Z",
    "2025-03-14T09:58:07.1234567891Z",
    "{not json",
    '{"AlarmName": 5}',
    [],
    [None],
    {},
    {"a": {"b": [1, {"c": None}]}},
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copy = dict(node)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(node[head], rest, value, delete)
        return copy
    copy_list = list(node)
    if delete and not rest:
        del copy_list[head]
    else:
        copy_list[head] = _replace(node[head], rest, value, delete)
    return copy_list


def mutations(payload: Any, rng: Any, count: int) -> list[Any]:
    """`count` copies of `payload`, each with one node replaced by a hostile value or removed."""
    paths = _paths(payload)
    variants = []
    for _ in range(count):
        path = rng.choice(paths)
        delete = bool(path) and rng.random() < 0.2
        variants.append(_replace(payload, path, rng.choice(HOSTILE_VALUES), delete))
    return variants


def assert_only_payload_errors(adapter: SourceAdapter, source: str, seed: int, per_fixture: int) -> None:
    """Mutated fixtures of `source` either parse or raise PayloadError; nothing else escapes."""
    import random

    rng = random.Random(seed)
    for path in fixture_paths(source):
        for variant in mutations(load_json(path), rng, per_fixture):
            try:
                alerts = adapter.parse(variant, headers={})
            except PayloadError:
                continue
            for alert in alerts:
                json.dumps(alert.as_json())  # whatever came out must be storable
