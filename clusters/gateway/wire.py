"""What the agent sends, checked once for every transport: the bearer token and a command result.

The HTTP endpoints (`views.py`), the long poll in front of Django (`longpoll.py`) and the SQS
reader (`sqs.py`) all accept the same credentials and results, so they share these checks.
"""

from __future__ import annotations

from typing import Any

from agent.protocol import MAX_COMMAND_ID_LENGTH, Result

MAX_TOKEN_LENGTH = 256
MAX_POLL_WAIT_SECONDS = 120

UNAUTHORIZED = "send the cluster token as 'Authorization: Bearer <token>'"
NOT_FOUND = "unknown cluster token for this organization: check the token and the portal URL, or rotate it"


def bearer_token(authorization: str) -> str | None:
    """The cluster token of an `Authorization: Bearer …` header value, or None when it is not one."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not token.isascii() or not token.isprintable() or " " in token:
        return None
    return token


def parse_result(raw: Any) -> Result | None:
    """One result of an agent message, or None when it is malformed (counted, never fatal)."""
    if not isinstance(raw, dict):
        return None
    cid = raw.get("command_id")
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_COMMAND_ID_LENGTH:
        return None
    error = raw.get("error")
    if error is not None and not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        return None
    try:
        return Result.from_dict(raw)
    except (KeyError, TypeError, ValueError):
        return None
