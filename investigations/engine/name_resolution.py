"""Failed name lookups in log lines: which host, which DNS server (when the line says), and how it failed.

Shared by the collector (a failed lookup makes it read the cluster DNS in kube-system) and the
dns-resolution-failed analyzer. Each runtime words it differently (Go's resolver, glibc/getaddrinfo,
Node, Java, nginx, curl, libpq, Kafka, gRPC); what matters is the failure class:

- `timeout`   no answer (UDP/TCP 53 times out)            → DNS down, unreachable or blocked
- `refused`   nothing listens at the server's port 53      → DNS down or the wrong nameserver
- `servfail`  the server answered SERVFAIL                  → DNS misconfigured (upstream, plugin)
- `again`     "temporary failure" (EAI_AGAIN): any of the three above, the resolver does not say
- `nxdomain`  the name does not exist                       → a wrong name (bad config) unless the name
              is a Service that exists, which only a broken resolver or search path can cause
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

_HOST = r"(?P<host>[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)"
_SERVER = r"(?P<server>(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:]+\])(?::53)?"

# (pattern, failure class or None when the pattern's "why" group decides)
_PATTERNS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    # Go: "lookup db.shop.svc.cluster.local on 10.96.0.10:53: read udp …: i/o timeout"
    (re.compile(rf"lookup {_HOST}(?: on {_SERVER})?: (?P<why>[^\"\n)]*)"), None),
    # glibc / Python / libpq: 'could not translate host name "db" to address: Temporary failure …'
    (re.compile(rf"could not translate host name \"{_HOST}\" to address: (?P<why>[^\n\"]+)"), None),
    # Node: "getaddrinfo EAI_AGAIN db.shop.svc" / "getaddrinfo ENOTFOUND db"
    (re.compile(rf"getaddrinfo (?P<why>EAI_AGAIN|ENOTFOUND|ESERVFAIL|ETIMEOUT) {_HOST}"), None),
    # Java: "UnknownHostException: db.shop.svc: Temporary failure in name resolution"
    (re.compile(rf"UnknownHostException: {_HOST}(?:: (?P<why>[^\n]+))?"), "nxdomain"),
    # curl: "Could not resolve host: db.shop.svc"
    (re.compile(rf"Could not resolve host: {_HOST}"), "nxdomain"),
    # nginx: "db.shop.svc could not be resolved (110: Operation timed out)"
    (re.compile(rf"{_HOST} could not be resolved \((?P<why>[^)]+)\)"), None),
    # Kafka: "Couldn't resolve server db:9092 from bootstrap.servers as DNS resolution failed for db"
    (re.compile(rf"DNS resolution failed for (?:service: )?{_HOST}"), "again"),
    # musl (Alpine) "bad address 'db.shop.svc'"
    (re.compile(rf"bad address '{_HOST}'"), "again"),
    # Python socket.gaierror without the host on the line
    (re.compile(r"gaierror: \[Errno -3\] (?P<why>Temporary failure in name resolution)"), None),
    (re.compile(r"(?P<why>Temporary failure in name resolution)"), None),
)

_CLASSES = (
    (
        "timeout",
        re.compile(
            r"i/o timeout|timed out|ETIMEOUT|110: Operation timed out|no servers could be reached", re.I
        ),
    ),
    ("refused", re.compile(r"connection refused|ECONNREFUSED", re.I)),
    ("servfail", re.compile(r"server misbehaving|SERVFAIL|ESERVFAIL|2: Server failure", re.I)),
    ("again", re.compile(r"Temporary failure|EAI_AGAIN|try again|Resource temporarily unavailable", re.I)),
    (
        "nxdomain",
        re.compile(r"no such host|ENOTFOUND|Name or service not known|Host not found|NXDOMAIN", re.I),
    ),
)
# A lookup failure of any class except a plain "does not exist".
TRANSIENT = frozenset({"timeout", "refused", "servfail", "again"})


@dataclasses.dataclass(frozen=True)
class Lookup:
    """One failed lookup in a log line."""

    host: str  # "" when the line does not name it
    server: str  # the DNS server's IP when the line says ("10.96.0.10"), else ""
    failure: str  # timeout | refused | servfail | again | nxdomain
    line: str
    excerpt: str = ""  # the failing part of the line ("lookup db on 10.96.0.10:53: … i/o timeout")

    @property
    def transient(self) -> bool:
        return self.failure in TRANSIENT


def _classify(why: str, default: str | None) -> str | None:
    for name, pattern in _CLASSES:
        if pattern.search(why):
            return name
    return default


def failed_lookup(line: str) -> Lookup | None:
    """The failed lookup a log line reports, or None."""
    for pattern, fixed in _PATTERNS:
        match = pattern.search(line)
        if not match:
            continue
        groups = match.groupdict()
        why = groups.get("why") or ""
        failure = _classify(why, fixed) if why else fixed
        if failure is None:
            continue
        if fixed == "nxdomain" and why:
            failure = _classify(why, "nxdomain") or "nxdomain"
        server = (groups.get("server") or "").strip("[]")
        if not server:
            udp = re.search(r"->((?:\d{1,3}\.){3}\d{1,3}):53\b", line)
            server = udp.group(1) if udp else ""
        line = line.strip()
        if len(line) > 400:  # keep the failing part of a long (JSON) line
            start = max(0, min(match.start(), len(line) - 400))
            line = ("…" if start else "") + line[start : start + 400]
        return Lookup(
            (groups.get("host") or "").rstrip(".").lower(),
            server,
            failure,
            line,
            match.group(0).strip()[:300],
        )
    return None


def failed_lookups(text: str) -> list[Lookup]:
    found = []
    for line in text.splitlines():
        lookup = failed_lookup(line)
        if lookup is not None:
            found.append(lookup)
    return found


def any_failed_lookup(texts: Iterable[str]) -> bool:
    return any(failed_lookup(line) for text in texts for line in text.splitlines())
