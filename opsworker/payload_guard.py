"""Bounded decoding of webhook request bodies, run before any JSON parser sees them.

`decode_body` turns raw request bytes into Python data or raises `PayloadRejected` with the HTTP
status to answer (400, 413, 415) and a message the sender can act on. Every check costs time
linear in the body size and constant stack, so a hostile body (huge, deeply nested, invalid
UTF-8, 5,000-digit integers) is answered with a 4xx, never a crash, a RecursionError or a 5xx.

What it decides, so callers need not:

* Order of checks: size (413), content type (415), empty (400), charset (415/400), nesting
  depth (400), then `json.loads` (400).
* JSON is accepted as `application/json`, `application/*+json`, `text/plain` (SNS's default)
  or with no content type at all. A `charset` parameter other than UTF-8 (or its subset
  US-ASCII) is refused with 415: RFC 8259 JSON is UTF-8, and guessing another charset would
  turn a sender's misconfiguration into silently wrong text.
* A UTF-8 byte order mark is skipped; a UTF-16/32 one is named in the 400 message.
* Nesting deeper than `max_depth` containers is refused before parsing, by a scan that skips
  brackets inside strings (`"[[["` does not count).
* `NaN`, `Infinity`, `-Infinity`, numbers that overflow to infinity (`1e999`) and integers
  longer than 4,300 digits are refused: they are not JSON, and the last one makes `int()`
  quadratic.
* Duplicate keys in one object are refused (400): senders never produce them, and when two
  parsers disagree on which value wins, the disagreement is an attack surface.
* Strings holding lone UTF-16 surrogates (`"\\ud800"`) are refused: they are not text, and
  the database would fail on them later with a 500.
* `\\u0000` is accepted (it is valid JSON); whatever stores text in Postgres must strip it.
* Forms (`application/x-www-form-urlencoded`, only with `allow_form=True`) become a flat
  `dict[str, str]`; when a key repeats the last value wins, blank values are kept, and more
  than `max_form_fields` fields is refused with 413.
"""

from __future__ import annotations

import json
import math
import operator
import re
from itertools import accumulate, compress, count, islice
from typing import Any, NoReturn
from urllib.parse import parse_qsl

# Beyond this the C JSON scanner itself gets close to Python's recursion limit.
MAX_SUPPORTED_DEPTH = 512
# Python's own default cap (sys.int_max_str_digits), enforced here whatever the interpreter's
# setting, because with the cap disabled int() on a megabyte of digits takes seconds.
MAX_INT_DIGITS = 4300

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
_UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})

_JSON = "json"
_FORM = "form"

# token = 1*tchar (RFC 9110 §5.6.2); anything looser is not a media type we can reason about.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+")

# Outside strings a backslash is invalid JSON, so every backslash pair is an escape inside a
# string. Replacing each pair with two inert bytes keeps offsets and removes every `\"`, after
# which the remaining quotes strictly alternate open/close.
_ESCAPE_PAIR = re.compile(rb"\\.", re.DOTALL)
_INERT_PAIR = b"__"
# Brackets inside strings become spaces (same length, so byte offsets survive).
_BLANK_BRACKETS = operator.methodcaller("translate", bytes.maketrans(b"[]{}", b"    "))
_ONLY_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET = re.compile(rb"[\[\]{}]")
_DEPTH_DELTA = [0] * 256
for _opener in b"[{":
    _DEPTH_DELTA[_opener] = 1
for _closer in b"]}":
    _DEPTH_DELTA[_closer] = -1

