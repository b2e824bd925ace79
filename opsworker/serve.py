"""`python -m opsworker.serve --host H --port P`: the web process, uvicorn with our edge limits.

uvicorn bounds the idle time between requests (keep-alive) but not how long a client may take
to send a request's head or its body: a client sending one byte every few seconds holds a
connection (and, with enough of them, the server) forever. `EdgeHttpProtocol` closes a
connection whose request head is not complete within OPSWORKER_HEADER_TIMEOUT_SECONDS of its
first byte (or of the connection opening), and answers 408 to a request whose body has not
fully arrived within OPSWORKER_BODY_TIMEOUT_SECONDS of its head (while the application is not
reading, e.g. a paused upload, the clock waits). The production reverse proxy should set its own
limits too (docs/operations.md, "The edge").

Also fixed here, so `make run` and production start the same server: WebSockets with
`websockets-sansio`, no access log (requests are counted in /metrics; paths may carry tokens),
no lifespan, and uvicorn's own X-Forwarded-For handling off (`opsworker.client_address` decides,
from OPSWORKER_TRUSTED_PROXIES). Logging is Django's (settings.LOGGING), so every line is scrubbed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from opsworker import env  # loads .env before the defaults below are read

logger = logging.getLogger("opsworker.serve")

# After a 408, how long input is still read and dropped before the socket closes.
LINGER_SECONDS = 2.0


def _timeout_response(message: str) -> bytes:
    body = json.dumps({"error": message, "status": 408}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class EdgeHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines for the request head and the request body."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._head_begun = False
        self._discarding = False

    # -- timers -----------------------------------------------------------------------------

    def _arm_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_expired)

    def _arm_body(self) -> None:
        self._cancel_body()
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_expired)

    def _cancel_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _answer_and_close(self, message: str) -> None:
        """Send a 408, then close without resetting the connection.

        Closing a socket that still has unread input makes the kernel send a reset, which can
        destroy the 408 before the client reads it; so the write side is shut first, input is
        read and dropped for a moment (like nginx's lingering close), then the socket closes.
        """
        self.transport.write(_timeout_response(message))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._discarding = True
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        super().data_received(data)

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if not self._head_begun:
            self.transport.close()
            return
        logger.info("opsworker.serve.header_timeout", extra={"client": self._client_text()})
        self._answer_and_close("the request head was not sent in time")

    def _body_expired(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or not cycle.more_body:
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue:
            self._arm_body()  # the application is not reading yet: not the client's delay
            return
        logger.info("opsworker.serve.body_timeout", extra={"client": self._client_text()})
        answer = not cycle.response_started
        cycle.response_started = cycle.response_complete = True
        cycle.disconnected = True
        cycle.message_event.set()  # the application's receive() sees http.disconnect
        if answer:
            self._answer_and_close("the request body was not sent in time")
        else:
            self.transport.close()

    def _client_text(self) -> str:
        return f"{self.client[0]}" if self.client else ""

    # -- protocol and parser callbacks --------------------------------------------------------

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_head()  # a connection that never sends anything is closed too

    def connection_lost(self, exc) -> None:
        self._cancel_head()
        self._cancel_body()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        self._arm_head()

    def on_headers_complete(self) -> None:
        self._cancel_head()
        self._head_begun = False
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm_body()

    def on_message_complete(self) -> None:
        self._cancel_body()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._cancel_head()
        self._cancel_body()
        super().handle_websocket_upgrade()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m opsworker.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("OPSWORKER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=env.integer("OPSWORKER_PORT", 8000, minimum=1))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsworker.settings.prod")
    import uvicorn
    from django.conf import settings

    from opsworker.asgi import application  # sets Django (and its logging) up

    EdgeHttpProtocol.header_timeout = float(settings.HEADER_TIMEOUT_SECONDS)
    EdgeHttpProtocol.body_timeout = float(settings.BODY_TIMEOUT_SECONDS)
    config = uvicorn.Config(
        application,
        host=args.host,
        port=args.port,
        http=EdgeHttpProtocol,
        ws="websockets-sansio",
        lifespan="off",
        access_log=False,
        log_config=None,  # Django's LOGGING (scrubbed) handles uvicorn's loggers too
        proxy_headers=False,  # X-Forwarded-For is opsworker.client_address's to judge
    )
    logger.info(
        "opsworker.serve.starting",
        extra={
            "host": args.host,
            "port": args.port,
            "header_timeout_seconds": EdgeHttpProtocol.header_timeout,
            "body_timeout_seconds": EdgeHttpProtocol.body_timeout,
        },
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
