"""The daily digest: numbers from known data, day-over-day changes, and the scheduler's clock."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tests.notifications.conftest import BOT_TOKEN

pytestmark = pytest.mark.django_db

UTC = dt.UTC
END = dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
TODAY = END - dt.timedelta(hours=3)  # inside the last 24 hours
YESTERDAY = END - dt.timedelta(hours=30)  # inside the 24 hours before
LONG_AGO = END - dt.timedelta(days=5)
_fp = itertools.count()


def _signals(org, in_schema, when, alertname, count, severity="warning", namespace="shop", pipeline=False):
    from alerts.models import Signal

    with in_schema(org):
        for _ in range(count):
            Signal.objects.create(
                source="alertmanager",
                fingerprint=f"digest-{next(_fp)}",
                status="resolved",
                alertname=alertname,
                severity=severity,
                namespace=namespace,
                pipeline=pipeline,
                first_received_at=when,
                last_received_at=when,
            )


def _investigation(org, in_schema, when, status="completed", category="oom-killed"):
    from investigations.models import Investigation

    with in_schema(org):
        return Investigation.objects.create(
            status=status, root_cause_category=category if status == "completed" else "", finished_at=when
        )


def _feedback(org, in_schema, investigation, rating, user_id, when):
    from investigations.feedback import InvestigationFeedback

    with in_schema(org):
        InvestigationFeedback.objects.create(
            investigation=investigation,
            user_id=user_id,
            email=f"u{user_id}@x.test",
            rating=rating,
            updated_at=when,
        )


@pytest.fixture
def known_data(org, in_schema):
    # Today: 4 CPU throttling (new), 7 memory (3 yesterday: rising), 1 crash loop (1 yesterday: same).
    _signals(org, in_schema, TODAY, "CPUThrottlingHigh", 4, namespace="search")
    _signals(org, in_schema, TODAY, "KubeMemoryHigh", 7, severity="critical")
    _signals(org, in_schema, TODAY, "KubePodCrashLooping", 1, severity="critical", namespace="payments")
    _signals(
        org, in_schema, TODAY, "Watchdog", 9, severity="info", pipeline=True
    )  # the pipeline itself: ignored
    # The day before: 3 memory, 1 crash loop, 2 disk pressure (quiet today).
    _signals(org, in_schema, YESTERDAY, "KubeMemoryHigh", 3, severity="critical")
    _signals(org, in_schema, YESTERDAY, "KubePodCrashLooping", 1, severity="critical", namespace="payments")
    _signals(org, in_schema, YESTERDAY, "NodeDiskPressure", 2, severity="warning", namespace="")
    _signals(org, in_schema, LONG_AGO, "KubeMemoryHigh", 50)  # outside both windows
    first = _investigation(org, in_schema, TODAY)
    second = _investigation(org, in_schema, TODAY, category="cpu-throttling")
    third = _investigation(org, in_schema, TODAY)
    _investigation(org, in_schema, TODAY, status="failed")
    _investigation(org, in_schema, YESTERDAY)
    _feedback(org, in_schema, first, "accurate", 1, TODAY)
    _feedback(org, in_schema, second, "partial", 1, TODAY)
    _feedback(org, in_schema, third, "needs_improvement", 2, TODAY)
    _feedback(org, in_schema, first, "accurate", 3, TODAY)
    _feedback(org, in_schema, third, "needs_improvement", 4, YESTERDAY)


def _rows(rows):
    return [(r.name, r.count, r.previous) for r in rows]


def test_digest_counts_and_day_over_day_changes(org, in_schema, known_data):
    from notifications.digest import digest_compute

    with in_schema(org):
        digest = digest_compute(end=END)

    assert (digest.total, digest.previous_total, digest.change, digest.change_percent) == (12, 6, 6, 100)
    assert _rows(digest.by_severity) == [("critical", 8, 4), ("warning", 4, 2)]
    assert _rows(digest.by_namespace) == [
        ("shop", 7, 3),
        ("search", 4, 0),
        ("payments", 1, 1),
        ("(none)", 0, 2),
    ]
    assert _rows(digest.new_types) == [("CPUThrottlingHigh", 4, 0)]
    assert _rows(digest.rising_types) == [("KubeMemoryHigh", 7, 3)]
    assert _rows(digest.quiet_types) == [("NodeDiskPressure", 0, 2)]
    assert (digest.investigations_completed, digest.investigations_failed, digest.previous_completed) == (
        3,
        1,
        1,
    )
    assert digest.root_causes == [("oom-killed", 2), ("cpu-throttling", 1)]
    # accurate 1 + partial 0.5 + needs improvement 0 + accurate 1 over 4 ratings; the day before: 0.
    assert (digest.feedback_count, digest.accuracy, digest.previous_accuracy) == (4, 0.625, 0.0)


def test_digest_rising_needs_real_growth():
    from notifications.digest import Row, is_rising

    assert is_rising(Row("a", 7, 3)) and is_rising(Row("b", 2, 1)) and is_rising(Row("c", 13, 10))
    assert not is_rising(Row("d", 11, 10)) and not is_rising(Row("e", 4, 0)) and not is_rising(Row("f", 3, 3))


def test_digest_message_leads_with_what_changed(org, in_schema, known_data):
    from notifications.digest import digest_compute, digest_message

    with in_schema(org):
        message = digest_message(
            digest_compute(end=END, insights_url="http://alpha.localhost:8000/insights/"), "Alpha"
        )

    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert texts[0] == "*12* alerts in the last 24 h, +6 (+100%) vs the day before"
    assert texts[1] == "*New alert types*\n• CPUThrottlingHigh: 0 → *4*"
    assert texts[2] == "*Rising*\n• KubeMemoryHigh: 3 → *7*"
    assert texts[3] == "*Gone quiet*\n• NodeDiskPressure: 2 → *0*"
    assert "*By severity*\ncritical 8 (+4) · warning 4 (+2)" in texts
    assert "*Feedback accuracy:* 62% of 4 ratings (was 0%)" in texts[-1]
    assert "`oom-killed` 2" in texts[-1]
    assert (
        message["blocks"][-1]["elements"][0]["text"]
        == "<http://alpha.localhost:8000/insights/|Open insights>"
    )


def test_digest_of_another_organization_sees_none_of_it(org, other_org, in_schema, known_data):
    from notifications.digest import digest_compute

    with in_schema(other_org):
        digest = digest_compute(end=END)
    assert (digest.total, digest.previous_total, digest.investigations_completed, digest.feedback_count) == (
        0,
        0,
        0,
        0,
    )


@pytest.fixture
def berlin_digest(org, connect_slack):
    # 09:00 in Berlin is 08:00 UTC in March (CET, UTC+1).
    connect_slack(
        org, digest_channel="#daily-ops", digest_time=dt.time(9, 0), digest_timezone="Europe/Berlin"
    )


def test_scheduler_sends_at_the_configured_local_time_once_a_day(
    org, other_org, slack_api, in_schema, jobs, berlin_digest, known_data, django_capture_on_commit_callbacks
):
    from notifications.tasks import digests_due_everywhere

    def tick(now):
        with django_capture_on_commit_callbacks(execute=True):
            return digests_due_everywhere(now=now)

    assert tick(dt.datetime(2026, 3, 10, 7, 59, tzinfo=UTC)) == 0  # 08:59 in Berlin: not yet
    assert tick(dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC)) == 1
    assert tick(dt.datetime(2026, 3, 10, 8, 5, tzinfo=UTC)) == 0  # already sent today
    assert tick(dt.datetime(2026, 3, 10, 22, 0, tzinfo=UTC)) == 0
    [job] = jobs.enqueued
    assert (job.queue, job.func, job.args) == (
        "notifications",
        "notifications.tasks.send_digest",
        (org.schema, "2026-03-10T09:00:00+01:00", "2026-03-10"),
    )
    jobs.run()
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.body["channel"] == "#daily-ops" and call.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert (
        "CPUThrottlingHigh: 0 → *4*" in call.body["blocks"][2]["text"]["text"]
    )  # the window ends at the slot
    assert tick(dt.datetime(2026, 3, 11, 8, 0, tzinfo=UTC)) == 1  # the next day
    with in_schema(other_org):  # beta has no Slack connection: never due
        from notifications.models import SlackDelivery

        assert not SlackDelivery.objects.exists()


def test_scheduler_uses_the_local_date_not_the_utc_date(
    org, slack_api, in_schema, jobs, connect_slack, django_capture_on_commit_callbacks
):
    from notifications.tasks import digests_due_everywhere

    connect_slack(org, digest_time=dt.time(0, 30), digest_timezone="America/New_York")  # 05:30 UTC in January

    def tick(now):
        with django_capture_on_commit_callbacks(execute=True):
            return digests_due_everywhere(now=now)

    assert tick(dt.datetime(2026, 1, 15, 5, 29, tzinfo=UTC)) == 0  # 00:29 in New York
    assert tick(dt.datetime(2026, 1, 15, 5, 31, tzinfo=UTC)) == 1
    # 23:59 on the 15th in New York, although already the 16th in UTC: today's digest was sent.
    assert tick(dt.datetime(2026, 1, 16, 4, 59, tzinfo=UTC)) == 0
    assert tick(dt.datetime(2026, 1, 16, 5, 30, tzinfo=UTC)) == 1
    assert [job.args[1:] for job in jobs.enqueued] == [
        ("2026-01-15T00:30:00-05:00", "2026-01-15"),
        ("2026-01-16T00:30:00-05:00", "2026-01-16"),
    ]


def test_scheduler_skips_disabled_digest(
    org, slack_api, in_schema, jobs, connect_slack, django_capture_on_commit_callbacks
):
    from notifications.tasks import digests_due_everywhere

    connect_slack(org, digest_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_due_everywhere(now=dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)) == 0
    assert jobs.enqueued == []


def test_scheduled_digest_job_posts_once_even_if_run_twice(org, slack_api, in_schema, berlin_digest):
    from notifications.tasks import send_digest

    send_digest(org.schema, END.isoformat(), "2026-03-10")
    send_digest(org.schema, END.isoformat(), "2026-03-10")
    assert len(slack_api.calls_to("chat.postMessage")) == 1
