"""The network family's log signals: what the pods' logs fail to reach (`host:port`, URLs), resolved to
the Service they name (ClusterIP or `svc.cluster.local` name → Service), and how to summarise it.

The network analyzers start from this generic evidence around the alert and only then decide which
mechanism broke.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from investigations.engine.evidence import ClusterView, Ref

_FAILURE = re.compile(
    r"ECONNREFUSED|connection refused|ETIMEDOUT|i/o timeout|timed out|timeout exceeded|"
    r"no route to host|EHOSTUNREACH|ECONNRESET|connection reset|no available server|no healthy upstream|"
    r"context deadline exceeded|upstream connect error",
    re.I,
)
_REFUSED = re.compile(r"ECONNREFUSED|connection refused", re.I)
_HOST_PORT = re.compile(
    r"(?<![\w.:/-])((?:\d{1,3}\.){3}\d{1,3}|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)"
    r":(\d{2,5})(?![\d.])",
    re.I,
)
# Java/Netty write the host and the resolved address together: `name/10.1.2.3:6379` or
# `name/<unresolved>:6379`. The name says which Service; the port is the one tried.
_NAME_SLASH_ADDRESS = re.compile(
    r"(?<![\w.:/-])([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)"
    r"/(?:(?:\d{1,3}\.){3}\d{1,3}|<unresolved>):(\d{2,5})(?![\d.])",
    re.I,
)
_URL = re.compile(
    r"\b(?:https?|redis|rediss|postgres(?:ql)?|mysql|amqps?|mongodb|grpc|nats|kafka|tcp)://"
    r"(?:[^@/\s\"']+@)?([\w.-]+)(?::(\d{2,5}))?",
    re.I,
)
_LOCAL = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}  # noqa: S104 - addresses to skip, not to bind


@dataclasses.dataclass
class Failure:
    """A pod's log line failing to reach host:port, resolved to a Service when possible."""

    pod: dict
    container: str
    line: str
    host: str
    port: int | None
    service: dict | None
    previous: bool = False

    @property
    def refused(self) -> bool:
        return bool(_REFUSED.search(self.line))


def _containers(pod: dict) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("name", "") for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])]


def pod_logs(view: ClusterView, pod: dict) -> Iterable[tuple[str, str, bool]]:
    for container in _containers(pod):
        for previous in (False, True):
            text = view.log(pod, container, previous=previous)
            if text:
                yield container, text, previous


def _service_by_ip(view: ClusterView, ip: str) -> dict | None:
    for service in view.all("Service"):
        spec = service.get("spec") or {}
        if spec.get("clusterIP") == ip or ip in (spec.get("clusterIPs") or []):
            return service
    return None


def service_for_host(view: ClusterView, host: str, namespace: str) -> dict | None:
    """A Service named by a ClusterIP or a DNS name (`svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`)."""
    host = host.lower().rstrip(".")
    if re.fullmatch(r"(?:\d{1,3}\.){3}\d{1,3}", host):
        return _service_by_ip(view, host)
    for suffix in (".svc.cluster.local", ".svc"):
        if host.endswith(suffix):
            host = host[: -len(suffix)]
            break
    else:
        if host.count(".") > 1:
            return None  # an external name, not a Service
    parts = host.split(".")
    if len(parts) == 1:
        return view.get("Service", namespace, parts[0])
    if len(parts) == 2:
        return view.get("Service", parts[1], parts[0])
    return None


def connection_failures(view: ClusterView, pods: Iterable[dict]) -> list[Failure]:
    """Lines in the pods' logs that fail to reach a host:port, each resolved to a Service if any."""
    found: list[Failure] = []
    seen: set[tuple] = set()
    for pod in pods:
        namespace = Ref.of(pod).namespace
        own_ip = (pod.get("status") or {}).get("podIP")
        for container, text, previous in pod_logs(view, pod):
            for line in text.splitlines():
                if not _FAILURE.search(line):
                    continue
                targets = (
                    [(h, p) for h, p in _URL.findall(line)]
                    + _NAME_SLASH_ADDRESS.findall(line)
                    + _HOST_PORT.findall(line)
                )
                for host, port in targets:
                    if host.lower() in _LOCAL or host == own_ip:
                        continue
                    service = service_for_host(view, host, namespace)
                    key = (Ref.of(pod), host, port, Ref.of(service) if service else None)
                    if key in seen:
                        continue
                    seen.add(key)
                    found.append(
                        Failure(
                            pod,
                            container,
                            line.strip()[:400],
                            host,
                            int(port) if port else None,
                            service,
                            previous,
                        )
                    )
    return found


def failures_towards(view: ClusterView, service: dict) -> list[Failure]:
    """Failures anywhere in the collected logs that resolve to this Service (clients outside scope too)."""
    ref = Ref.of(service)
    pods = [
        view.get("Pod", namespace, name)
        for namespace, name, _container in list(view.logs) + list(view.previous_logs)
    ]
    unique = list({id(p): p for p in pods if p is not None}.values())
    return [
        f for f in connection_failures(view, unique) if f.service is not None and Ref.of(f.service) == ref
    ]


_ERROR_AT = re.compile(
    r"(?:(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)\s+(\S+?:\d+)|"
    r"dial tcp (\S+?:\d+): (?:connect: )?([^\"]+?)(?:\"|$|\)))",
    re.I,
)


def failure_summary(failures: list[Failure]) -> tuple[str, str]:
    """('ECONNREFUSED 10.0.0.1:6379', the log line) of the most telling failure."""
    failures = sorted(failures, key=lambda f: (not f.refused, not re.fullmatch(r"[\d.]+", f.host)))
    for failure in failures:
        match = _ERROR_AT.search(failure.line)
        if match:
            if match.group(1):
                return f"{match.group(1)} {match.group(2)}", failure.line
            return f"{match.group(4).strip()} ({match.group(3)})", failure.line
    first = failures[0]
    match = re.search(
        r"(ECONNREFUSED|connection refused|ETIMEDOUT|i/o timeout|timed out|context deadline exceeded)",
        first.line,
        re.I,
    )
    what = match.group(1) if match else "connection failure"
    where = f"{first.host}:{first.port}" if first.port else first.host
    return f"{what} {where}", first.line
