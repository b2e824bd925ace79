"""Extra authentication of webhook requests, per integration: bearer, basic, custom header, HMAC."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from alerts.models import AuthKind, Integration
from tenants.secret_box import SecretUnreadable, decrypt, digest

# Grafana puts the current Unix time in the timestamp header; older requests are replays.
HMAC_MAX_AGE_SECONDS = 300


class AuthFailed(Exception):
    """401: the message says what was missing or wrong, never what the secret is."""

    def __init__(self, message: str, *, challenge: str = ""):
        super().__init__(message)
        self.message = message
        self.challenge = challenge


def _same(secret_digest: str, presented: str) -> bool:
    return hmac.compare_digest(secret_digest, digest(presented))


def authenticate(integration: Integration, headers, body: bytes, *, now: float | None = None) -> None:
    """Raise AuthFailed unless the request carries the integration's extra credentials."""
    kind = integration.auth_kind
    if kind == AuthKind.NONE:
        return
    if kind == AuthKind.BEARER:
        scheme, _, credentials = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials:
            raise AuthFailed(
                "this webhook needs an 'Authorization: Bearer <token>' header", challenge="Bearer"
            )
        if not _same(integration.auth_secret_digest, credentials.strip()):
            raise AuthFailed(
                "the bearer token is not the one configured for this integration", challenge="Bearer"
            )
        return
    if kind == AuthKind.BASIC:
        challenge = 'Basic realm="OpsWorker webhook", charset="UTF-8"'
        scheme, _, encoded = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise AuthFailed("this webhook needs HTTP basic credentials", challenge=challenge)
        try:
            user, _, password = (
                base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise AuthFailed(
                "the basic credentials are not valid base64 'user:password'", challenge=challenge
            ) from None
        user_ok = hmac.compare_digest(user.encode(), integration.auth_username.encode())
        if not (_same(integration.auth_secret_digest, password) and user_ok):
            raise AuthFailed(
                "the basic credentials are not the ones configured for this integration", challenge=challenge
            )
        return
    if kind == AuthKind.HEADER:
        value = headers.get(integration.auth_header)
        if value is None:
            raise AuthFailed(f"this webhook needs the header {integration.auth_header}")
        if not _same(integration.auth_secret_digest, value.strip()):
            raise AuthFailed(f"the {integration.auth_header} header does not match this integration's secret")
        return
    if kind == AuthKind.HMAC:
        _check_hmac(integration, headers, body, now=time.time() if now is None else now)
        return
    raise AuthFailed("this integration's authentication is misconfigured; an admin should re-save it")


def _check_hmac(integration: Integration, headers, body: bytes, *, now: float) -> None:
    signature = (headers.get(integration.auth_header) or "").strip().lower()
    if not signature:
        raise AuthFailed(
            f"this webhook needs an HMAC-SHA256 signature in the {integration.auth_header} header"
        )
    try:
        secret = decrypt(integration.auth_secret_encrypted).encode()
    except SecretUnreadable:
        raise AuthFailed(
            "this integration's HMAC secret cannot be read; an admin should set it again"
        ) from None
    signed = body
    if integration.auth_timestamp_header:
        stamp = (headers.get(integration.auth_timestamp_header) or "").strip()
        if not stamp.isdigit():
            raise AuthFailed(
                f"this webhook needs a Unix timestamp in the {integration.auth_timestamp_header} header"
            )
        if abs(now - int(stamp)) > HMAC_MAX_AGE_SECONDS:
            raise AuthFailed("the signature's timestamp is more than 5 minutes away from our clock (replay?)")
        signed = stamp.encode() + b":" + body
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    if signature.startswith("sha256="):
        signature = signature[len("sha256=") :]
    if not hmac.compare_digest(expected, signature):
        raise AuthFailed("the HMAC signature does not match the body and this integration's secret")
