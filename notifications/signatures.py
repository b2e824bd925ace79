"""Slack request signatures (v0): HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret."""

from __future__ import annotations

import hashlib
import hmac
import time

MAX_AGE_SECONDS = 300  # Slack's recommended replay window


class BadSignature(Exception):
    """The request is not from Slack, or is too old to trust."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(
    *, secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None
) -> None:
    if not secret:
        raise BadSignature("no signing secret is configured")
    if not timestamp or not signature:
        raise BadSignature("missing signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise BadSignature("malformed timestamp") from None
    if abs((now if now is not None else time.time()) - sent_at) > MAX_AGE_SECONDS:
        raise BadSignature("timestamp outside the replay window")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise BadSignature("signature mismatch")
