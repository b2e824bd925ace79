"""Log lines classified once, for every analyzer: what kind of failure a line reports, and about what.

Analyzers used to grep logs with their own patterns, so one line could be read as an application
bug by one analyzer and as a configuration problem by another. `classify_log` is the shared
reading: each line that reports a known failure mechanism becomes a `LogFact` with its kind and,
where the line says it, the thing it is about (a host, a port, a file, a setting).
"""

from __future__ import annotations

import dataclasses
import re

CONFIG_UNREADABLE = "config-unreadable"  # the program could not load or parse its configuration
MISSING_SETTING = "missing-setting"  # the program says a required setting is absent
CONNECTION_REFUSED = "connection-refused"
CONNECTION_TIMEOUT = "connection-timeout"
NAME_NOT_RESOLVED = "name-not-resolved"
PERMISSION_DENIED = "permission-denied"
DISK_FULL = "disk-full"
CERTIFICATE = "certificate"
OUT_OF_MEMORY = "out-of-memory"
PANIC = "panic"

_CONFIG_WORDS = (
    r"(?:config(?:uration)?|settings?|properties|application\.ya?ml"
    r"|[\w.-]+\.(?:ya?ml|json|toml|ini|conf|properties))"
)


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.I)


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        MISSING_SETTING,
        _any(
            r"(?:required|mandatory) (?:setting|config(?:uration)?(?: key)?|key|property|variable|option)s? "
            r"(?:is )?(?:missing|not set|absent)",
            r"missing (?:required )?(?:setting|config(?:uration)? key|key|property)",
            r"missing (?:required )?(?:environment variable|env var)",
            r"environment variable \S+ (?:is )?(?:not set|missing|required|undefined)",
            r"\S+ (?:must be set|is required but (?:was )?not (?:set|provided))",
            r"KeyError: ['\"]",
        ),
    ),
    (
        CONFIG_UNREADABLE,
        _any(
            r"(?:could not|cannot|can't|unable to|failed to|error)\s+"
            rf"(?:load|loading|parse|parsing|read|reading|decode|decoding)\s+(?:the\s+)?{_CONFIG_WORDS}",
            rf"{_CONFIG_WORDS}\s*(?:is\s+)?(?:invalid|malformed)",
            r"(?:yaml|json|toml)[:.\s].*(?:line \d+|column \d+|unexpected|unmarshal)",
            r"mapping values are not allowed|did not find expected (?:key|node)|could not find expected ':'",
            r"found character that cannot start any token",
            r"while (?:parsing|scanning) a (?:block|flow|simple key)",
            r"ScannerError|ParserError|Psych::SyntaxError|JSONDecodeError|yaml: unmarshal errors",
            r"invalid configuration",
            r"unknown (?:configuration )?(?:field|key|option) .{0,60}in (?:config|configuration)",
        ),
    ),
    (
        NAME_NOT_RESOLVED,
        _any(
            r"no such host|NXDOMAIN|Name or service not known|ENOTFOUND|EAI_AGAIN|UnknownHostException",
            r"could not translate host name|server misbehaving|Temporary failure in name resolution",
        ),
    ),
    (CONNECTION_REFUSED, _any(r"connection refused|ECONNREFUSED")),
    (
        CONNECTION_TIMEOUT,
        _any(
            r"i/o timeout|connect(?:ion)? timed out|ETIMEDOUT|context deadline exceeded",
            r"timed out (?:after|while) connecting|Connect timed out",
        ),
    ),
    (PERMISSION_DENIED, _any(r"permission denied|forbidden|access denied|EACCES|is not authorized")),
    (DISK_FULL, _any(r"no space left on device|ENOSPC|disk (?:is )?full|could not extend file")),
    (
        CERTIFICATE,
        _any(
            r"x509:|certificate (?:has expired|is not valid|signed by unknown|verify failed)",
            r"CERTIFICATE_VERIFY_FAILED|SSLHandshakeException|PKIX path",
        ),
    ),
    (
        OUT_OF_MEMORY,
        _any(
            r"OutOfMemoryError|out of memory|Cannot allocate memory|JavaScript heap out of memory|MemoryError"
        ),
    ),
    (
        PANIC,
        _any(r"^panic: |fatal error: |Traceback \(most recent call last\)|Unhandled (?:exception|rejection)"),
    ),
)
_FILE = re.compile(
    r"(/[\w./-]+\.(?:ya?ml|json|toml|ini|conf|properties))|\b([\w-]+\.(?:ya?ml|json|toml|ini|conf|properties))\b",
    re.I,
)


@dataclasses.dataclass(frozen=True)
class LogFact:
    kind: str
    line: str
    about: str = ""  # a file, host or setting the line names, when it names one


def classify_log(text: str, *, limit: int = 200) -> list[LogFact]:
    """Every line of `text` that reports a known failure mechanism, in order (first match wins)."""
    facts: list[LogFact] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        for kind, pattern in _PATTERNS:
            if pattern.search(line):
                facts.append(LogFact(kind, line[:400], _about(kind, line)))
                break
        if len(facts) >= limit:
            break
    return facts


def first_of_kind(facts: list[LogFact], kind: str) -> LogFact | None:
    return next((fact for fact in facts if fact.kind == kind), None)


def _about(kind: str, line: str) -> str:
    if kind == CONFIG_UNREADABLE:
        match = _FILE.search(line)
        if match:
            return (match.group(1) or match.group(2) or "").rsplit("/", 1)[-1]
    return ""
