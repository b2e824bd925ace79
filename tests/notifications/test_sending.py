"""Sending investigation results to Slack through slack_sdk against a local Slack Web API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.notifications.conftest import BOT_TOKEN
from tests.notifications.slack_server import Reply, channel_id

pytestmark = pytest.mark.django_db

SEND = "notifications.tasks.send_investigation_notifications"


def _notify(investigation, org, in_schema, capture) -> None:
    from notifications.services import notify_investigation_finished

    with in_schema(org), capture(execute=True):
        notify_investigation_finished(investigation)


def _deliveries(org, in_schema) -> list:
    from notifications.models import SlackDelivery

    with in_schema(org):
        return list(SlackDelivery.objects.order_by("pk"))


def test_notify_enqueues_on_notifications_queue_after_commit(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, django_capture_on_commit_callbacks
):
    connect_slack(org)
    investigation = make_investigation(org)

    with in_schema(org), django_capture_on_commit_callbacks(execute=False) as callbacks:
        from notifications.services import notify_investigation_finished

        notify_investigation_finished(investigation)
        assert jobs.enqueued == []  # nothing before commit
    for callback in callbacks:
        callback()

    [job] = jobs.enqueued
    assert (job.queue, job.func, job.args) == ("notifications", SEND, (org.schema, investigation.pk))
    assert job.retry.max == 4


def test_notify_does_nothing_without_a_slack_connection(
    org, make_investigation, in_schema, jobs, django_capture_on_commit_callbacks
):
    investigation = make_investigation(org)
    _notify(investigation, org, in_schema, django_capture_on_commit_callbacks)
    assert jobs.enqueued == []


def test_send_posts_the_message_and_records_the_delivery(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, django_capture_on_commit_callbacks
):
    connect_slack(org, default_channel="#ops")
    investigation = make_investigation(org)

    _notify(investigation, org, in_schema, django_capture_on_commit_callbacks)
    [result] = jobs.run()

    [call] = slack_api.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert call.body["channel"] == "#ops"
    assert call.body["blocks"][0]["text"]["text"] == "KubePodOOMKilled"
    assert any(b["type"] == "actions" for b in call.body["blocks"])
    assert call.body["unfurl_links"] is False
    [delivery] = _deliveries(org, in_schema)
    assert (delivery.status, delivery.route, delivery.channel_id, delivery.attempts) == (
        "sent",
        "default",
        channel_id("#ops"),
        1,
    )
    assert delivery.ts.startswith("1700000000.") and result["sent"] == 1


def test_send_twice_posts_once(org, slack_api, connect_slack, make_investigation, in_schema, jobs):
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    send_investigation_notifications(org.schema, investigation.pk)
    send_investigation_notifications(org.schema, investigation.pk)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("rule_channel", "cluster_override", "expected"),
    [
        ("#payments-oncall", "#cluster-eu", [("#payments-oncall", "rule")]),
        ("", "#cluster-eu", [("#cluster-eu", "cluster")]),
        (None, None, [("#ops", "default")]),
        ("#a, #b", None, [("#a", "rule"), ("#b", "rule")]),
    ],
)
def test_send_routes_rule_over_cluster_over_default(
    org, slack_api, connect_slack, make_investigation, in_schema, rule_channel, cluster_override, expected
):
    from notifications.models import NotificationRoute
    from notifications.tasks import send_investigation_notifications

    connect_slack(org, default_channel="#ops")
    if cluster_override:
        with in_schema(org):
            NotificationRoute.objects.create(cluster_name="prod-eu-1", channel=cluster_override)
            NotificationRoute.objects.create(cluster_name="other-cluster", channel="#never")
    investigation = make_investigation(org, rule_channel=rule_channel)

    send_investigation_notifications(org.schema, investigation.pk)

    assert [c.body["channel"] for c in slack_api.calls_to("chat.postMessage")] == [c for c, _ in expected]
    assert [(d.channel, d.route) for d in _deliveries(org, in_schema)] == expected


def test_send_always_default_adds_the_default_channel_once(
    org, slack_api, connect_slack, make_investigation, in_schema
):
    from notifications.tasks import send_investigation_notifications

    connect_slack(org, default_channel="#ops", always_default=True)
    investigation = make_investigation(org, rule_channel="#payments, ops")

    send_investigation_notifications(org.schema, investigation.pk)

    assert [c.body["channel"] for c in slack_api.calls_to("chat.postMessage")] == ["#payments", "ops"]


def test_send_waits_out_a_429_for_its_retry_after(
    org, slack_api, connect_slack, make_investigation, in_schema, no_sleep
):
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    slack_api.script(
        "chat.postMessage", Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "2"})
    )

    send_investigation_notifications(org.schema, investigation.pk)

    assert no_sleep == [2.0]
    assert len(slack_api.calls_to("chat.postMessage")) == 2
    [delivery] = _deliveries(org, in_schema)
    assert delivery.status == "sent"


def test_send_reschedules_for_a_long_retry_after(
    org,
    slack_api,
    connect_slack,
    make_investigation,
    in_schema,
    jobs,
    no_sleep,
    django_capture_on_commit_callbacks,
):
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    slack_api.script(
        "chat.postMessage", Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "120"})
    )

    with django_capture_on_commit_callbacks(execute=True):
        outcome = send_investigation_notifications(org.schema, investigation.pk)

    assert no_sleep == []  # too long to block a worker: rescheduled instead
    assert outcome["rescheduled_in"] == 120
    [job] = jobs.enqueued
    assert (job.func, job.args, job.delay) == (SEND, (org.schema, investigation.pk), timedelta(seconds=120))
    [delivery] = _deliveries(org, in_schema)
    assert delivery.status == "retrying" and "retry after 120" in delivery.last_error
    jobs.run()  # Slack answers normally now
    [delivery] = _deliveries(org, in_schema)
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_send_permanent_slack_error_is_recorded_and_the_investigation_is_unaffected(
    org, slack_api, connect_slack, make_investigation, in_schema
):
    from investigations.models import Investigation
    from notifications.tasks import send_investigation_notifications

    connect_slack(org, default_channel="#gone")
    investigation = make_investigation(org)
    slack_api.script("chat.postMessage", Reply(200, {"ok": False, "error": "channel_not_found"}))

    outcome = send_investigation_notifications(org.schema, investigation.pk)

    assert outcome["failed"] == 1
    [delivery] = _deliveries(org, in_schema)
    assert (delivery.status, delivery.last_error) == ("failed", "channel_not_found")
    with in_schema(org):
        fresh = Investigation.objects.get(pk=investigation.pk)
    assert (fresh.status, fresh.summary, fresh.failure_reason) == (
        "completed",
        investigation.summary,
        "",
    )


def test_send_transient_error_is_retried_then_fails_after_max_attempts(
    org, slack_api, connect_slack, make_investigation, in_schema
):
    from notifications.services import MAX_ATTEMPTS, RetryLater
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    slack_api.script(
        "chat.postMessage", *[Reply(500, {"ok": False, "error": "internal_error"})] * MAX_ATTEMPTS
    )

    for _attempt in range(MAX_ATTEMPTS - 1):
        with pytest.raises(RetryLater):  # RQ's Retry reschedules with backoff
            send_investigation_notifications(org.schema, investigation.pk)
        assert _deliveries(org, in_schema)[0].status == "retrying"
    send_investigation_notifications(org.schema, investigation.pk)

    [delivery] = _deliveries(org, in_schema)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        MAX_ATTEMPTS,
        "internal_error",
    )


def test_resolved_alert_updates_the_original_message(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, django_capture_on_commit_callbacks
):
    from alerts.models import Signal
    from notifications.services import notify_signal_resolved
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    send_investigation_notifications(org.schema, investigation.pk)
    [delivery] = _deliveries(org, in_schema)

    with in_schema(org), django_capture_on_commit_callbacks(execute=True):
        signal = Signal.objects.get(pk=investigation.signal_id)
        signal.status = "resolved"
        signal.save(update_fields=["status"])
        notify_signal_resolved(signal)
    jobs.run()

    assert len(slack_api.calls_to("chat.postMessage")) == 1  # no second post
    [update] = slack_api.calls_to("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (delivery.channel_id, delivery.ts)
    assert "Alert resolved" in update.body["blocks"][1]["elements"][0]["text"]
    assert update.body["text"].startswith("Resolved: ")
    assert _deliveries(org, in_schema)[0].resolved_update_at is not None


def test_resolved_signals_of_one_payload_make_one_job(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, django_capture_on_commit_callbacks
):
    from alerts.models import Signal
    from notifications.services import notify_signals_resolved

    connect_slack(org)
    first, second = make_investigation(org), make_investigation(org)
    with in_schema(org), django_capture_on_commit_callbacks(execute=True):
        signals = list(Signal.objects.filter(pk__in=[first.signal_id, second.signal_id]).order_by("pk"))
        for signal in signals:
            signal.status = "resolved"
        notify_signals_resolved(signals)

    [job] = jobs.enqueued
    assert job.args == (org.schema, first.signal_id, second.signal_id)


def test_resolved_signal_without_investigation_enqueues_nothing(
    org, in_schema, jobs, django_capture_on_commit_callbacks
):
    from alerts.models import Signal
    from notifications.services import notify_signal_resolved

    with in_schema(org), django_capture_on_commit_callbacks(execute=True):
        signal = Signal.objects.create(source="generic", fingerprint="x", status="resolved", alertname="A")
        notify_signal_resolved(signal)
    assert jobs.enqueued == []


def test_deliveries_are_invisible_to_another_organization(
    org, other_org, slack_api, connect_slack, make_investigation, in_schema
):
    from notifications.models import SlackConnection
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    send_investigation_notifications(org.schema, investigation.pk)

    assert len(_deliveries(org, in_schema)) == 1
    assert _deliveries(other_org, in_schema) == []
    with in_schema(other_org):
        assert not SlackConnection.objects.exists()
        # Beta cannot send alpha's investigation by id: it does not exist there.
        assert send_investigation_notifications(other_org.schema, investigation.pk)["skipped"]
