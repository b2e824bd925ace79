"""decode_body: every rejection branch with its status, and the bodies that must still pass."""

from __future__ import annotations

import json

import pytest

from opsworker.payload_guard import MAX_INT_DIGITS, PayloadRejected, decode_body

MIB = 1024 * 1024
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _decode(body: bytes, content_type: str = JSON, **kwargs):
    kwargs.setdefault("max_bytes", MIB)
    return decode_body(body, content_type, **kwargs)


def _rejection(body: bytes, content_type: str = JSON, **kwargs) -> PayloadRejected:
    with pytest.raises(PayloadRejected) as excinfo:
        _decode(body, content_type, **kwargs)
    return excinfo.value


# --- size ---------------------------------------------------------------------------------------


def test_decode_body_rejects_body_over_limit_with_413():
    body = json.dumps({"s": "x" * (2 * MIB)}).encode()

    rejection = _rejection(body)

    assert rejection.status == 413
    assert rejection.message == "body is 2.0 MiB; the limit is 1.0 MiB"


def test_decode_body_names_exact_sizes_when_rounding_would_hide_the_excess():
    rejection = _rejection(b" " * (MIB + 1))

    assert rejection.status == 413
    assert rejection.message == f"body is {MIB + 1} bytes; the limit is {MIB} bytes"


def test_decode_body_accepts_body_exactly_at_limit():
    padding = MIB - len(b'{"s":""}')
    body = b'{"s":"' + b"x" * padding + b'"}'
    assert len(body) == MIB

    assert len(_decode(body)["s"]) == padding


def test_decode_body_checks_size_before_content_type():
    assert _rejection(b"x" * 11, "image/png", max_bytes=10).status == 413


# --- content type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON; Charset=UTF-8",
        'application/json; charset="utf-8"',
        "text/plain; charset=UTF-8",  # what SNS sends
        "text/plain",
        "application/vnd.pagerduty+json",
        "application/problem+json; charset=utf-8",
        "application/json; charset=us-ascii",
        "",
    ],
)
def test_decode_body_accepts_json_content_types(content_type):
    assert _decode(b'{"a": 1}', content_type) == {"a": 1}


@pytest.mark.parametrize(
    "content_type", ["image/png", "text/html", "application/xml", "multipart/form-data; boundary=x"]
)
def test_decode_body_rejects_other_content_types_with_415(content_type):
    rejection = _rejection(b'{"a": 1}', content_type)

    assert rejection.status == 415
    assert rejection.message.endswith("is not accepted; send application/json")
    assert content_type.split(";")[0] in rejection.message


def test_decode_body_rejects_form_unless_allowed():
    rejection = _rejection(b"a=1", FORM)

    assert rejection.status == 415


@pytest.mark.parametrize("content_type", ["json", "application json", "application/json/x", "/"])
def test_decode_body_rejects_malformed_content_type_with_415(content_type):
    assert _rejection(b"{}", content_type).status == 415


@pytest.mark.parametrize("charset", ["iso-8859-1", "utf-16", "windows-1252"])
def test_decode_body_rejects_declared_non_utf8_charset_with_415(charset):
    rejection = _rejection(b"{}", f"application/json; charset={charset}")

    assert rejection.status == 415
    assert "send UTF-8" in rejection.message


# --- empty and charset --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \r\n\t", b"\xef\xbb\xbf"])
def test_decode_body_rejects_empty_body_with_400(body):
    rejection = _rejection(body)

    assert rejection.status == 400
    assert rejection.message == "body is empty"


def test_decode_body_skips_utf8_bom():
    assert _decode(b'\xef\xbb\xbf{"name": "caf\xc3\xa9"}') == {"name": "café"}


@pytest.mark.parametrize(
    "body", [b'{"a": "\xff"}', b'{"a": "\xc3\x28"}', b'{"a": "\xed\xa0\x80"}', b'["\xe2\x82']
)
def test_decode_body_rejects_invalid_utf8_with_400(body):
    rejection = _rejection(body)

    assert rejection.status == 400
    assert rejection.message.startswith("body is not valid UTF-8")
    assert "at byte" in rejection.message


