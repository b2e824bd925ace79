"""Generic JSON adapter: documented format, every rejection branch, no stray exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.sources import generic
from alerts.sources.base import PayloadError
from alerts.sources.generic import ADAPTER
from tests.alerts.sources.fixture_cases import assert_only_payload_errors, cases, check_case


@pytest.mark.parametrize("path", cases("generic"))
def test_generic_fixture_normalizes_as_expected(path: Path) -> None:
    check_case(ADAPTER, path)


def _error(payload: object) -> str:
    with pytest.raises(PayloadError) as info:
        ADAPTER.parse(payload, headers={})
    return str(info.value)


def test_generic_rejects_non_object_top_level() -> None:
    assert _error("BackupFailed") == "the payload must be a JSON object, got string"


def test_generic_rejects_alerts_that_is_not_a_list() -> None:
    assert _error({"alerts": {"alertname": "A"}}) == "alerts must be an array, got object"


def test_generic_rejects_alert_that_is_not_an_object() -> None:
    assert _error({"alerts": [{"alertname": "A"}, 3]}) == "alerts[1] must be a JSON object, got number"


def test_generic_requires_alertname() -> None:
    assert _error({"summary": "x"}) == "alertname is required (a non-empty string)"


def test_generic_rejects_non_string_alertname() -> None:
    assert _error({"alertname": ["A"]}) == "alertname must be a string, got array"


def test_generic_rejects_non_string_severity() -> None:
    assert "alerts[0].severity must be a string, got number" in _error(
        {"alerts": [{"alertname": "A", "severity": 1}]}
    )


def test_generic_rejects_null_label_value() -> None:
    assert "labels.pod is null" in _error({"alertname": "A", "labels": {"pod": None}})


def test_generic_rejects_non_string_link() -> None:
    assert "links.dashboard is number" in _error({"alertname": "A", "links": {"dashboard": 1}})


def test_generic_rejects_non_string_namespace() -> None:
    assert _error({"alertname": "A", "namespace": {"name": "x"}}) == "namespace must be a string, got object"


def test_generic_rejects_unparsable_starts_at() -> None:
    assert "starts_at is not an RFC 3339 timestamp" in _error({"alertname": "A", "starts_at": "1741946287"})


def test_generic_rejects_numeric_timestamp() -> None:
    assert "ends_at must be an RFC 3339 timestamp string, got number" in _error(
        {"alertname": "A", "ends_at": 1}
    )


def test_generic_empty_batch_gives_no_alerts() -> None:
    assert ADAPTER.parse({"alerts": []}, headers={}) == []


def test_generic_resolved_matches_firing_without_explicit_fingerprint() -> None:
    firing = {"alertname": "A", "labels": {"b": "1", "a": "2"}, "namespace": "shop"}
    resolved = {"alertname": "A", "labels": {"a": "2", "b": "1"}, "namespace": "shop", "status": "resolved"}
    [one] = ADAPTER.parse(firing, headers={})
    [two] = ADAPTER.parse(resolved, headers={})
    assert one.fingerprint == two.fingerprint


def test_generic_different_pods_get_different_fingerprints() -> None:
    [one] = ADAPTER.parse({"alertname": "A", "pod": "web-1"}, headers={})
    [two] = ADAPTER.parse({"alertname": "A", "pod": "web-2"}, headers={})
    assert one.fingerprint != two.fingerprint


def test_generic_keeps_two_mib_description_verbatim() -> None:
    text = "<p>" + "ü" * (2 * 1024 * 1024) + "</p>"
    [alert] = ADAPTER.parse({"alertname": "A", "description": text}, headers={})
    assert alert.description == text and alert.pod == ""


def test_generic_documentation_names_every_key() -> None:
    doc = generic.__doc__ or ""
    keys = ("alertname", "status", "severity", "summary", "description", "labels", "annotations")
    more = ("cluster", "namespace", "pod", "container", "workload", "node", "starts_at", "ends_at")
    for key in (*keys, *more, "fingerprint", "links"):
        assert f"``{key}``" in doc


def test_generic_raises_only_payload_errors_on_mutated_fixtures() -> None:
    assert_only_payload_errors(ADAPTER, "generic", seed=99, per_fixture=300)
