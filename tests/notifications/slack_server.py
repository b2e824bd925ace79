"""A local HTTP server speaking the parts of Slack's Web API we use, reached through slack_sdk.

POST /api/<method> answers from a per-method script (`Reply(status, body, headers)`), or a default
success: chat.postMessage gives a channel id and a fresh ts; chat.update echoes them. Every request is
recorded with its parsed body (JSON or form) and headers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]


def channel_id(channel: str) -> str:
    if channel and channel[0] in "CGD" and channel.isupper():
        return channel
    return "C" + hashlib.sha256(channel.lstrip("#").encode()).hexdigest()[:8].upper()


class SlackServer:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type:
                    body = json.loads(raw or b"{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    if "blocks" in body:
                        body["blocks"] = json.loads(body["blocks"])
                method = self.path.rsplit("/", 1)[-1]
                with server._lock:
                    server.calls.append(Call(method, body, {k.lower(): v for k, v in self.headers.items()}))
                    script = server.scripts.get(method) or []
                    reply = script.pop(0) if script else server.default(method, body)
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def default(self, method: str, body: dict) -> Reply:
        if method == "chat.postMessage":
            return Reply(
                200, {"ok": True, "channel": channel_id(body.get("channel", "")), "ts": self.next_ts()}
            )
        if method == "chat.update":
            return Reply(200, {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})
        return Reply(200, {"ok": False, "error": "unknown_method"})

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def script(self, method: str, *replies: Reply) -> None:
        self.scripts.setdefault(method, []).extend(replies)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def start(self) -> SlackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
