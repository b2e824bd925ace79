"""Datadog adapter: template, default and form-encoded payloads, rejections, no stray exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.sources.base import PayloadError
from alerts.sources.datadog import ADAPTER
from tests.alerts.sources.fixture_cases import assert_only_payload_errors, cases, check_case


@pytest.mark.parametrize("path", cases("datadog"))
def test_datadog_fixture_normalizes_as_expected(path: Path) -> None:
    check_case(ADAPTER, path)


def _error(payload: object) -> str:
    with pytest.raises(PayloadError) as info:
        ADAPTER.parse(payload, headers={})
    return str(info.value)


def _body(**fields: object) -> dict:
    return {"alert_id": "1", "alert_title": "[Triggered] CPU high", **fields}


def _parse(**fields: object):
    [alert] = ADAPTER.parse(_body(**fields), headers={})
    return alert


def test_datadog_rejects_non_object_top_level() -> None:
    assert _error(None) == "the payload must be a JSON object, got null"


def test_datadog_requires_a_title() -> None:
    assert "alert_title (or title) is required" in _error({"alert_id": "1", "title": "  "})


def test_datadog_rejects_non_string_title() -> None:
    assert _error({"alert_title": {"x": 1}}) == "alert_title must be a string, got object"


def test_datadog_rejects_fractional_alert_id() -> None:
    assert "alert_id must be a string or a whole number" in _error(_body(alert_id=1.5))


def test_datadog_rejects_non_scalar_event_id() -> None:
    assert "id must be a string or a whole number" in _error(_body(id=[1]))


def test_datadog_rejects_unparsable_date() -> None:
    assert "date must be epoch milliseconds" in _error(_body(date="yesterday"))


def test_datadog_rejects_out_of_range_date() -> None:
    assert "date is out of range" in _error(_body(date=1e20))


def test_datadog_rejects_org_that_is_not_an_object() -> None:
    assert "org must be a JSON object, got array" in _error(_body(org=["x"]))


def test_datadog_rejects_non_string_org_name() -> None:
    assert "org.name must be a string" in _error(_body(org={"id": "1", "name": 5}))


def test_datadog_form_org_that_is_not_json_is_ignored() -> None:
    assert _parse(org="$ORG_ID").group == {}


def test_datadog_unknown_transition_is_firing() -> None:
    assert _parse(alert_transition="Escalated").status == "firing"


def test_datadog_success_type_without_transition_is_resolved() -> None:
    assert _parse(alert_title="CPU high", alert_type="success").status == "resolved"


def test_datadog_scope_order_does_not_change_the_fingerprint() -> None:
    one = _parse(alert_scope="pod_name:a,kube_namespace:b")
    two = _parse(alert_scope="kube_namespace:b, pod_name:a")
    assert one.fingerprint == two.fingerprint == "dd:1:kube_namespace:b,pod_name:a"


def test_datadog_date_in_seconds_is_understood() -> None:
    assert _parse(date=1741946287).as_json()["starts_at"] == "2025-03-14T09:58:07Z"


def test_datadog_huge_tags_string_passes_through() -> None:
    huge = "x" * (2 * 1024 * 1024)
    assert _parse(tags=f"blob:{huge}").labels["blob"] == huge


def test_datadog_overlong_scope_gives_a_bounded_fingerprint() -> None:
    alert = _parse(alert_scope="pod_name:" + "p" * 5000)
    assert alert.fingerprint.startswith("dd:sha256:") and len(alert.fingerprint) < 64


def test_datadog_raises_only_payload_errors_on_mutated_fixtures() -> None:
    assert_only_payload_errors(ADAPTER, "datadog", seed=7, per_fixture=300)


def test_datadog_deeply_nested_form_org_is_ignored() -> None:
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    assert _parse(org=deep).group == {}


def test_datadog_title_of_brackets_only_keeps_the_title_as_name() -> None:
    alert = _parse(alert_title="[Triggered on {kube_namespace:shop}]")
    assert (alert.alertname, alert.namespace, alert.status) == (
        "[Triggered on {kube_namespace:shop}]",
        "shop",
        "firing",
    )
