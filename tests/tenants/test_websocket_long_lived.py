"""A live page's socket stays open through quiet periods and loses no fragment.

Channels' Redis layer waits for the next message with a blocking BZPOPMIN of `brpop_timeout`
seconds. redis-py 8 gives every connection a 5 s read timeout by default — the same as that wait
— so each quiet period longer than it ended in `TimeoutError`, a dead consumer and a browser
reconnect, and fragments published during the reconnect were lost.
"""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from opsworker.asgi import application
from tenants.realtime import org_group
from tests.sockets import CONNECT_TIMEOUT

pytestmark = pytest.mark.django_db


def test_websocket_survives_quiet_periods_longer_than_the_layer_wait(org, client_for):
    cookie = client_for(org.owner, org).cookies["sessionid"].value
    headers = [
        (b"host", org.domain.encode()),
        (b"origin", f"http://{org.domain}".encode()),
        (b"cookie", f"sessionid={cookie}".encode()),
    ]

    async def scenario():
        layer = get_channel_layer()
        quiet = layer.brpop_timeout + 1  # each gap outlasts one blocking wait
        socket = WebsocketCommunicator(application, "/ws/org/", headers=headers)
        assert (await socket.connect(timeout=CONNECT_TIMEOUT))[0]
        received = []
        for number in range(4):  # three quiet gaps: more than 3x the layer's blocking wait
            if number:
                await asyncio.sleep(quiet)
            html = f"<div id='fragment-{number}'>{number}</div>"
            await layer.group_send(org_group(org.schema), {"type": "html.fragment", "html": html})
            received.append(await socket.receive_from(timeout=5))
        # A consumer that died on a read timeout would have finished its application future.
        alive = not socket.future.done()
        await socket.disconnect()
        return received, alive, quiet

    received, alive, quiet = async_to_sync(scenario)()
    assert quiet * 3 > 15
    assert received == [f"<div id='fragment-{n}'>{n}</div>" for n in range(4)]
    assert alive
