"""SQS transport: long-poll the cluster's command queue, answer on its result queue.

Same JSON messages as HTTP (see `agent.protocol`). A command message is deleted only after
the results of all its commands were sent, so a crash means redelivery, not loss; the portal
treats a repeated `command_id` as idempotent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from agent.protocol import ProtocolError, Result, dumps, results_message, versions_overlap
from agent.transports.base import (
    EXIT_OK,
    EXIT_PROTOCOL,
    Backoff,
    Session,
    Stopping,
    VersionMismatch,
    commands_from,
)

logger = logging.getLogger("agent.transport.sqs")

MAX_MESSAGES = 10  # SQS's maximum per ReceiveMessage
MAX_MESSAGE_BYTES = 256 * 1024


class SqsTransport:
    """Runs the agent on a command queue and a result queue until `stop()`."""

    def __init__(
        self,
        *,
        client: Any,
        command_queue_url: str,
        result_queue_url: str,
        session: Session,
        poll_wait_seconds: int = 20,
        heartbeat_seconds: int = 30,
        backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.command_queue_url = command_queue_url
        self.result_queue_url = result_queue_url
        self.session = session
        self.poll_wait_seconds = max(0, min(20, poll_wait_seconds))  # SQS allows 0..20
        self.heartbeat_seconds = heartbeat_seconds
        self.backoff = backoff or Backoff(1.0, 60.0)
        self.connected = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            while not self._stop.is_set():
                try:
                    self._serve()
                except VersionMismatch as exc:
                    logger.error("agent.protocol.unsupported", extra={"reason": str(exc)})
                    return EXIT_PROTOCOL
                except Stopping:
                    return EXIT_OK
                except (BotoCoreError, ClientError) as exc:
                    self.connected.clear()
                    delay = self.backoff.next_delay()
                    logger.warning(
                        "agent.sqs.unavailable",
                        extra={"reason": type(exc).__name__, "retry_in": round(delay, 2)},
                    )
                    self._stop.wait(delay)
            return EXIT_OK
        finally:
            self.session.shutdown()

    def _serve(self) -> None:
        self._send(self.session.hello())
        self.connected.set()
        self.backoff.reset()
        next_heartbeat = time.monotonic() + self.heartbeat_seconds
        while not self._stop.is_set():
            if time.monotonic() >= next_heartbeat:
                self._send(self.session.heartbeat())
                next_heartbeat = time.monotonic() + self.heartbeat_seconds
            response = self.client.receive_message(
                QueueUrl=self.command_queue_url,
                MaxNumberOfMessages=min(MAX_MESSAGES, self.session.concurrency * 2),
                WaitTimeSeconds=self.poll_wait_seconds,
            )
            for message in response.get("Messages", []):
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        try:
            body = json.loads(message.get("Body", ""))
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("type") == "error":
            self._check_portal_error(body)
        commands, results = commands_from(body)
        if body is None:
            logger.error("agent.sqs.unreadable", extra={"message_id": message.get("MessageId")})
        results += self._execute(commands)
        for result in results:
            self._send_result(result)
        self.client.delete_message(QueueUrl=self.command_queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _check_portal_error(self, body: dict[str, Any]) -> None:
        low, high = body.get("min_protocol"), body.get("max_protocol")
        if isinstance(low, int) and isinstance(high, int) and not versions_overlap(low, high):
            raise VersionMismatch(f"portal speaks protocol {low}..{high}: {body.get('error', '')}")
        logger.error("agent.sqs.portal_error", extra={"error": str(body.get("error", ""))[:300]})

    def _execute(self, commands: list[Any]) -> list[Result]:
        if not commands:
            return []
        done = threading.Event()
        results: list[Result] = []
        lock = threading.Lock()

        def collect(result: Result) -> None:
            with lock:
                results.append(result)
                if len(results) == len(commands):
                    done.set()

        self.session.submit(commands, collect)
        done.wait()
        return results

    def _send_result(self, result: Result) -> None:
        body = dumps(results_message([result]))
        if len(body.encode("utf-8")) > MAX_MESSAGE_BYTES:
            failure = Result.failure(
                result.command_id, "api_error", "result larger than an SQS message; narrow the request"
            )
            body = dumps(results_message([failure]))
        self.client.send_message(QueueUrl=self.result_queue_url, MessageBody=body)

    def _send(self, message: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.result_queue_url, MessageBody=dumps(message))


def parse_message(body: str) -> dict[str, Any]:
    """Decode one queue message (for the portal side and tests)."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ProtocolError("message must be a JSON object", code="protocol")
    return message
