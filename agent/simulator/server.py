"""The simulator's HTTP server: loopback only, threaded, read-only, with a small control API."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import socket
import socketserver
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import api
from .cluster import Cluster, ScenarioError, empty_cluster, load_cluster
from .errors import ApiError

logger = logging.getLogger("agent.simulator")

CONTROL_PREFIX = "/_simulator/"
MAX_CONTROL_BODY = 64 * 1024


def loopback_host(host: str) -> str:
    """The host to bind, or ValueError unless it is a loopback address."""
    if host == "localhost":
        return "127.0.0.1"
    refusal = f"refusing to bind to {host!r}: the simulator binds to loopback addresses only"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(refusal) from None
    if not address.is_loopback:
        raise ValueError(refusal)
    return str(address)


class Simulator:
    """A Kubernetes API server over one scenario's cluster.json, swappable while it runs."""

    def __init__(
        self,
        scenario_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
    ):
        bind = loopback_host(host)
        self._cluster = load_cluster(scenario_dir) if scenario_dir is not None else empty_cluster()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.token = token
        self._server = _Server(bind, port, self)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def cluster(self) -> Cluster:
        return self._cluster

    def load(self, scenario_dir: str | Path | None, *, shift_to_now: bool = False) -> Cluster:
        """Swap the whole cluster for another scenario's (None: empty); requests see one or the other.

        `shift_to_now` moves the scenario's timestamps so that it was captured now (the lab, the demo).
        """
        cluster = (
            load_cluster(scenario_dir, shift_to_now=shift_to_now)
            if scenario_dir is not None
            else empty_cluster()
        )
        with self._lock:
            self._cluster = cluster
        logger.info(
            "simulator.loaded", extra={"scenario": cluster.name, "objects": sum(cluster.counts().values())}
        )
        return cluster

    def state(self) -> dict[str, Any]:
        cluster = self._cluster
        counts = cluster.counts()
        return {
            "scenario": cluster.name,
            "path": cluster.path,
            "kubernetesVersion": cluster.capture.get("kubernetesVersion"),
            "capturedAt": cluster.capture.get("capturedAt"),
            "resourceVersion": cluster.resource_version,
            "objects": counts,
            "total": sum(counts.values()),
        }

    def start(self) -> Simulator:
        """Serve in a background thread."""
        if self._thread is None:
            # A short poll interval makes stop() prompt; the cost is a few idle wake-ups a second.
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="k8s-simulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open watches and keep-alive connections, release the port."""
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    scenario_dir: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
) -> Simulator:
    """Start a simulator serving `scenario_dir` (None: an empty cluster) in a background thread."""
    return Simulator(scenario_dir, host=host, port=port, token=token).start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, simulator: Simulator):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 120  # an idle keep-alive connection frees its thread after this

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("simulator.request", extra={"line": format % args})

    def _dispatch(self, method: str) -> None:
        simulator = self.server.simulator
        try:
            response = self._respond(simulator, method)
        except Exception:
            # The request boundary: a bug or an odd scenario object must answer 500 like a real
            # API server, not drop the connection under the client.
            logger.exception("simulator.internal_error", extra={"path": self.path})
            response = api.error_response(
                ApiError(
                    500, "InternalError", "an error on the server has prevented the request from succeeding"
                )
            )
            self.close_connection = True
        self._send(response, simulator)

    def _respond(self, simulator: Simulator, method: str) -> api.Response:
        body = self._read_body()
        split = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        if not self._authorized(simulator.token):
            return api.error_response(ApiError.unauthorized())
        if split.path.startswith(CONTROL_PREFIX):
            return self._control(simulator, method, split.path, body)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        accept = self.headers.get("Accept") or ""
        return api.handle(simulator.cluster, method, unquote(split.path), query, host, accept)

    def _read_body(self) -> bytes:
        raw = self.headers.get("Content-Length") or "0"
        length = int(raw) if raw.isdigit() else 0
        if length > MAX_CONTROL_BODY or not raw.isdigit():
            self.close_connection = True  # the unread rest would be parsed as the next request
        return self.rfile.read(min(length, MAX_CONTROL_BODY + 1)) if length > 0 else b""

    def _authorized(self, token: str | None) -> bool:
        if token is None:
            return True
        presented = self.headers.get("Authorization") or ""
        return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())

    def _control(self, simulator: Simulator, method: str, path: str, body: bytes) -> api.Response:
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            return api.error_response(ApiError.forbidden("the simulator control API is loopback only"))
        if path == "/_simulator/state" and method == "GET":
            return api.json_response(200, simulator.state())
        if path == "/_simulator/load" and method == "POST":
            return self._load(simulator, body)
        if path in ("/_simulator/state", "/_simulator/load"):
            return api.error_response(ApiError.method_not_allowed())
        return api.error_response(ApiError.path_not_found())

    def _load(self, simulator: Simulator, body: bytes) -> api.Response:
        try:
            payload = json.loads(body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        scenario = payload.get("scenario") if isinstance(payload, dict) else None
        if not isinstance(scenario, str) or not Path(scenario).is_absolute():
            return api.error_response(
                ApiError.bad_request('expected {"scenario": "<absolute path of a scenario folder>"}')
            )
        try:
            simulator.load(scenario, shift_to_now=bool(payload.get("shift_to_now")))
        except ScenarioError as exc:
            return api.error_response(ApiError.bad_request(str(exc)))
        return api.json_response(200, simulator.state())

    def _send(self, response: api.Response, simulator: Simulator) -> None:
        try:
            if response.watch_events is not None:
                self._send_watch(response, simulator)
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_watch(self, response: api.Response, simulator: Simulator) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", api.JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in response.watch_events or []:
            self._chunk(json.dumps(event, separators=(",", ":")).encode() + b"\n")
        simulator.stopping.wait(response.watch_seconds)
        self._chunk(b"")
        self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
