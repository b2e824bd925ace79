"""Alertmanager adapter: captured-style payloads, every rejection branch, no stray exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.sources.alertmanager import ADAPTER
from alerts.sources.base import PayloadError
from tests.alerts.sources.fixture_cases import (
    assert_only_payload_errors,
    cases,
    check_case,
)


@pytest.mark.parametrize("path", cases("alertmanager"))
def test_alertmanager_fixture_normalizes_as_expected(path: Path) -> None:
    check_case(ADAPTER, path)


def _group(*alerts: dict, **top: object) -> dict:
    return {"version": "4", "status": "firing", "alerts": list(alerts), **top}


def _alert(**fields: object) -> dict:
    base = {"status": "firing", "labels": {"alertname": "KubePodCrashLooping"}, "fingerprint": "abc"}
    return {**base, **fields}


def _error(payload: object) -> str:
    with pytest.raises(PayloadError) as info:
        ADAPTER.parse(payload, headers={})
    return str(info.value)


def test_alertmanager_rejects_non_object_top_level() -> None:
    assert _error([1, 2]) == "the payload must be a JSON object, got array"


def test_alertmanager_rejects_missing_alerts() -> None:
    assert "alerts is required" in _error({"version": "4", "status": "firing"})


def test_alertmanager_rejects_alerts_not_a_list() -> None:
    assert _error(_group() | {"alerts": {"0": {}}}) == "alerts must be an array, got object"


def test_alertmanager_rejects_unknown_version() -> None:
    assert 'version must be "4"' in _error(_group(_alert(), version="5"))


def test_alertmanager_rejects_alert_that_is_not_an_object() -> None:
    assert _error(_group(_alert(), "oops")) == "alerts[1] must be a JSON object, got string"


def test_alertmanager_rejects_unknown_status() -> None:
    assert "alerts[0].status must be firing or resolved" in _error(_group(_alert(status="pending")))


def test_alertmanager_rejects_unknown_group_status() -> None:
    assert "status must be firing or resolved" in _error(_group(_alert(), status="bad"))


def test_alertmanager_requires_a_status_somewhere() -> None:
    payload = {"alerts": [_alert(status=None)]}
    assert "alerts[0].status is required" in _error(payload)


def test_alertmanager_rejects_labels_not_an_object() -> None:
    assert "alerts[0].labels must be an object of strings" in _error(_group(_alert(labels="a=b")))


def test_alertmanager_rejects_nested_label_value() -> None:
    labels = {"alertname": "X", "pod": {"name": {"deep": ["er"]}}}
    message = _error(_group(_alert(labels=labels)))
    assert message == "alerts[0].labels must be an object of strings: alerts[0].labels.pod is object"


def test_alertmanager_requires_alertname() -> None:
    assert "alerts[0].labels.alertname is required" in _error(_group(_alert(labels={"pod": "p"})))


def test_alertmanager_rejects_non_string_annotation() -> None:
    message = _error(_group(_alert(annotations={"summary": ["x"]})))
    assert "alerts[0].annotations.summary is array" in message


def test_alertmanager_rejects_non_string_fingerprint() -> None:
    assert "alerts[0].fingerprint must be a string" in _error(_group(_alert(fingerprint=12)))


def test_alertmanager_rejects_unparsable_starts_at() -> None:
    assert "alerts[0].startsAt is not an RFC 3339 timestamp" in _error(_group(_alert(startsAt="yesterday")))


def test_alertmanager_rejects_impossible_ends_at() -> None:
    message = _error(_group(_alert(endsAt="2025-02-30T00:00:00Z")))
    assert "alerts[0].endsAt is not a valid date and time" in message


def test_alertmanager_rejects_non_string_generator_url() -> None:
    assert "alerts[0].generatorURL must be a string" in _error(_group(_alert(generatorURL=7)))


def test_alertmanager_rejects_non_integer_truncated_alerts() -> None:
    assert "truncatedAlerts must be an integer" in _error(_group(_alert(), truncatedAlerts="3"))


def test_alertmanager_rejects_non_string_receiver() -> None:
    assert "receiver must be a string" in _error(_group(_alert(), receiver=["a"]))


def test_alertmanager_turns_group_label_numbers_into_text() -> None:
    [alert] = ADAPTER.parse(_group(_alert(), groupLabels={"n": 1, "b": True}), headers={})
    assert alert.group["groupLabels"] == {"n": "1", "b": "true"}


def test_alertmanager_rejects_group_labels_with_objects() -> None:
    assert "groupLabels.n is object" in _error(_group(_alert(), groupLabels={"n": {"x": 1}}))


def test_alertmanager_partial_keeps_good_alerts_and_reports_bad_ones() -> None:
    # given a group whose second alert has an array label value and third has no alertname
    payload = _group(
        _alert(labels={"alertname": "A", "replicas": 3}, fingerprint="a"),
        _alert(labels={"alertname": "B", "zones": ["a", "b"]}, fingerprint="b"),
        _alert(labels={"severity": "warning"}, fingerprint="c"),
    )
    # when it is parsed partially
    result = ADAPTER.parse_partial(payload, headers={})
    # then the first is kept (number as text) and the other two are reported by index
    assert [alert.alertname for alert in result.alerts] == ["A"]
    assert result.alerts[0].labels["replicas"] == "3"
    assert [rejection.index for rejection in result.rejected] == [1, 2]
    assert "alerts[1].labels.zones is array" in result.rejected[0].reason
    assert "alerts[2].labels.alertname is required" in result.rejected[1].reason


def test_alertmanager_keeps_two_mib_label_value_verbatim() -> None:
    huge = "é" * (2 * 1024 * 1024)
    [alert] = ADAPTER.parse(_group(_alert(labels={"alertname": "X", "blob": huge})), headers={})
    assert alert.labels["blob"] == huge


def test_alertmanager_hashes_an_overlong_sender_fingerprint() -> None:
    [alert] = ADAPTER.parse(_group(_alert(fingerprint="f" * 10_000)), headers={})
    assert alert.fingerprint.startswith("am:sha256:") and len(alert.fingerprint) == len("am:sha256:") + 32
    assert alert.native_fingerprint == "f" * 10_000


def test_alertmanager_fingerprint_without_sender_one_ignores_label_order() -> None:
    first = _alert(fingerprint=None, labels={"alertname": "X", "pod": "a", "namespace": "n"})
    second = _alert(fingerprint=None, labels={"namespace": "n", "pod": "a", "alertname": "X"})
    [one] = ADAPTER.parse(_group(first), headers={})
    [two] = ADAPTER.parse(_group(second), headers={})
    assert one.fingerprint == two.fingerprint and one.native_fingerprint == ""


def test_alertmanager_firing_and_resolved_share_fingerprint_and_episode() -> None:
    firing = _alert(startsAt="2025-03-14T09:58:07.521380417Z")
    resolved = _alert(
        status="resolved", startsAt="2025-03-14T09:58:07.521380417Z", endsAt="2025-03-14T10:00:00Z"
    )
    [one] = ADAPTER.parse(_group(firing), headers={})
    [two] = ADAPTER.parse(_group(resolved, status="resolved"), headers={})
    assert (one.fingerprint, one.episode) == (two.fingerprint, two.episode)


def test_alertmanager_large_group_parses_every_alert() -> None:
    alerts = [
        _alert(fingerprint=f"{i:016x}", labels={"alertname": "X", "pod": f"p-{i}"}) for i in range(5000)
    ]
    parsed = ADAPTER.parse(_group(*alerts), headers={})
    assert [a.pod for a in parsed[:2]] == ["p-0", "p-1"] and len(parsed) == 5000


def test_alertmanager_raises_only_payload_errors_on_mutated_fixtures() -> None:
    assert_only_payload_errors(ADAPTER, "alertmanager", seed=20250314, per_fixture=300)
