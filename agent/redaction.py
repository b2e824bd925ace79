"""Mask credentials before anything leaves the cluster, keeping keys and structure.

Two kinds of rules:

* by name: an env var, ConfigMap key or ``key=value`` whose key names a credential
  (``DB_PASSWORD``, ``JWT_SECRET``, ``aws_secret_access_key``, ``spring.datasource.password``)
  has its whole value masked;
* by shape, in any text (log lines, env values, config files, event messages, annotations):
  private key blocks, passwords in URLs, bearer/basic credentials, AWS access key ids, JWTs,
  GitHub/Slack/Stripe/Google tokens.

A masked value reads ``***`` (recognisable token prefixes are kept: ``AKIA***``). Every mask
counts one; the count goes into the result's ``redactions``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

MASK = "***"

# Last name component(s) that make a key a credential. "key" only counts after a qualifier,
# so CACHE_KEY or KEY_PREFIX stay visible while API_KEY or SECRET_ACCESS_KEY are masked.
_CREDENTIAL_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "dsn",
        "privatekey",
        "accesskey",
        "secretkey",
        "connectionstring",
        "connstr",
    }
)
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "secret", "signing", "encryption", "client", "master", "auth", "session"}
)
_STRING_QUALIFIERS = frozenset({"connection", "conn"})
_NAME_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_HARMLESS_NAMES = frozenset({"pwd", "oldpwd"})  # shell working directories


def is_credential_name(name: str) -> bool:
    """Whether a variable/key name says its value is a credential (judged by its last parts)."""
    parts = [p.lower() for p in _NAME_SPLIT.split(name) if p]
    if not parts or "".join(parts) in _HARMLESS_NAMES:
        return False
    last = parts[-1]
    before = parts[-2] if len(parts) > 1 else ""
    if last in _CREDENTIAL_WORDS:
        return True
    if last == "key" and before in _KEY_QUALIFIERS:
        return True
    return last in ("string", "str") and before in _STRING_QUALIFIERS


class Redactor:
    """Counts masks across one result."""

    def __init__(self) -> None:
        self.count = 0

    # --- text -------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """Mask credentials found by shape or by `key=value` in free text."""
        if not value:
            return value
        lowered = value.lower()
        for pattern, replace, needles in _TEXT_RULES:
            if any(needle in lowered for needle in needles):
                value = pattern.sub(self._counting(replace), value)
                lowered = value.lower()
        return value

    def _counting(self, replace: Callable[[re.Match[str]], str | None]) -> Callable[[re.Match[str]], str]:
        def sub(match: re.Match[str]) -> str:
            new = replace(match)
            if new is None or new == match.group(0):
                return match.group(0)
            self.count += 1
            return new

        return sub

    def mask(self, value: Any) -> Any:
        """Mask a whole value (kept when empty: an empty setting is not a credential)."""
        if value in (None, "", MASK):
            return value
        self.count += 1
        return MASK

    # --- objects ----------------------------------------------------------------------
    def obj(self, value: Any, *, kind: str | None = None) -> Any:
        """Redact a Kubernetes object or list (as JSON-like dicts) in place and return it."""
        if isinstance(value, dict):
            k = value.get("kind") if isinstance(value.get("kind"), str) else kind
            for key, item in list(value.items()):
                value[key] = self._field(key, item, k, value)
            return value
        if isinstance(value, list):
            return [self.obj(v, kind=kind) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _field(self, key: str, item: Any, kind: str | None, parent: dict[str, Any]) -> Any:
        if key == "env" and isinstance(item, list):
            return [self._env_var(v) for v in item]
        if kind == "ConfigMap" and key == "data" and isinstance(item, dict) and "metadata" in parent:
            return {k: self._config_value(k, v) for k, v in item.items()}
        if kind == "ConfigMap" and key == "binaryData" and isinstance(item, dict) and "metadata" in parent:
            return {k: self._binary_value(k, v) for k, v in item.items()}
        if key == "annotations" and isinstance(item, dict):
            return {k: self._annotation(v) for k, v in item.items()}
        return self.obj(item, kind=kind)

    def _env_var(self, var: Any) -> Any:
        if not isinstance(var, dict):
            return self.obj(var)
        name, value = var.get("name"), var.get("value")
        if isinstance(value, str):
            var = dict(var)
            if isinstance(name, str) and is_credential_name(name):
                var["value"] = self.mask(value)
            else:
                var["value"] = self.text(value)
        return var

    def _config_value(self, key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return self.obj(value)
        if is_credential_name(key):
            return self.mask(value)
        return self.text(value)

    def _binary_value(self, key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if is_credential_name(key):
            return self.mask(value)
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return value  # opaque binary: nothing we can judge by shape
        before = self.count
        cleaned = self.text(decoded)
        if self.count == before:
            return value
        return base64.b64encode(cleaned.encode("utf-8")).decode("ascii")

    def _annotation(self, value: Any) -> Any:
        # kubectl's last-applied-configuration repeats the whole object, env values included.
        if isinstance(value, str) and value.startswith("{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                return self.text(value)
            if isinstance(parsed, dict):
                return json.dumps(self.obj(parsed), separators=(",", ":"))
        return self.obj(value)


def _mask_group(group: int, keep_prefix: bool = False) -> Callable[[re.Match[str]], str | None]:
    def replace(m: re.Match[str]) -> str | None:
        secret = m.group(group)
        if not secret or MASK in secret:
            return None
        start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
        whole = m.group(0)
        return whole[:start] + MASK + whole[end:]

    return replace


def _keep_prefix(prefix_group: int) -> Callable[[re.Match[str]], str | None]:
    def replace(m: re.Match[str]) -> str | None:
        return m.group(prefix_group) + MASK

    return replace


def _pem(m: re.Match[str]) -> str:
    label = m.group("label")
    return f"-----BEGIN {label}PRIVATE KEY-----{MASK}" + (
        f"-----END {label}PRIVATE KEY-----" if m.group("end") else ""
    )


def _key_value(m: re.Match[str]) -> str | None:
    if not is_credential_name(m.group("key")):
        return None
    value = m.group("val")
    if MASK in value or value.lower() in ("null", "none", "nil", "true", "false", "[redacted]"):
        return None
    return _mask_group(m.re.groupindex["val"])(m)


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str | None], tuple[str, ...]]

# (pattern, replacement, needles): a rule only runs on text containing one of its needles
# (lowercase), which keeps ordinary log lines cheap.
_TEXT_RULES: tuple[_Rule, ...] = (
    # PEM private keys (also a block cut off by truncation: mask to the end).
    (
        re.compile(
            r"-----BEGIN (?P<label>[A-Z0-9 ]*?)PRIVATE KEY-----.*?"
            r"(?P<end>-----END (?P=label)PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        _pem,
        ("private key",),
    ),
    # ... and the end of a block whose start was cut off (a log tail starting mid-key).
    (
        re.compile(r"\A(?:[A-Za-z0-9+/=]{16,}\r?\n)+(?=-----END [A-Z0-9 ]*PRIVATE KEY-----)"),
        lambda m: MASK,
        ("private key",),
    ),
    # scheme://user:password@host
    (
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,30}://[^\s:/@'\"]+:([^\s@/'\"]+)@"),
        _mask_group(1),
        ("://",),
    ),
    # Authorization: Bearer <token> / Basic <b64>
    (
        re.compile(r"\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)\s+([A-Za-z0-9._~+/=-]{8,})"),
        _mask_group(1),
        ("bearer", "basic"),
    ),
    # Recognisable tokens; the prefix is kept so a reader knows what leaked.
    (re.compile(r"\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b"), _keep_prefix(1), ("akia", "asia", "aida", "aroa")),
    (re.compile(r"\b(eyJ)[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), _keep_prefix(1), ("eyj",)),
    (re.compile(r"\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}"), _keep_prefix(1), ("gh",)),
    (re.compile(r"\b(xox[abposr]-)[A-Za-z0-9-]{10,}"), _keep_prefix(1), ("xox",)),
    (re.compile(r"\b((?:sk|rk|pk)_(?:live|test)_)[A-Za-z0-9]{10,}"), _keep_prefix(1), ("_live_", "_test_")),
    (re.compile(r"\b(AIza)[0-9A-Za-z_-]{35}"), _keep_prefix(1), ("aiza",)),
    # key=value, key: value, "key": "value" where the key names a credential.
    (
        re.compile(
            r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,100})[\"']?(?P<sep>\s*=\s*|\s*:\s+|:(?=[\"']))"
            r"[\"']?(?P<val>[^\s\"',;&}]+)"
        ),
        _key_value,
        ("pass", "pwd", "secret", "token", "key", "credential", "dsn", "conn"),
    ),
)
