"""Rules every adapter shares: timestamps, severity names, fingerprints and links.

Severity mapping (case-insensitive, surrounding blanks ignored; anything else is unknown and
becomes None, never a guess):

* critical: critical, crit, high, error, page, fatal, emergency, alert, disaster, major,
  p0, p1, p2, sev0, sev1, sev2
* warning: warning, warn, medium, moderate, average, minor, p3, sev3
* info: info, informational, information, low, notice, success, p4, p5, sev4, sev5
* unknown (None): none, "", and every other word
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from alerts.sources.base import PayloadError
from alerts.sources.validation import json_type

_CRITICAL = "critical crit high error page fatal emergency alert disaster major p0 p1 p2 sev0 sev1 sev2"
_WARNING = "warning warn medium moderate average minor p3 sev3"
_INFO = "info informational information low notice success p4 p5 sev4 sev5"
_SEVERITY_WORDS: dict[str, str] = {
    **dict.fromkeys(_CRITICAL.split(), "critical"),
    **dict.fromkeys(_WARNING.split(), "warning"),
    **dict.fromkeys(_INFO.split(), "info"),
}


def normalize_severity(raw: str) -> str | None:
    """`critical|warning|info` for a known severity word, else None (see module docstring)."""
    # Long text is never a severity word; skip lower-casing megabytes.
    if len(raw) > 32:
        return None
    return _SEVERITY_WORDS.get(raw.strip().lower())


# RFC 3339 as Go, Grafana, AWS and people write it: up to 9 fractional digits (Go keeps
# nanoseconds), "Z", "+02:00" or "+0000" (CloudWatch), or no offset at all (taken as UTC).
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(?:[Zz]|([+-])(\d{2}):?(\d{2}))?"
)


def parse_timestamp(value: Any, field: str) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 string; None when absent, empty or Go's zero time.

    Fractions past microseconds are truncated. Go's zero time (`0001-01-01…`, any offset) is how
    Alertmanager says "unset". Anything else unparsable raises PayloadError naming `field`.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{field} must be an RFC 3339 timestamp string, got {json_type(value)}")
    match = _TIMESTAMP.fullmatch(value.strip()) if len(value) <= 64 else None
    if match is None:
        raise PayloadError(f"{field} is not an RFC 3339 timestamp: {value[:64]!r}")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    if (year, month, day) == ("0001", "01", "01"):
        return None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=UTC
        )
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= timedelta(hours=24):
                raise ValueError("offset out of range")
            parsed = parsed - offset if sign == "+" else parsed + offset
    except (ValueError, OverflowError) as exc:
        raise PayloadError(f"{field} is not a valid date and time: {value!r}") from exc
    return parsed


# Epoch values below this are taken as seconds: in milliseconds they would fall in early 1973.
_SECONDS_CEILING = 100_000_000_000
_MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def parse_epoch_millis(value: Any, field: str) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds (number or numeric string); None if absent.

    Datadog's `$DATE` is milliseconds; a value too small to be a plausible millisecond time is
    read as seconds, which is what people who hand-write the template tend to send.
    """
    if value is None or value == "":
        return None
    number: float
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(f"{field} must be epoch milliseconds, got {json_type(value)}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 32 or not re.fullmatch(r"\d+(?:\.\d+)?", text):
            raise PayloadError(f"{field} must be epoch milliseconds, got {value[:64]!r}")
        number = float(text)
    else:
        number = float(value)
    if not 0 <= number <= _MAX_EPOCH_MS:
        raise PayloadError(f"{field} is out of range for epoch milliseconds: {value!r}")
    millis = number * 1000 if number < _SECONDS_CEILING else number
    if millis > _MAX_EPOCH_MS:
        raise PayloadError(f"{field} is out of range for epoch milliseconds: {value!r}")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(millis))


def iso_z(moment: datetime) -> str:
    """`moment` as ISO 8601 with a trailing Z, the form used inside episode keys."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def content_hash(value: Any) -> str:
    """32 hex digits of SHA-256 over the canonical JSON of `value` (sorted keys)."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # Lone surrogates are valid in JSON text and must not turn into a UnicodeEncodeError.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# Fingerprints are database keys; a hostile sender must not make them megabytes long.
MAX_FINGERPRINT_KEY = 200


def source_fingerprint(prefix: str, key: str) -> str:
    """`prefix + key`, or `prefix + "sha256:" + hash` when `key` is too long to be a key."""
    if len(key) <= MAX_FINGERPRINT_KEY:
        return prefix + key
    return prefix + "sha256:" + content_hash(key)


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL: the only kind a link may point to."""
    if len(url) > 8192:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def web_links(candidates: Mapping[str, str]) -> dict[str, str]:
    """The candidates that are http(s) URLs; empty strings and other schemes are dropped.

    Dropping `javascript:` and friends here means a template can put any link in an href.
    """
    return {name: url for name, url in candidates.items() if url and is_web_url(url)}
