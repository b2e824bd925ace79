"""HTTP transport: hello, then long-poll for commands, post results, heartbeat; outbound only.

Threads: the main loop (hello, poll, heartbeat), a small worker pool executing commands, and
one sender posting results. Nothing listens on a port.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx

from agent import __version__
from agent.protocol import (
    PATH_COMMANDS,
    PATH_HEARTBEAT,
    PATH_HELLO,
    PATH_RESULTS,
    ProtocolError,
    Result,
    parse_hello_reply,
    results_message,
)
from agent.transports.base import (
    EXIT_OK,
    EXIT_PROTOCOL,
    Backoff,
    Outbox,
    Session,
    Stopping,
    VersionMismatch,
    commands_from,
)

logger = logging.getLogger("agent.transport.http")

RESULTS_BATCH = 20
POLL_GRACE_SECONDS = 15.0
MAX_POLL_WAIT_SECONDS = 120
MAX_HEARTBEAT_SECONDS = 3600
MIN_EMPTY_POLL_SECONDS = 1.0


class PortalUnavailable(Exception):
    """Down, unreachable, timing out or answering 5xx: back off and reconnect."""


class Unauthorized(Exception):
    """401/403/404 on an agent endpoint: the token is unknown or revoked."""


class HttpTransport:
    """Runs the agent against the portal's /agent/v1/ endpoints until `stop()`."""

    def __init__(
        self,
        *,
        portal_url: str,
        token: str,
        session: Session,
        portal_host: str | None = None,
        poll_wait_seconds: int = 20,
        heartbeat_seconds: int = 30,
        backoff: Backoff | None = None,
        unauthorized_backoff: Backoff | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.session = session
        self.poll_wait_seconds = poll_wait_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.backoff = backoff or Backoff(1.0, 60.0)
        self.unauthorized_backoff = unauthorized_backoff or Backoff(5.0, 300.0)
        self.cluster_name = ""
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._outbox = Outbox()
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._client = client or httpx.Client(
            base_url=portal_url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"opsworker-agent/{__version__}",
                **({"Host": portal_host} if portal_host else {}),
            },
            timeout=httpx.Timeout(30.0, connect=10.0),
            follow_redirects=False,  # a redirect could carry the bearer token elsewhere
        )

    # --- lifecycle --------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self) -> int:
        """Serve until stopped (EXIT_OK) or until the portal speaks another protocol (EXIT_PROTOCOL)."""
        sender = threading.Thread(target=self._send_results_forever, name="agent-results", daemon=True)
        sender.start()
        try:
            return self._run()
        except Stopping:
            return EXIT_OK
        finally:
            self._stop.set()
            self.session.shutdown()
            sender.join(timeout=5)
            self._flush_once()
            self._client.close()

    def _run(self) -> int:
        while not self._stop.is_set():
            try:
                self._hello()
                self.backoff.reset()
                self.unauthorized_backoff.reset()
                self._serve()
            except VersionMismatch as exc:
                logger.error(
                    "agent.protocol.unsupported",
                    extra={
                        "reason": str(exc),
                        "min_protocol": exc.min_protocol,
                        "max_protocol": exc.max_protocol,
                    },
                )
                return EXIT_PROTOCOL
            except Unauthorized as exc:
                self.connected.clear()
                delay = self.unauthorized_backoff.next_delay()
                logger.error(
                    "agent.portal.unauthorized", extra={"reason": str(exc), "retry_in": round(delay, 2)}
                )
                self._stop.wait(delay)
            except PortalUnavailable as exc:
                self.connected.clear()
                delay = self.backoff.next_delay()
                logger.warning(
                    "agent.portal.unavailable", extra={"reason": str(exc), "retry_in": round(delay, 2)}
                )
                self._stop.wait(delay)
        return EXIT_OK

    # --- protocol steps ---------------------------------------------------------------
    def _hello(self) -> None:
        response = self._request("POST", PATH_HELLO, json=self.session.hello())
        if response.status_code == 426:
            body = _json_or_empty(response)
            raise VersionMismatch(
                f"portal does not speak this agent's protocol: {body.get('error', 'version mismatch')}",
                body.get("min_protocol"),
                body.get("max_protocol"),
            )
        self._check(response, "hello")
        try:
            reply = parse_hello_reply(_json_or_empty(response))
        except ProtocolError as exc:
            raise VersionMismatch(exc.message) from None
        self.cluster_name = reply.cluster_name
        # The portal may tune these, within bounds that keep the agent polite and alive.
        self.poll_wait_seconds = min(reply.poll_wait_seconds or self.poll_wait_seconds, MAX_POLL_WAIT_SECONDS)
        self.heartbeat_seconds = min(reply.heartbeat_seconds or self.heartbeat_seconds, MAX_HEARTBEAT_SECONDS)
        self.connected.set()
        logger.info(
            "agent.portal.connected",
            extra={"cluster": reply.cluster_name, "poll_wait_seconds": self.poll_wait_seconds},
        )

    def _serve(self) -> None:
        next_heartbeat = time.monotonic() + self.heartbeat_seconds
        while not self._stop.is_set():
            if time.monotonic() >= next_heartbeat:
                self._check(self._request("POST", PATH_HEARTBEAT, json=self.session.heartbeat()), "heartbeat")
                next_heartbeat = time.monotonic() + self.heartbeat_seconds
            if self._busy():
                self._stop.wait(0.2)  # back-pressure: do not take work we cannot start
                continue
            self._poll()

    def _poll(self) -> None:
        wait = self.poll_wait_seconds
        started = time.monotonic()
        response = self._request(
            "GET",
            PATH_COMMANDS,
            params={"wait": wait},
            timeout=httpx.Timeout(wait + POLL_GRACE_SECONDS, connect=10.0),
        )
        if response.status_code == 426:
            raise VersionMismatch("portal answered 426 to a poll: protocol no longer supported")
        self._check(response, "commands")
        commands, errors = (
            ([], []) if response.status_code == 204 else commands_from(_json_or_empty(response))
        )
        for result in errors:
            self._outbox.put(result)
        if commands:
            with self._inflight_lock:
                self._inflight += len(commands)
            self.session.submit(commands, self._on_result)
            return
        # A portal that answers empty polls at once (or with garbage) must not make us spin.
        elapsed = time.monotonic() - started
        if elapsed < MIN_EMPTY_POLL_SECONDS:
            self._stop.wait(MIN_EMPTY_POLL_SECONDS - elapsed)

    def _on_result(self, result: Any) -> None:
        with self._inflight_lock:
            self._inflight -= 1
        self._outbox.put(result)

    def _busy(self) -> bool:
        with self._inflight_lock:
            return self._inflight >= 2 * self.session.concurrency

    # --- results ----------------------------------------------------------------------
    def _send_results_forever(self) -> None:
        backoff = Backoff(self.backoff.initial, self.backoff.maximum)
        while not self._stop.is_set():
            batch = self._outbox.take(RESULTS_BATCH, timeout=0.5)
            if not batch:
                continue
            if self._post_results(batch):
                backoff.reset()
            else:
                self._outbox.put_back(batch)
                self._stop.wait(backoff.next_delay())

    def _flush_once(self) -> None:
        while len(self._outbox):
            batch = self._outbox.take(RESULTS_BATCH, timeout=0)
            if not self._post_results(batch):
                logger.warning("agent.results.unsent", extra={"count": len(batch) + len(self._outbox)})
                return

    def _post_results(self, batch: list[Any]) -> bool:
        """True when the batch is done with (accepted, or rejected in a way retrying cannot fix)."""
        try:
            response = self._request("POST", PATH_RESULTS, json=results_message(batch))
            if response.status_code == 413:
                return self._post_split(batch)
            if response.status_code in (400, 422):
                logger.error(
                    "agent.results.rejected",
                    extra={
                        "count": len(batch),
                        "status": response.status_code,
                        "ids": [r.command_id for r in batch],
                    },
                )
                return True
            self._check(response, "results")
        except (PortalUnavailable, Unauthorized, VersionMismatch) as exc:
            logger.warning("agent.results.retry", extra={"count": len(batch), "reason": str(exc)})
            return False
        return True

    def _post_split(self, batch: list[Any]) -> bool:
        """The portal refused the body as too large: send halves; a single result that is still too
        large is replaced by an error result, so the caller learns why instead of timing out."""
        if len(batch) > 1:
            middle = len(batch) // 2
            return self._post_results(batch[:middle]) and self._post_results(batch[middle:])
        oversized = batch[0]
        logger.error("agent.results.too_large", extra={"command_id": oversized.command_id})
        replacement = Result.failure(
            oversized.command_id,
            "api_error",
            "the result is larger than the portal accepts; ask for less (tail_lines, limit) or raise "
            "the portal's OPSWORKER_AGENT_MAX_BODY_BYTES",
        )
        return self._post_results([replacement])

    # --- HTTP -------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise PortalUnavailable(f"{method} {path}: {type(exc).__name__}") from None

    @staticmethod
    def _check(response: httpx.Response, step: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in (401, 403, 404):
            raise Unauthorized(f"{step}: portal answered {status} (cluster token unknown or revoked?)")
        if status == 426:
            raise VersionMismatch(f"{step}: portal answered 426")
        raise PortalUnavailable(f"{step}: portal answered {status}")


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
