"""Logging pieces: secret scrubbing for every handler, and a readable console format for development.

`scrub_secrets` removes what must never be written down: the secret part of URLs whose path
carries a credential (`/hooks/<source>/<token>/`, `/bench/baseline/<token>/`,
`/accounts/login/invitation/<token>/`, one-time `/…/reveal/<key>/` links), secret query
parameters (`code=`, `state=`, `token=`, …), bearer credentials, and our prefixed tokens
(`owc_…` cluster tokens, `owk_…` API tokens).
`SecretScrubbingFilter` applies it to every record a handler emits (settings.LOGGING installs it
on the handlers): the message with its arguments, string fields, the request's repr, the
exception text and the stack. `tests/test_log_scrubbing.py` walks both URL confs, so a new route
with a token in its path fails the suite until it is covered here.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_PATH_SECRET = re.compile(
    r"(/(?:hooks/[^/\s?#'\"<>]+|bench/baseline|accounts/login/invitation|reveal)/)[^/\s?#'\"<>\\]+"
)
_QUERY_SECRET = re.compile(
    r"(?i)(?<![A-Za-z0-9_])((?:code|state|token|access_token|refresh_token|id_token|api_key|key|secret|"
    r"client_secret|password|signature|sig)=)[^&\s'\"<>#;\\]+"
)
_BEARER = re.compile(r"(?i)\b((?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}")
_PREFIXED_TOKEN = re.compile(r"\b(ow[ck]_)[A-Za-z0-9_-]{8,}")


def scrub_secrets(text: str) -> str:
    """`text` with every credential we know the shape of replaced by `[redacted]`."""
    if not text:
        return text
    text = _PATH_SECRET.sub(rf"\1{REDACTED}", text)
    text = _QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _PREFIXED_TOKEN.sub(rf"\1{REDACTED}", text)


_SECRET_NAME = re.compile(r"(?i)token|secret|key|code|state|signature|password")


def request_secrets(request) -> list[str]:
    """The literal credentials this request carries in its URL (route arguments, query parameters)."""
    found: list[str] = []
    match = getattr(request, "resolver_match", None)
    for name, value in (getattr(match, "kwargs", None) or {}).items():
        if _SECRET_NAME.search(name) and isinstance(value, str):
            found.append(value)
    query = getattr(request, "GET", None)
    if query is not None:
        for name, values in query.lists():
            if _SECRET_NAME.search(name):
                found += values
    return [value for value in found if len(value) >= 6]


def scrub_literals(text: str, literals: list[str]) -> str:
    for literal in literals:
        text = text.replace(literal, REDACTED)
    return text


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


class _ScrubbedRequest:
    """Stands in for `record.request`: attributes pass through, its text form is scrubbed."""

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)

    def __repr__(self) -> str:
        return scrub_secrets(repr(self._request))

    __str__ = __repr__


class SecretScrubbingFilter(logging.Filter):
    """Rewrite a record so that no formatter can write a credential (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        # A request's own credentials are removed wherever they appear (e.g. in an exception's
        # message), not only where they have a recognisable shape.
        literals = request_secrets(request) if request is not None else []

        def scrub(text: str) -> str:
            return scrub_secrets(scrub_literals(text, literals))

        try:
            message = record.getMessage()
        except Exception:  # a malformed call must still be logged, just as it came
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        for key, value in list(vars(record).items()):
            if key in _STANDARD:
                continue
            if isinstance(value, str):
                setattr(record, key, scrub(value))
            elif key == "request" and value is not None and not isinstance(value, _ScrubbedRequest):
                record.request = _ScrubbedRequest(value)
        if record.exc_info:
            # Formatters reuse exc_text; dropping exc_info keeps one (e.g. JSON) from re-rendering it.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class NoTracebackForRefusals(logging.Filter):
    """Keep Django's line about a 4xx answer, drop its traceback.

    Django logs a PermissionDenied (403) or a SuspiciousOperation (400) with the exception attached,
    so every refused request printed a traceback as if something had broken. A refusal is the
    product working; the status line says all there is to say. 5xx records keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.name.startswith("django.") and isinstance(status, int) and 400 <= status < 500:
            record.exc_info, record.exc_text = None, None
        return True


class ConsoleFormatter(logging.Formatter):
    """One line per record with its structured fields; the traceback below it."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items() if key not in _STANDARD}
        extra = " ".join(f"{key}={value!r}" for key, value in sorted(fields.items()))
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.getMessage()}"
        if extra:
            line += f"  {extra}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


class QuietBelow(logging.Filter):
    """Drops records of the named loggers below `level` (the test suite runs them at DEBUG so every
    log call executes, without printing every debug line or filling a child process's pipe)."""

    def __init__(self, loggers: tuple[str, ...] | list[str] = (), level: str = "WARNING") -> None:
        super().__init__()
        self.prefixes = tuple(loggers)
        self.level = logging.getLevelName(level)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.level:
            return True
        return not any(record.name == p or record.name.startswith(p + ".") for p in self.prefixes)
