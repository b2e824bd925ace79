"""Encryption at rest for credentials we must be able to read back (HMAC secrets, bot tokens, model keys).

Keys come from `OPSWORKER_ENCRYPTION_KEYS` (comma-separated Fernet keys; the first encrypts, all
decrypt, so a key is rotated by putting the new one first and re-saving). Development derives a key
from SECRET_KEY when none is set; production refuses to start without one.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored value was encrypted with a key that is no longer configured."""


@functools.cache
def _box() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        derived = hashlib.sha256(b"opsworker-encryption:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _box().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _box().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("stored secret cannot be decrypted with the configured keys") from None


def digest(value: str) -> str:
    """SHA-256 hex of a secret we only ever compare (URL tokens, bearer tokens, passwords)."""
    return hashlib.sha256(value.encode()).hexdigest()
