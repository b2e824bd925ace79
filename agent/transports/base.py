"""What both transports share: the session (hello/heartbeat bodies, stats), backoff, workers."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agent import __version__
from agent.allowlist import KINDS
from agent.protocol import (
    OPS,
    ProtocolError,
    Result,
    check_envelope,
    command_id_of,
    heartbeat_message,
    hello_message,
)

logger = logging.getLogger("agent.transport")

EXIT_OK = 0
EXIT_CONFIG = 1
EXIT_PROTOCOL = 2
MAX_COMMANDS_PER_MESSAGE = 100


class Stopping(Exception):
    """Raised from the SIGTERM handler to interrupt a blocking poll, so a stop is prompt."""


class VersionMismatch(Exception):
    """The portal and the agent share no protocol version: retrying cannot help."""

    def __init__(self, message: str, min_protocol: Any = None, max_protocol: Any = None) -> None:
        super().__init__(message)
        self.min_protocol = min_protocol
        self.max_protocol = max_protocol


class Backoff:
    """Exponential backoff with "equal jitter": half the step fixed, half random."""

    def __init__(
        self, initial: float = 1.0, maximum: float = 60.0, *, rng: random.Random | None = None
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.attempts = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.history: list[float] = []

    def next_delay(self) -> float:
        step = min(self.maximum, self.initial * (2**self.attempts))
        self.attempts += 1
        delay = step / 2 + self._rng.uniform(0, step / 2)
        self.history.append(delay)
        return delay

    def reset(self) -> None:
        self.attempts = 0


def rss_bytes() -> int:
    """Resident memory of this process (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Session:
    """The agent's side of a connection, independent of how messages travel."""

    def __init__(self, executor: Any, *, concurrency: int = 4) -> None:
        self.executor = executor
        self.concurrency = concurrency
        self.started = time.monotonic()
        self._kubernetes_version: str | None = None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="agent-cmd")

    @property
    def kubernetes_version(self) -> str:
        if self._kubernetes_version in (None, "unknown"):
            self._kubernetes_version = self.executor.kubernetes_version()
        return self._kubernetes_version or "unknown"

    def capabilities(self) -> dict[str, Any]:
        limits = self.executor.limits
        return {
            "ops": list(OPS),
            "kinds": sorted(KINDS),
            "metrics": self.executor.metrics_available(),
            "limits": {
                "max_log_lines": limits.max_log_lines,
                "max_log_bytes": limits.max_log_bytes,
                "max_list_items": limits.max_list_items,
                "max_result_bytes": limits.max_result_bytes,
            },
        }

    def hello(self) -> dict[str, Any]:
        return hello_message(
            agent_version=__version__,
            kubernetes_version=self.kubernetes_version,
            capabilities=self.capabilities(),
        )

    def heartbeat(self) -> dict[str, Any]:
        stats = self.executor.stats
        return heartbeat_message(
            agent_version=__version__,
            kubernetes_version=self.kubernetes_version,
            stats={
                "commands_run": stats.commands_run,
                "commands_refused": stats.commands_refused,
                "rss_bytes": rss_bytes(),
                "uptime_seconds": int(time.monotonic() - self.started),
            },
        )

    def submit(self, raw_commands: Iterable[Any], on_result: Callable[[Result], None]) -> int:
        """Execute commands on the worker pool; `on_result` is called from a worker thread."""
        count = 0
        for raw in raw_commands:
            future = self._pool.submit(self.executor.execute, raw)
            future.add_done_callback(lambda f, raw=raw: on_result(_result_of(f, raw)))
            count += 1
        return count

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def _result_of(future: Any, raw: Any) -> Result:
    exc = future.exception()
    if exc is None:
        return future.result()
    # The executor turns every expected failure into a Result; this is a bug, but the portal
    # still gets an answer instead of waiting for the deadline.
    logger.error("agent.command.crashed", extra={"command_id": command_id_of(raw), "error": repr(exc)})
    return Result.failure(command_id_of(raw), "api_error", f"agent error: {type(exc).__name__}")


def commands_from(message: Any) -> tuple[list[Any], list[Result]]:
    """The raw commands of a message, or `protocol` error results if the envelope is wrong.

    At most MAX_COMMANDS_PER_MESSAGE are run; the rest are answered `invalid` at once.
    """
    try:
        commands = check_envelope(message, expected_key="commands")
        extra = commands[MAX_COMMANDS_PER_MESSAGE:]
        refused = [
            Result.failure(
                command_id_of(raw), "invalid", f"more than {MAX_COMMANDS_PER_MESSAGE} commands in one message"
            )
            for raw in extra
        ]
        return commands[:MAX_COMMANDS_PER_MESSAGE], refused
    except ProtocolError as exc:
        raw_list = message.get("commands") if isinstance(message, dict) else None
        ids = [command_id_of(c) for c in raw_list] if isinstance(raw_list, list) else []
        logger.error("agent.protocol.bad_message", extra={"reason": exc.message})
        return [], [Result.failure(cid, "protocol", exc.message) for cid in ids if cid]


class Outbox:
    """Results waiting to be sent, bounded: the oldest are dropped (and logged) past `capacity`."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._items: list[Result] = []
        self._cond = threading.Condition()

    def put(self, result: Result) -> None:
        with self._cond:
            self._items.append(result)
            if len(self._items) > self.capacity:
                dropped = self._items.pop(0)
                logger.error("agent.results.dropped", extra={"command_id": dropped.command_id})
            self._cond.notify_all()

    def take(self, max_items: int, timeout: float) -> list[Result]:
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            batch, self._items = self._items[:max_items], self._items[max_items:]
            return batch

    def put_back(self, batch: list[Result]) -> None:
        with self._cond:
            self._items[:0] = batch
            del self._items[self.capacity :]

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
