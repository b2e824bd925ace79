"""A test double of the portal's /agent/v1/ endpoints, for the agent's transport unit tests.

It plays the portal's side of protocol v1 on a loopback port; the real portal's integration
test is elsewhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from agent.protocol import MAX_SUPPORTED, MIN_SUPPORTED, PROTOCOL_VERSION

TOKEN = "cluster-token"


class PortalDouble:
    """Records what the agent sends; serves queued commands; can be told to misbehave."""

    def __init__(self, *, token: str = TOKEN, port: int = 0) -> None:
        self.token = token
        self.hellos: list[dict[str, Any]] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.polls = 0
        self.auth_headers: list[str] = []
        self.hello_statuses: list[int] = []  # answered in order before the normal 200
        self.protocol_range = (MIN_SUPPORTED, MAX_SUPPORTED)
        self.reply = {"poll_wait_seconds": 1, "heartbeat_seconds": 1}
        self.max_results_body: int | None = None  # answer 413 above this many bytes, as the portal does
        self.results_413 = 0
        self._commands: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> PortalDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def send(self, *commands: dict[str, Any]) -> None:
        with self._cond:
            self._commands.extend(commands)
            self._cond.notify_all()

    def next_commands(self, wait: float) -> list[dict[str, Any]]:
        with self._cond:
            if not self._commands:
                self._cond.wait(min(wait, 1.0))
            batch, self._commands = self._commands, []
            return batch

    def results_by_id(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return {r["command_id"]: r for r in self.results}


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll `condition` until true; fail the test if it never becomes true."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met within the test's patience")


def _handler_for(portal: PortalDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) or b"{}"
            self.raw_length = len(raw)
            return json.loads(raw)

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            portal.auth_headers.append(header)
            if header != f"Bearer {portal.token}":
                self._reply(401, {"error": "unknown cluster token"})
                return False
            return True

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self._body()
            if not self._authorized():
                return
            if path == "/agent/v1/hello":
                portal.hellos.append(body)
                if portal.hello_statuses:
                    status = portal.hello_statuses.pop(0)
                    self._reply(status, {"error": "try later"})
                    return
                low, high = portal.protocol_range
                if not low <= body.get("protocol", 0) <= high:
                    self._reply(
                        426, {"error": "unsupported protocol", "min_protocol": low, "max_protocol": high}
                    )
                    return
                self._reply(
                    200, {"protocol": PROTOCOL_VERSION, "cluster": {"name": "prod-eu-1"}, **portal.reply}
                )
            elif path == "/agent/v1/heartbeat":
                portal.heartbeats.append(body)
                self._reply(200, {"ok": True})
            elif path == "/agent/v1/results":
                if portal.max_results_body is not None and self.raw_length > portal.max_results_body:
                    portal.results_413 += 1
                    self._reply(413, {"error": "body too large"})
                    return
                with portal._cond:
                    portal.results.extend(body["results"])
                self._reply(200, {"accepted": len(body["results"])})
            else:
                self._reply(404, {"error": "no such endpoint"})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if not self._authorized():
                return
            if parts.path != "/agent/v1/commands":
                self._reply(404, {"error": "no such endpoint"})
                return
            portal.polls += 1
            wait = float(parse_qs(parts.query).get("wait", ["1"])[0])
            self._reply(200, {"protocol": PROTOCOL_VERSION, "commands": portal.next_commands(wait)})

    return Handler