def test_decode_body_names_utf16_when_sent_with_its_bom():
    rejection = _rejection('{"a": 1}'.encode("utf-16"))

    assert rejection.status == 400
    assert "UTF-16" in rejection.message


# --- nesting depth ------------------------------------------------------------------------------


def test_decode_body_rejects_50000_nested_arrays_before_parsing():
    rejection = _rejection(b"[" * 50_000 + b"]" * 50_000)

    assert rejection.status == 400
    assert rejection.message == "JSON nesting is deeper than 64 levels at byte 64"


def test_decode_body_rejects_50000_nested_objects():
    body = b'{"a":' * 50_000 + b"1" + b"}" * 50_000

    rejection = _rejection(body)

    assert rejection.status == 400
    assert rejection.message == f"JSON nesting is deeper than 64 levels at byte {64 * 5}"


def test_decode_body_rejects_unclosed_deep_nesting():
    # Truncated on purpose: the depth check must not depend on the brackets being balanced.
    assert _rejection(b"[" * 50_000).message.startswith("JSON nesting is deeper than 64")


def test_decode_body_ignores_brackets_inside_strings():
    text = "[" * 50_000 + "{" * 50_000
    body = json.dumps({"summary": text, "other": "]]]}}}"}).encode()

    assert _decode(body)["summary"] == text


def test_decode_body_ignores_escaped_quotes_when_skipping_strings():
    # `\"` does not end the string, so the brackets after it are still inside it.
    body = b'{"a": "\\"' + b"[" * 1000 + b'", "b": "\\\\"}'

    assert _decode(body)["a"] == '"' + "[" * 1000


def test_decode_body_counts_brackets_after_escaped_backslash():
    # `\\` ends with the string's closing quote, so these brackets are structure again.
    body = b'["\\\\", ' + b"[" * 70 + b"]" * 70 + b"]"

    rejection = _rejection(body)

    assert rejection.message.startswith("JSON nesting is deeper than 64 levels at byte ")


def test_decode_body_reports_byte_offset_including_bom():
    rejection = _rejection(b"\xef\xbb\xbf" + b"[" * 100)

    assert rejection.message.endswith("at byte 67")


def test_decode_body_accepts_nesting_exactly_at_limit():
    body = b"[" * 64 + b"1" + b"]" * 64

    value = _decode(body)

    for _ in range(64):
        value = value[0]
    assert value == 1


def test_decode_body_rejects_one_level_past_limit():
    assert _rejection(b"[" * 65 + b"]" * 65).status == 400


def test_decode_body_accepts_deep_body_under_a_raised_limit():
    body = b'{"a":' * 200 + b"null" + b"}" * 200

    assert _decode(body, max_depth=256) is not None


def test_decode_body_accepts_many_shallow_containers():
    # Thousands of brackets, none deeper than 2: a count of brackets alone would refuse this.
    alerts = [{"labels": {"alertname": f"A{i}"}} for i in range(5000)]
    body = json.dumps({"alerts": alerts}).encode()

    assert len(_decode(body)["alerts"]) == 5000


def test_decode_body_refuses_unsupported_max_depth():
    with pytest.raises(ValueError, match="max_depth"):
        decode_body(b"{}", JSON, max_bytes=10, max_depth=10_000)


# --- JSON syntax and values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": 1 "b": 2}', "body is not valid JSON: Expecting ',' delimiter at line 1 column 9"),
        (b'{"alerts": [{"status": "fir', "body is not valid JSON: Unterminated string starting at"),
        (b'{"alerts": [', "body is not valid JSON: Expecting value at line 1 column 13"),
        (b"{'a': 1}", "body is not valid JSON: Expecting property name enclosed in double quotes"),
        (b'{"a": 1}\n{"b": 2}', "body is not valid JSON: Extra data at line 2 column 1"),
    ],
)
def test_decode_body_rejects_invalid_json_with_parser_position(body, message):
    rejection = _rejection(body)

    assert rejection.status == 400
    assert rejection.message.startswith(message)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_decode_body_rejects_non_json_constants(constant):
    rejection = _rejection(b'{"value": ' + constant + b"}")

    assert rejection.status == 400
    assert "is not allowed" in rejection.message


