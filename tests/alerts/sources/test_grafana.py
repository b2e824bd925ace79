"""Grafana adapter: unified and legacy payloads, every rejection branch, no stray exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.sources.base import PayloadError
from alerts.sources.grafana import ADAPTER
from tests.alerts.sources.fixture_cases import assert_only_payload_errors, cases, check_case


@pytest.mark.parametrize("path", cases("grafana"))
def test_grafana_fixture_normalizes_as_expected(path: Path) -> None:
    check_case(ADAPTER, path)


def _error(payload: object) -> str:
    with pytest.raises(PayloadError) as info:
        ADAPTER.parse(payload, headers={})
    return str(info.value)


def _unified(**alert: object) -> dict:
    base = {"status": "firing", "labels": {"alertname": "CPU high"}, "fingerprint": "0123456789abcdef"}
    return {"version": "1", "status": "firing", "alerts": [{**base, **alert}]}


def test_grafana_rejects_non_object_top_level() -> None:
    assert _error("hello") == "the payload must be a JSON object, got string"


def test_grafana_rejects_body_that_is_neither_unified_nor_legacy() -> None:
    assert "alerts is required" in _error({"title": "x"})


def test_grafana_rejects_other_version() -> None:
    assert 'version must be "1"' in _error(_unified() | {"version": "4"})


def test_grafana_rejects_non_string_version() -> None:
    assert "got number" in _error(_unified() | {"version": 1})


def test_grafana_rejects_non_string_dashboard_url() -> None:
    assert "alerts[0].dashboardURL must be a string" in _error(_unified(dashboardURL=["x"]))


def test_grafana_rejects_non_number_org_id() -> None:
    assert "orgId must be a string or a number" in _error(_unified() | {"orgId": {"id": 1}})


def test_grafana_rejects_offset_timestamp_that_is_not_rfc3339() -> None:
    assert "alerts[0].startsAt is not an RFC 3339" in _error(_unified(startsAt="14/03/2025 10:00 +0200"))


def test_grafana_legacy_requires_rule_name() -> None:
    assert "ruleName is required" in _error({"state": "alerting", "title": "x"})


def test_grafana_legacy_requires_state() -> None:
    assert "state is required" in _error({"ruleName": "x", "evalMatches": []})


def test_grafana_legacy_rejects_non_list_eval_matches() -> None:
    assert "evalMatches must be an array" in _error({"ruleName": "x", "state": "ok", "evalMatches": "none"})


def test_grafana_legacy_rejects_non_number_eval_value() -> None:
    payload = {"ruleName": "x", "state": "ok", "evalMatches": [{"value": "97", "metric": "m"}]}
    assert "evalMatches[0].value must be a number or null" in _error(payload)


def test_grafana_legacy_rejects_nested_tags() -> None:
    payload = {"ruleName": "x", "state": "ok", "tags": {"team": {"name": "a"}}}
    assert "tags must be an object of strings: tags.team is object" in _error(payload)


def test_grafana_legacy_rejects_non_integer_rule_id() -> None:
    assert "ruleId must be a string or a whole number" in _error(
        {"ruleName": "x", "state": "ok", "ruleId": 1.5}
    )


def test_grafana_pipeline_flag_is_only_for_datasource_alerts() -> None:
    [normal] = ADAPTER.parse(_unified(labels={"alertname": "DatasourceNoDataButReal"}), headers={})
    [nodata] = ADAPTER.parse(_unified(labels={"alertname": "DatasourceNoData", "rulename": "r"}), headers={})
    assert (normal.pipeline, nodata.pipeline) == (False, True)
    assert nodata.labels["rulename"] == "r"


def test_grafana_raises_only_payload_errors_on_mutated_fixtures() -> None:
    assert_only_payload_errors(ADAPTER, "grafana", seed=11, per_fixture=300)
