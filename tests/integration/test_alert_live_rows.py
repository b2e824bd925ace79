"""The Alerts page updates live: new rows once each, changed rows in place, only where correct.

Socket tests use committed data (and clean up): Channels' database_sync_to_async closes a
connection that is inside a test transaction, so the usual rolled-back `db` tests cannot host them.
"""

import json

import django_rq
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_tenants.utils import schema_context

from alerts.services.announce import signals_announce_now
from opsworker.asgi import application
from tests.alerts.conftest import fixture_bytes
from tests.sockets import CONNECT_TIMEOUT

CRASHLOOP = fixture_bytes("alertmanager", "single_crashloop")


@pytest.fixture
def alpha_hook(committed):
    from alerts.models import Integration, RawPayload, Signal
    from alerts.services.integrations import integration_create

    django_rq.get_connection("default").flushdb()
    alpha = committed["alpha"]
    with schema_context(alpha.schema):
        made = integration_create(name="live rows", source="alertmanager")
    yield alpha, made.token
    with schema_context(alpha.schema):
        Signal.objects.all().delete()
        RawPayload.objects.all().delete()
        Integration.objects.filter(pk=made.integration.pk).delete()
    django_rq.get_connection("default").flushdb()


def _post(alpha, token, body: bytes) -> dict:
    response = Client(HTTP_HOST=alpha.domain).post(
        f"/hooks/alertmanager/{token}/", data=body, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def _announce(alpha) -> int:
    with schema_context(alpha.schema):
        return signals_announce_now(schema_name=alpha.schema)


def _listen(org_fixture, work) -> str:
    client = Client(HTTP_HOST=org_fixture.domain)
    client.force_login(org_fixture.owner)
    headers = [
        (b"host", org_fixture.domain.encode()),
        (b"origin", f"http://{org_fixture.domain}".encode()),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/org/", headers=headers)
        assert (await socket.connect(timeout=CONNECT_TIMEOUT))[0]
        await sync_to_async(work)()
        frames = []
        while not await socket.receive_nothing(timeout=0.5):
            frames.append(await socket.receive_from())
        await socket.disconnect()
        return "".join(frames)

    return async_to_sync(scenario)()


def test_live_rows_new_signal_prepended_once(alpha_hook):
    alpha, token = alpha_hook
    counts = []

    def work():
        _post(alpha, token, CRASHLOOP)
        counts.append(_announce(alpha))
        counts.append(_announce(alpha))  # already announced: nothing new to send

    frames = _listen(alpha, work)
    assert counts == [1, 0]
    assert frames.count('hx-swap-oob="afterbegin:#signal-rows-live"') == 1
    assert frames.count('id="signal-row-') == 1
    assert "KubePodCrashLooping" in frames


def test_live_rows_changed_signal_replaced_in_place(alpha_hook):
    alpha, token = alpha_hook
    _post(alpha, token, CRASHLOOP)
    _announce(alpha)
    resolved = json.loads(CRASHLOOP)
    resolved["alerts"][0]["status"] = "resolved"

    def work():
        _post(alpha, token, json.dumps(resolved).encode())
        _announce(alpha)

    frames = _listen(alpha, work)
    assert "afterbegin" not in frames
    assert 'id="signal-row-' in frames and 'hx-swap-oob="true"' in frames
    assert "resolved" in frames.lower()


def test_live_rows_other_org_hears_nothing(alpha_hook, committed):
    alpha, token = alpha_hook
    published = []

    def work():
        _post(alpha, token, CRASHLOOP)
        published.append(_announce(alpha))

    assert _listen(committed["beta"], work) == ""
    assert published == [1]  # something was published, to alpha's group only


def test_live_rows_new_investigation_reaches_the_list_when_created(alpha_hook):
    from alerts.models import Rule, RuleChange
    from alerts.services.rules import rule_create
    from investigations.models import Investigation

    alpha, token = alpha_hook
    with schema_context(alpha.schema):
        rule_create(
            data={"name": "live list", "action": "investigate", "conditions": []}, author="t@alpha.test"
        )
    try:
        frames = _listen(alpha, lambda: _post(alpha, token, CRASHLOOP))
        with schema_context(alpha.schema):
            investigation = Investigation.objects.get()
        assert f'id="investigation-row-{investigation.pk}"' in frames
        assert 'data-status="pending"' in frames
    finally:
        with schema_context(alpha.schema):
            Investigation.objects.all().delete()
            RuleChange.objects.all().delete()
            Rule.objects.all().delete()