def test_decode_body_rejects_float_that_overflows_to_infinity():
    assert _rejection(b'{"value": 1e999}').status == 400


@pytest.mark.parametrize("sign", [b"", b"-"])
def test_decode_body_rejects_integer_with_too_many_digits(sign):
    rejection = _rejection(b'{"value": ' + sign + b"9" * (MAX_INT_DIGITS + 1) + b"}")

    assert rejection.status == 400
    assert "digits" in rejection.message


def test_decode_body_accepts_integer_at_digit_limit():
    assert _decode(b"-" + b"9" * MAX_INT_DIGITS) == -int("9" * MAX_INT_DIGITS)


def test_decode_body_accepts_large_but_reasonable_numbers():
    body = b'{"i": ' + b"9" * 100 + b', "f": 1.5e300, "n": -0.0}'

    assert _decode(body)["i"] == int("9" * 100)


def test_decode_body_rejects_duplicate_keys():
    rejection = _rejection(b'{"status": "resolved", "status": "firing"}')

    assert rejection.status == 400
    assert "'status' appears more than once" in rejection.message


def test_decode_body_accepts_same_key_in_different_objects():
    assert _decode(b'[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]


def test_decode_body_rejects_lone_surrogate_escape():
    assert _rejection(b'{"a": "\\ud800"}').status == 400


def test_decode_body_accepts_escaped_surrogate_pair_and_escaped_backslash_u():
    body = b'{"emoji": "\\ud83d\\ude00", "literal": "\\\\ud800"}'

    assert _decode(body) == {"emoji": "\U0001f600", "literal": "\\ud800"}


def test_decode_body_accepts_top_level_scalars():
    # Shape is the adapter's business; the guard only promises well-formed, bounded JSON.
    assert _decode(b'"text"') == "text"


# --- forms --------------------------------------------------------------------------------------


def test_decode_body_decodes_form_into_flat_dict():
    body = b"title=CPU+high&body=%7B%22a%22%3A1%7D&empty=&name=caf%C3%A9"

    assert _decode(body, FORM, allow_form=True) == {
        "title": "CPU high",
        "body": '{"a":1}',
        "empty": "",
        "name": "café",
    }


def test_decode_body_form_keeps_last_value_of_repeated_key():
    assert _decode(b"tag=a&tag=b&tag=c", f"{FORM}; charset=UTF-8", allow_form=True) == {"tag": "c"}


def test_decode_body_rejects_form_with_too_many_fields_with_413():
    body = "&".join(f"k{i}=v" for i in range(11)).encode()

    rejection = _rejection(body, FORM, allow_form=True, max_form_fields=10)

    assert rejection.status == 413
    assert "more than 10 fields" in rejection.message


def test_decode_body_accepts_form_at_field_limit():
    body = "&".join(f"k{i}=v" for i in range(10)).encode()

    assert len(_decode(body, FORM, allow_form=True, max_form_fields=10)) == 10


def test_decode_body_rejects_form_with_invalid_percent_encoded_utf8():
    rejection = _rejection(b"a=%ff%fe", FORM, allow_form=True)

    assert rejection.status == 400
    assert "UTF-8" in rejection.message


def test_decode_body_form_skips_json_depth_check():
    # A form value is text; nesting applies when an adapter later parses it as JSON.
    assert _decode(b"payload=" + b"%5B" * 100, FORM, allow_form=True) == {"payload": "[" * 100}


def test_decode_body_allows_json_when_form_is_allowed():
    assert _decode(b'{"a": 1}', JSON, allow_form=True) == {"a": 1}
