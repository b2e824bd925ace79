"""One interface for every model provider: neutral messages and tools in, a `ChatTurn` out.

Messages are plain dicts in a provider-neutral shape; each provider module translates them to its
wire format:

    {"role": "system" | "user", "content": str}
    {"role": "assistant", "content": str, "tool_calls": [ToolCall, ...]}
    {"role": "tool", "tool_call_id": str, "name": str, "content": str}

Tools are `{"name", "description", "parameters": <JSON schema>}`. Every failure becomes a
`ModelError` whose message a person can act on (timeout, rate limited, bad key, malformed answer).
"""

from __future__ import annotations

import dataclasses
import email.utils
import time
from datetime import UTC, datetime
from typing import Any, Protocol

# A 429's Retry-After is honoured once, but never waited on for longer than this.
MAX_RETRY_AFTER_SECONDS = 20.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0


class ModelError(Exception):
    """A model call that did not produce a usable answer; `str()` is the person-readable reason.

    `kind` is one of: timeout, rate_limited, auth, connection, http, malformed, schema, config,
    tools, budget. Tokens already spent (a loop that failed on its third round) ride along so the
    caller can still count them against the budget.
    """

    def __init__(self, reason: str, *, kind: str = "error", tokens_in: int = 0, tokens_out: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out


@dataclasses.dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclasses.dataclass
class ChatTurn:
    text: str
    tool_calls: list[ToolCall]
    tokens_in: int
    tokens_out: int
    stop_reason: str


class ChatProvider(Protocol):
    name: str

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        model: str,
        *,
        max_tokens: int,
        timeout: float,
    ) -> ChatTurn: ...


def retry_after_seconds(value: str | None, *, limit: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), bounded to `limit`."""
    wait = DEFAULT_RETRY_AFTER_SECONDS
    if value:
        value = value.strip()
        try:
            wait = float(value)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                wait = (parsed - datetime.now(UTC)).total_seconds()
    return max(0.0, min(wait, MAX_RETRY_AFTER_SECONDS, limit))


def sleep_for_retry(value: str | None, *, deadline: float) -> float:
    """Wait out one Retry-After within the call's deadline; returns the seconds waited."""
    wait = retry_after_seconds(value, limit=max(0.0, deadline - time.monotonic() - 0.5))
    time.sleep(wait)
    return wait


def snippet(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
