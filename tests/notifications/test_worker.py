"""A real `rqworker` process runs the notification job from the `notifications` queue: it enters the
organization's schema, posts through slack_sdk to the local Slack server (waiting out a 429), and
records the delivery. Uses its own Redis DB so no other suite's jobs are picked up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from tests.notifications.slack_server import Reply, SlackServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("NOTIFY_TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture
def committed(_orgs, django_db_blocker):
    with django_db_blocker.unblock():
        yield _orgs
        from django.db import connection

        connection.set_schema_to_public()


@pytest.fixture
def queue():
    from redis import Redis
    from rq import Queue

    notifications = Queue("notifications", connection=Redis.from_url(REDIS_URL))
    notifications.empty()
    yield notifications
    notifications.empty()


@pytest.fixture
def slack():
    server = SlackServer().start()
    yield server
    server.stop()


def _run_worker(slack_url: str) -> subprocess.CompletedProcess:
    from django.db import connection

    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.notifications.worker_settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        TEST_REDIS_URL=REDIS_URL,
        NOTIFY_TEST_SLACK_API_BASE_URL=f"{slack_url}/api/",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", "notifications", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_worker_posts_investigation_result_through_the_notifications_queue(committed, queue, slack):
    from alerts.models import Signal
    from investigations.models import Investigation
    from notifications.models import (
        InstallMethod,
        NotificationSettings,
        SlackConnection,
        SlackDelivery,
    )
    from notifications.services import RETRY, connection_save
    from tests.notifications.conftest import BOT_TOKEN, RESULT

    alpha, beta = committed["alpha"], committed["beta"]
    with schema_context(alpha.schema):
        connection_save(
            token=BOT_TOKEN,
            team_id="T0WORKER1",
            team_name="Acme",
            bot_user_id="U0BOT",
            method=InstallMethod.PASTED,
            installed_by="owner@alpha.test",
        )
        NotificationSettings.objects.update_or_create(singleton=True, defaults={"default_channel": "#ops"})
        signal = Signal.objects.create(
            source="alertmanager", fingerprint="worker-fp", status="firing", alertname="KubePodOOMKilled"
        )
        investigation = Investigation.objects.create(signal=signal, status="completed", result=RESULT)
    slack.script("chat.postMessage", Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}))
    try:
        queue.enqueue(
            "notifications.tasks.send_investigation_notifications",
            alpha.schema,
            investigation.pk,
            retry=RETRY,
        )

        worker = _run_worker(slack.url)

        assert worker.returncode == 0, worker.stderr[-3000:]
        posts = slack.calls_to("chat.postMessage")
        assert len(posts) == 2  # the 429, then the post after waiting Retry-After
        assert posts[1].body["channel"] == "#ops"
        assert posts[1].headers["authorization"] == f"Bearer {BOT_TOKEN}"
        with schema_context(alpha.schema):
            delivery = SlackDelivery.objects.get(investigation=investigation)
            assert (delivery.status, delivery.attempts, delivery.ts) == ("sent", 1, "1700000000.000001")
            assert Investigation.objects.get(pk=investigation.pk).status == "completed"
        with schema_context(beta.schema):
            assert not SlackDelivery.objects.exists()
    finally:
        with schema_context(alpha.schema):
            Investigation.objects.filter(pk=investigation.pk).delete()
            Signal.objects.filter(pk=signal.pk).delete()
            SlackConnection.objects.all().delete()
            NotificationSettings.objects.all().delete()
