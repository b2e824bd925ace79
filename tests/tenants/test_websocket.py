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
from tests.sockets import CONNECT_TIMEOUT

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
        assert (await alpha.connect(timeout=CONNECT_TIMEOUT))[0]
        assert (await beta.connect(timeout=CONNECT_TIMEOUT))[0]
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
        return await socket.connect(timeout=CONNECT_TIMEOUT)

    connected, code = async_to_sync(scenario)()
    assert not connected
    assert code == CLOSE_FORBIDDEN


def test_websocket_anonymous_is_closed_on_connect(org):
    async def scenario():
        return await _communicator(org.domain, None).connect(timeout=CONNECT_TIMEOUT)

    connected, code = async_to_sync(scenario)()
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


def test_websocket_unknown_host_is_closed(org):
    async def scenario():
        return await _communicator("nobody.localhost", None).connect(timeout=CONNECT_TIMEOUT)

    connected, code = async_to_sync(scenario)()
    assert (connected, code) == (False, CLOSE_UNKNOWN_HOST)


def test_websocket_ignores_messages_from_browser(org, client_for):
    cookie = _session_cookie(client_for, org.owner, org)

    async def scenario():
        socket = _communicator(org.domain, cookie)
        await socket.connect(timeout=CONNECT_TIMEOUT)
        await socket.send_to(text_data='{"type": "group.add", "group": "org.org_beta"}')
        nothing = await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return nothing

    assert async_to_sync(scenario)()


def test_suspending_an_organization_closes_its_open_sockets_only(
    org, other_org, client_for, django_capture_on_commit_callbacks
):
    from asgiref.sync import sync_to_async

    from tenants.org_settings import organization_suspend

    alpha_cookie = _session_cookie(client_for, org.owner, org)
    beta_cookie = _session_cookie(client_for, other_org.owner, other_org)

    def suspend_alpha():
        with django_capture_on_commit_callbacks(execute=True):
            organization_suspend(organization=org.organization, actor=org.owner, reason="test")

    async def scenario():
        alpha = _communicator(org.domain, alpha_cookie)
        beta = _communicator(other_org.domain, beta_cookie)
        assert (await alpha.connect(timeout=CONNECT_TIMEOUT))[0]
        assert (await beta.connect(timeout=CONNECT_TIMEOUT))[0]
        await sync_to_async(suspend_alpha)()
        closed = await alpha.receive_output(timeout=3)
        # Beta is untouched: its socket still receives its own organization's updates.
        await get_channel_layer().group_send(
            org_group(other_org.schema), {"type": "html.fragment", "html": "<div id='b'>beta</div>"}
        )
        beta_received = await beta.receive_from(timeout=3)
        await beta.disconnect()
        return closed, beta_received

    closed, beta_received = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert beta_received == "<div id='b'>beta</div>"


def test_removing_a_member_closes_that_members_sockets_only(
    org, client_for, make_member, django_capture_on_commit_callbacks
):
    from asgiref.sync import sync_to_async

    from tenants.invitations import membership_remove
    from tenants.models import Membership

    member = make_member(org, "member")
    member_cookie = _session_cookie(client_for, member, org)
    owner_cookie = _session_cookie(client_for, org.owner, org)

    def remove_member():
        actor = Membership.objects.get(user=org.owner, organization=org.organization)
        target = Membership.objects.get(user=member, organization=org.organization)
        with django_capture_on_commit_callbacks(execute=True):
            membership_remove(actor_membership=actor, membership=target)

    async def scenario():
        removed = _communicator(org.domain, member_cookie)
        owner = _communicator(org.domain, owner_cookie)
        assert (await removed.connect(timeout=CONNECT_TIMEOUT))[0]
        assert (await owner.connect(timeout=CONNECT_TIMEOUT))[0]
        await sync_to_async(remove_member)()
        closed = await removed.receive_output(timeout=3)
        await get_channel_layer().group_send(
            org_group(org.schema), {"type": "html.fragment", "html": "<div id='a'>still here</div>"}
        )
        owner_received = await owner.receive_from(timeout=3)
        await owner.disconnect()
        return closed, owner_received

    closed, owner_received = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert owner_received == "<div id='a'>still here</div>"


# --- Origin: only the organization's own host (a sibling organization's page is refused) -------


def _with_origin(host: str, origin: str | None, cookie: str) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"cookie", f"sessionid={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, "/ws/org/", headers=headers)


def _connect(host: str, origin: str | None, cookie: str):
    async def scenario():
        socket = _with_origin(host, origin, cookie)
        connected, code = await socket.connect(timeout=CONNECT_TIMEOUT)
        if connected:
            await socket.disconnect()
        return connected, code

    return async_to_sync(scenario)()


def test_websocket_sibling_organization_origin_is_refused(org, other_org, client_for):
    # A page on beta's host (a sibling under the same base domain) opens a socket to alpha.
    cookie = _session_cookie(client_for, org.owner, org)
    connected, _code = _connect(org.domain, f"http://{other_org.domain}", cookie)
    assert not connected


def test_websocket_own_origin_is_accepted(org, client_for):
    cookie = _session_cookie(client_for, org.owner, org)
    assert _connect(org.domain, f"http://{org.domain}", cookie)[0]


def test_websocket_origin_port_must_match_the_host(org, client_for):
    cookie = _session_cookie(client_for, org.owner, org)
    assert _connect(f"{org.domain}:8000", f"http://{org.domain}:8000", cookie)[0]
    assert not _connect(f"{org.domain}:8000", f"http://{org.domain}:9999", cookie)[0]


def test_websocket_missing_origin_is_refused(org, client_for):
    cookie = _session_cookie(client_for, org.owner, org)
    assert not _connect(org.domain, None, cookie)[0]


def test_websocket_configured_extra_origin_is_accepted(org, client_for, settings):
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://status.example.com"]
    cookie = _session_cookie(client_for, org.owner, org)
    assert _connect(org.domain, "https://status.example.com", cookie)[0]
    assert not _connect(org.domain, "https://other.example.com", cookie)[0]
