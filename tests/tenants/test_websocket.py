"""The tenant-aware WebSocket pattern over the real Channels Redis layer.

Sockets authenticate on connect (host → organization → membership); a message for one
organization's group never reaches another organization's socket.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from opsworker.asgi import application
from tenants.realtime import org_group
from tenants.websocket import CLOSE_FORBIDDEN, CLOSE_UNKNOWN_HOST

pytestmark = pytest.mark.django_db


def _session_cookie(client_for, user, org_fixture) -> str:
    client = client_for(user, org_fixture)
    return client.cookies["sessionid"].value


def _communicator(host: str, cookie: str | None) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/org/", headers=headers)


def test_websocket_group_message_reaches_only_its_org(org, other_org, client_for):
    alpha_cookie = _session_cookie(client_for, org.owner, org)
    beta_cookie = _session_cookie(client_for, other_org.owner, other_org)

    async def scenario():
        alpha = _communicator(org.domain, alpha_cookie)
        beta = _communicator(other_org.domain, beta_cookie)
        assert (await alpha.connect())[0]
        assert (await beta.connect())[0]
        layer = get_channel_layer()
        await layer.group_send(
            org_group(org.schema), {"type": "html.fragment", "html": "<div id='x'>alpha</div>"}
        )
        received = await alpha.receive_from(timeout=3)
        beta_got_nothing = await beta.receive_nothing(timeout=0.5)
        await alpha.disconnect()
        await beta.disconnect()
        return received, beta_got_nothing

    received, beta_got_nothing = async_to_sync(scenario)()
    assert received == "<div id='x'>alpha</div>"
    assert beta_got_nothing


def test_websocket_member_of_other_org_is_closed_on_connect(org, other_org, client_for):
    # Alpha's owner signs in on beta's host (the session is valid) but is no member there.
    cookie = _session_cookie(client_for, org.owner, other_org)

    async def scenario():
        socket = _communicator(other_org.domain, cookie)
        return await socket.connect()

    connected, code = async_to_sync(scenario)()
    assert not connected
    assert code == CLOSE_FORBIDDEN


def test_websocket_anonymous_is_closed_on_connect(org):
    async def scenario():
        return await _communicator(org.domain, None).connect()

    connected, code = async_to_sync(scenario)()
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


def test_websocket_unknown_host_is_closed(org):
    async def scenario():
        return await _communicator("nobody.localhost", None).connect()

    connected, code = async_to_sync(scenario)()
    assert (connected, code) == (False, CLOSE_UNKNOWN_HOST)


def test_websocket_ignores_messages_from_browser(org, client_for):
    cookie = _session_cookie(client_for, org.owner, org)

    async def scenario():
        socket = _communicator(org.domain, cookie)
        await socket.connect()
        await socket.send_to(text_data='{"type": "group.add", "group": "org.org_beta"}')
        nothing = await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return nothing

    assert async_to_sync(scenario)()