# A JSON \u escape of a UTF-16 surrogate; only when one appears can a lone surrogate exist.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class PayloadRejected(Exception):
    """The body cannot be accepted; `status` is the HTTP answer and `message` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"


class _NotJson(ValueError):
    """Raised from json.loads hooks; the message completes "body is not valid JSON: ..."."""


def decode_body(
    body: bytes,
    content_type: str,
    *,
    max_bytes: int,
    max_depth: int = 64,
    allow_form: bool = False,
    max_form_fields: int = 1000,
) -> Any:
    """Return the parsed body (JSON value, or a str→str dict for forms) or raise PayloadRejected.

    `content_type` is the raw Content-Type header ("" when absent). `max_depth` counts nested
    arrays/objects: `[[1]]` has depth 2. Only `max_bytes` bytes are ever looked at: the caller
    must not have read more than that (or must pass what it read, so the 413 is reported).
    """
    if not 1 <= max_depth <= MAX_SUPPORTED_DEPTH:
        raise ValueError(f"max_depth must be between 1 and {MAX_SUPPORTED_DEPTH}, not {max_depth}")
    if len(body) > max_bytes:
        body_size, limit = _sizes(len(body), max_bytes)
        _reject(413, f"body is {body_size}; the limit is {limit}")
    kind, charset = _classify_content_type(content_type or "", allow_form=allow_form)
    if not body:
        _reject(400, "body is empty")
    text, offset = _decode_utf8(body, charset)
    if not text.strip():
        _reject(400, "body is empty")
    if kind == _FORM:
        return _decode_form(text, max_fields=max_form_fields)
    _check_depth(body, offset=offset, max_depth=max_depth)
    return _loads(text)


def _reject(status: int, message: str) -> NoReturn:
    raise PayloadRejected(status, message)


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """Human sizes for the 413 message, exact when rounding would make them look equal."""
    human_size, human_limit = _human(size), _human(limit)
    if human_size == human_limit:
        return f"{size} bytes", f"{limit} bytes"
    return human_size, human_limit


def _human(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def _classify_content_type(header: str, *, allow_form: bool) -> tuple[str, str | None]:
    """Return (kind, charset parameter or None) or reject with 415."""
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if not media:
        return _JSON, _charset(params)
    wanted = "application/json or application/x-www-form-urlencoded" if allow_form else "application/json"
    shown = header.strip()[:100]
    if not _MEDIA_TYPE.fullmatch(media):
        _reject(415, f"content type {shown!r} is not a media type; send {wanted}")
    if media in ("application/json", "text/plain") or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return _JSON, _charset(params)
    if media == "application/x-www-form-urlencoded" and allow_form:
        return _FORM, _charset(params)
    _reject(415, f"content type {media} is not accepted; send {wanted}")


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        name, sep, value = param.partition("=")
        if sep and name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _decode_utf8(body: bytes, charset: str | None) -> tuple[str, int]:
    """Return the text and how many BOM bytes preceded it, or reject."""
    if charset is not None and charset not in _UTF8_CHARSETS:
        _reject(415, f"charset {charset[:40]} is not accepted; send UTF-8")
    offset = len(_UTF8_BOM) if body.startswith(_UTF8_BOM) else 0
    try:
        return body[offset:].decode("utf-8"), offset
    except UnicodeDecodeError as exc:
        for bom, name in _OTHER_BOMS.items():
            if body.startswith(bom):
                _reject(400, f"body is {name} (it starts with a {name} byte order mark); send UTF-8")
        _reject(400, f"body is not valid UTF-8: {exc.reason} at byte {exc.start + offset}")


def _check_depth(body: bytes, *, offset: int, max_depth: int) -> None:
    """Reject nesting deeper than max_depth, in linear time with no recursion.

    Everything here runs in C (regex, split/join, translate, accumulate): a megabyte of `[`
    costs milliseconds, and the Python-level work does not grow with the number of tokens.
    """
    data = body[offset:]
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return  # cannot possibly be too deep; the common case for alert payloads
    data = _ESCAPE_PAIR.sub(_INERT_PAIR, data)
    parts = data.split(b'"')
    # Odd-numbered parts are string contents (an unterminated last string included).
    parts[1::2] = map(_BLANK_BRACKETS, parts[1::2])
    masked = b'"'.join(parts)
    depths = accumulate(map(_DEPTH_DELTA.__getitem__, masked.translate(None, _ONLY_BRACKETS)))
    too_deep_at = next(compress(count(), map(max_depth.__lt__, depths)), None)
    if too_deep_at is None:
        return
    # The too_deep_at-th bracket outside strings is where the limit was crossed.
    position = next(islice(_BRACKET.finditer(masked), too_deep_at, None)).start() + offset
    _reject(400, f"JSON nesting is deeper than {max_depth} levels at byte {position}")


def _loads(text: str) -> Any:
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        _reject(400, f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except _NotJson as exc:
        _reject(400, f"body is not valid JSON: {exc}")
    except RecursionError:
        # Unreachable after _check_depth with max_depth <= MAX_SUPPORTED_DEPTH; kept so a future
        # change to the limits degrades to a 400, not a 500.
        _reject(400, "JSON nesting is too deep")
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(value)
    return value


def _refuse_constant(name: str) -> NoReturn:
    raise _NotJson(f"{name} is not allowed (JSON has no NaN or Infinity)")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotJson(f"number {literal[:40]} is too large")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal) - literal.startswith("-") > MAX_INT_DIGITS:
        raise _NotJson(f"an integer has more than {MAX_INT_DIGITS} digits")
    try:
        return int(literal)
    except ValueError:
        # The interpreter's own cap (PYTHONINTMAXSTRDIGITS) may be set lower than ours.
        raise _NotJson(f"an integer has too many digits ({len(literal)})") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _NotJson(f"key {key[:80]!r} appears more than once in one object")
            seen.add(key)
    return obj


def _refuse_lone_surrogates(value: Any) -> None:
    # ensure_ascii=False writes the surrogate through, and strict UTF-8 encoding then fails;
    # both steps run in C, so this stays linear without walking the structure in Python.
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        _reject(400, "body is not valid JSON text: a \\u escape encodes a lone UTF-16 surrogate")


def _decode_form(text: str, *, max_fields: int) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=max_fields,
        )
    except UnicodeDecodeError as exc:
        _reject(400, f"form is not valid UTF-8 once percent-decoded: {exc.reason}")
    except ValueError:
        # parse_qsl's only ValueError with strict_parsing off is max_num_fields being exceeded.
        _reject(413, f"form has more than {max_fields} fields; the limit is {max_fields}")
    return dict(pairs)
