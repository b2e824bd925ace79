"""The fixture folders themselves: enough captured-style payloads, each with its expectation."""

from __future__ import annotations

import pytest

from tests.alerts.sources.fixture_cases import FIXTURES, fixture_paths, load_json

SOURCES = ("alertmanager", "grafana", "datadog", "cloudwatch", "generic")


@pytest.mark.parametrize("source", SOURCES)
def test_fixtures_every_source_has_ten_payloads_with_expectations(source: str) -> None:
    payloads = fixture_paths(source)
    expectations = sorted((FIXTURES / source).glob("*.expected.json"))
    assert len(payloads) >= 10
    assert {p.stem for p in payloads} == {p.name.removesuffix(".expected.json") for p in expectations}
    for path in expectations:
        expected = load_json(path)
        assert ("alerts" in expected) != ("error" in expected), path.name
