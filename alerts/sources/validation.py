"""Typed reads of untrusted JSON that raise `PayloadError` naming the offending field.

Every adapter reads its payload through these so a wrong type anywhere becomes a message a
person can act on (``alerts[3].labels.pod must be a string, got object``) instead of a
TypeError deep inside the pipeline.
"""

from __future__ import annotations

import math
from typing import Any

from alerts.sources.base import PayloadError

# Hostile keys can be megabytes long; messages quote at most this much of them.
_MAX_QUOTED = 60


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def quoted(text: str) -> str:
    """`text` cut to a size that fits in an error message."""
    return text if len(text) <= _MAX_QUOTED else text[:_MAX_QUOTED] + "…"


def child(field: str, key: str) -> str:
    """The dotted path of `key` inside `field` ("" means the top level)."""
    return f"{field}.{quoted(key)}" if field else quoted(key)


def expect_object(value: Any, field: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else PayloadError."""
    if not isinstance(value, dict):
        where = field or "the payload"
        raise PayloadError(f"{where} must be a JSON object, got {json_type(value)}")
    return value


def expect_list(value: Any, field: str) -> list[Any]:
    """`value` if it is a JSON array, else PayloadError."""
    if not isinstance(value, list):
        raise PayloadError(f"{field} must be an array, got {json_type(value)}")
    return value


def optional_list(obj: dict[str, Any], key: str, field: str) -> list[Any]:
    """The array at `obj[key]`; [] when absent or null; PayloadError for any other type."""
    value = obj.get(key)
    return [] if value is None else expect_list(value, child(field, key))


def optional_str(obj: dict[str, Any], key: str, field: str) -> str:
    """The string at `obj[key]`; "" when absent or null; PayloadError for any other type."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{child(field, key)} must be a string, got {json_type(value)}")
    return value


def required_str(obj: dict[str, Any], key: str, field: str) -> str:
    """The non-blank string at `obj[key]`, else PayloadError saying it is required."""
    value = optional_str(obj, key, field)
    if not value.strip():
        raise PayloadError(f"{child(field, key)} is required (a non-empty string)")
    return value


def optional_int(obj: dict[str, Any], key: str, field: str) -> int | None:
    """The integer at `obj[key]` (None when absent or null)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{child(field, key)} must be an integer, got {json_type(value)}")
    return value


def id_text(value: Any, field: str) -> str:
    """An identifier sent as a string or a whole number (template quoting decides), as text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    raise PayloadError(f"{field} must be a string or a whole number, got {json_type(value)}")


def scalar_text(value: Any) -> str | None:
    """A JSON scalar as label text ("true", "3", "2.5"), or None when it is not a scalar."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def string_map(value: Any, field: str, *, coerce_scalars: bool = False) -> dict[str, str]:
    """An object of strings (labels, annotations); {} when absent or null.

    With `coerce_scalars`, numbers and booleans become text too (the generic, curl-friendly
    format); nested objects, arrays and nulls are refused either way.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{field} must be an object of strings, got {json_type(value)}")
    result: dict[str, str] = {}
    for key, item in value.items():
        text = scalar_text(item) if coerce_scalars else (item if isinstance(item, str) else None)
        if text is None:
            raise PayloadError(
                f"{field} must be an object of strings: {child(field, key)} is {json_type(item)}"
            )
        result[key] = text
    return result
