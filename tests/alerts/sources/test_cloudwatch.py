"""CloudWatch-via-SNS adapter: envelopes, raw alarms, text messages, rejections, no stray exceptions."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

import pytest

from alerts.sources.base import PayloadError
from alerts.sources.cloudwatch import ADAPTER
from tests.alerts.sources.fixture_cases import (
    FIXTURES,
    assert_only_payload_errors,
    cases,
    check_case,
    load_json,
    mutations,
)


@pytest.mark.parametrize("path", cases("cloudwatch"))
def test_cloudwatch_fixture_normalizes_as_expected(path: Path) -> None:
    check_case(ADAPTER, path)


def _error(payload: object) -> str:
    with pytest.raises(PayloadError) as info:
        ADAPTER.parse(payload, headers={})
    return str(info.value)


def _alarm(**fields: object) -> dict:
    envelope = load_json(FIXTURES / "cloudwatch" / "ci_pod_cpu_alarm.json")
    return {**json.loads(envelope["Message"]), **fields}


def _envelope(alarm: dict, **fields: object) -> dict:
    envelope = load_json(FIXTURES / "cloudwatch" / "ci_pod_cpu_alarm.json")
    return {**envelope, "Message": json.dumps(alarm), **fields}


def test_cloudwatch_rejects_non_object_top_level() -> None:
    assert _error(42) == "the payload must be a JSON object, got number"


def test_cloudwatch_rejects_object_that_is_neither_envelope_nor_alarm() -> None:
    assert "Type is required" in _error({"hello": "world"})


def test_cloudwatch_rejects_unsubscribe_confirmation() -> None:
    assert "UnsubscribeConfirmation is an SNS subscription message" in _error(
        _envelope(_alarm(), Type="UnsubscribeConfirmation")
    )


def test_cloudwatch_rejects_unknown_envelope_type() -> None:
    assert "Type must be Notification" in _error(_envelope(_alarm(), Type="Telegram"))


def test_cloudwatch_rejects_non_string_type() -> None:
    assert "Type must be a string, got array" in _error(_envelope(_alarm(), Type=["Notification"]))


def test_cloudwatch_rejects_missing_message() -> None:
    assert "Message is required" in _error(_envelope(_alarm(), Message=""))


def test_cloudwatch_rejects_message_that_is_not_a_string() -> None:
    assert "Message must be a string, got object" in _error(_envelope(_alarm(), Message={"AlarmName": "x"}))


def test_cloudwatch_rejects_alarm_without_name() -> None:
    assert "Message.AlarmName is required" in _error(_envelope(_alarm(AlarmName="")))


def test_cloudwatch_rejects_unknown_state() -> None:
    message = _error(_envelope(_alarm(NewStateValue="PENDING")))
    assert "Message.NewStateValue must be ALARM, OK or INSUFFICIENT_DATA" in message


def test_cloudwatch_rejects_unparsable_state_change_time() -> None:
    message = _error(_envelope(_alarm(StateChangeTime="14/03/2025 09:58")))
    assert "Message.StateChangeTime is not an RFC 3339 timestamp" in message


def test_cloudwatch_rejects_trigger_that_is_not_an_object() -> None:
    assert "Message.Trigger must be a JSON object, got string" in _error(_envelope(_alarm(Trigger="cpu")))


def test_cloudwatch_rejects_dimensions_that_are_not_a_list() -> None:
    alarm = _alarm()
    alarm["Trigger"]["Dimensions"] = {"ClusterName": "prod"}
    assert "Message.Trigger.Dimensions must be an array, got object" in _error(_envelope(alarm))


def test_cloudwatch_rejects_metrics_that_are_not_a_list() -> None:
    alarm = _alarm()
    alarm["Trigger"]["Metrics"] = {}
    assert "Message.Trigger.Metrics must be an array, got object" in _error(_envelope(alarm))


def test_cloudwatch_rejects_dimension_without_name() -> None:
    alarm = _alarm()
    alarm["Trigger"]["Dimensions"] = [{"value": "prod"}]
    assert "Message.Trigger.Dimensions[0].Name is required" in _error(_envelope(alarm))


def test_cloudwatch_rejects_metric_math_metric_that_is_not_an_object() -> None:
    alarm = _alarm()
    alarm["Trigger"]["Metrics"] = [{"Id": "m1", "MetricStat": {"Metric": "cpu"}}]
    assert "Message.Trigger.Metrics[0].MetricStat.Metric must be a JSON object" in _error(_envelope(alarm))


def test_cloudwatch_rejects_raw_alarm_with_nested_name() -> None:
    assert "AlarmName must be a string, got object" in _error(_alarm(AlarmName={"a": {"b": 1}}))


def test_cloudwatch_raw_alarm_without_header_has_no_delivery_id() -> None:
    [alert] = ADAPTER.parse(_alarm(), headers={})
    assert alert.delivery_id == "" and alert.status == "firing"


def test_cloudwatch_fingerprint_without_arn_uses_account_region_and_name() -> None:
    [alert] = ADAPTER.parse(_alarm(AlarmArn=None), headers={})
    assert alert.fingerprint == "cw:123456789012:EU (Ireland):payments-api-pod-cpu-high"
    assert alert.links == {}


def test_cloudwatch_message_that_looks_like_json_but_is_not_is_text() -> None:
    [alert] = ADAPTER.parse(_envelope(_alarm(), Message="{oops", Subject=None), headers={})
    assert (alert.alertname, alert.description) == ("{oops", "{oops")


def test_cloudwatch_raises_only_payload_errors_on_mutated_fixtures() -> None:
    assert_only_payload_errors(ADAPTER, "cloudwatch", seed=3, per_fixture=300)


def test_cloudwatch_raises_only_payload_errors_on_mutated_alarms() -> None:
    # The alarm travels as a string: mutate it before it is encoded, too.
    rng = random.Random(5)
    for variant in mutations(_alarm(), rng, 600):
        with contextlib.suppress(PayloadError):
            ADAPTER.parse(_envelope(variant), headers={})


def test_cloudwatch_deeply_nested_message_is_plain_text() -> None:
    deep = '{"a":' * 50_000 + "1" + "}" * 50_000
    [alert] = ADAPTER.parse(_envelope(_alarm(), Message=deep, Subject="deep"), headers={})
    assert (alert.alertname, alert.description) == ("deep", deep)
