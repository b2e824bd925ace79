"""Fixtures of the Slack notification tests: a local Slack Web API, a connected workspace, jobs run
in-process, and investigations with known results."""

from __future__ import annotations

import dataclasses
import importlib
import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.notifications.slack_server import SlackServer

BOT_TOKEN = "xoxb-1111-2222-secretbottoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM_ID = "T0ALPHA01"

RESULT = {
    "root_cause": {
        "category": "oom-killed",
        "resource": {"kind": "Deployment", "namespace": "shop", "name": "checkout"},
        "summary": "checkout is OOMKilled at its 256Mi limit",
        "explanation": "Exit code 137 [E1] with a 256Mi limit [E2].",
        "confidence": 0.86,
    },
    "recommendations": [
        {
            "title": "Raise the memory limit",
            "kind": "immediate",
            "rationale": "The heap does not fit in the limit.",
            "commands": ["kubectl -n shop set resources deployment/checkout -c app --limits=memory=512Mi"],
        },
        {
            "title": "Watch the rollout",
            "kind": "verify",
            "rationale": "",
            "commands": ["kubectl -n shop rollout status deployment/checkout"],
        },
    ],
    "topology": {
        "nodes": [
            {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f-abcde", "role": "alerting"},
            {"kind": "Deployment", "namespace": "shop", "name": "checkout", "role": "workload"},
            {"kind": "Service", "namespace": "shop", "name": "checkout", "role": "service"},
            {"kind": "ConfigMap", "namespace": "shop", "name": "checkout-config", "role": "related"},
        ],
        "edges": [],
    },
}


@pytest.fixture
def slack_api(settings) -> Iterator[SlackServer]:
    server = SlackServer().start()
    settings.SLACK_API_BASE_URL = f"{server.url}/api/"
    settings.SLACK_AUTHORIZE_URL = f"{server.url}/oauth/v2/authorize"
    settings.SLACK_CLIENT_ID = "1234.5678"
    settings.SLACK_CLIENT_SECRET = "client-secret-xyz"
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    yield server
    server.stop()


@pytest.fixture
def connect_slack(in_schema):
    """connect_slack(org, team_id=..., default_channel="#ops") -> the SlackConnection."""
    from notifications.models import InstallMethod
    from notifications.routing import settings_get
    from notifications.services import connection_save

    def connect(org_fixture, team_id: str = TEAM_ID, default_channel: str = "#ops", **settings_fields):
        with in_schema(org_fixture):
            connection = connection_save(
                token=BOT_TOKEN,
                team_id=team_id,
                team_name="Acme",
                bot_user_id="U0BOT",
                method=InstallMethod.PASTED,
                installed_by="owner@example.com",
            )
            notification_settings = settings_get()
            notification_settings.default_channel = default_channel
            for key, value in settings_fields.items():
                setattr(notification_settings, key, value)
            notification_settings.save()
        return connection

    return connect


_fingerprints = itertools.count()


@pytest.fixture
def make_investigation(in_schema):
    """make_investigation(org, ...) -> a finished Investigation with its signal (and rule)."""
    from django.utils import timezone

    from alerts.models import Rule, Signal
    from investigations.models import Investigation

    def make(
        org_fixture,
        *,
        status: str = "completed",
        alertname: str = "KubePodOOMKilled",
        summary: str = "Pod shop/checkout-7d9f-abcde was OOMKilled",
        cluster: str = "prod-eu-1",
        namespace: str = "shop",
        rule_channel: str | None = None,
        result: dict | None = None,
        failure_reason: str = "",
    ):
        with in_schema(org_fixture):
            rule = None
            if rule_channel is not None:
                rule = Rule.objects.create(name="Investigate prod", position=1, notify_channel=rule_channel)
            signal = Signal.objects.create(
                source="alertmanager",
                fingerprint=f"fp-{next(_fingerprints)}",
                status="firing",
                alertname=alertname,
                severity="critical",
                summary=summary,
                cluster=cluster,
                namespace=namespace,
                pod="checkout-7d9f-abcde",
                matched_rule=rule,
                decision="investigate",
            )
            completed = status == "completed"
            investigation = Investigation.objects.create(
                signal=signal,
                status=status,
                cluster=cluster,
                namespace=namespace,
                result=(result or RESULT) if completed else None,
                root_cause_category="oom-killed" if completed else "",
                confidence=0.86 if completed else None,
                summary=RESULT["root_cause"]["summary"] if completed else "",
                failure_reason=failure_reason,
                started_at=timezone.now() - timedelta(seconds=40),
                finished_at=timezone.now(),
            )
            signal.investigation = investigation
            signal.save(update_fields=["investigation"])
        return investigation

    return make


@dataclasses.dataclass
class Enqueued:
    queue: str
    func: str
    args: tuple
    delay: timedelta | None
    retry: Any


class JobRecorder:
    """Stands in for django_rq's queues: records enqueues; `run()` executes them in this process."""

    def __init__(self, capture) -> None:
        self.enqueued: list[Enqueued] = []
        self._capture = capture
        self._done = 0

    def get_queue(self, name: str = "default", **_kwargs: Any):
        recorder = self

        class Queue:
            def enqueue(self, func, *args, retry=None, **_kw):
                recorder.enqueued.append(Enqueued(name, _path(func), args, None, retry))

            def enqueue_in(self, delay, func, *args, retry=None, **_kw):
                recorder.enqueued.append(Enqueued(name, _path(func), args, delay, retry))

        return Queue()

    def pending(self) -> list[Enqueued]:
        return self.enqueued[self._done :]

    def run(self) -> list[Any]:
        """Run every job not yet run (and the ones they enqueue), after-commit hooks included."""
        results = []
        while self._done < len(self.enqueued):
            job = self.enqueued[self._done]
            self._done += 1
            module, name = job.func.rsplit(".", 1)
            with self._capture(execute=True):
                results.append(getattr(importlib.import_module(module), name)(*job.args))
        return results


def _path(func) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__name__}"


@pytest.fixture
def jobs(monkeypatch, django_capture_on_commit_callbacks) -> JobRecorder:
    from notifications import services

    recorder = JobRecorder(django_capture_on_commit_callbacks)
    monkeypatch.setattr(services, "_queue", lambda: recorder.get_queue("notifications"))
    return recorder


@pytest.fixture
def no_sleep(monkeypatch) -> list[float]:
    """Record the rate-limit waits instead of sleeping them."""
    from notifications import slack

    waits: list[float] = []
    monkeypatch.setattr(slack, "sleep", waits.append)
    return waits
