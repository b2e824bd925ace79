"""Where a pod connects, resolved to what actually answers: a host:port (from a log line or from the
pod's configuration) → the Service it names → the ready backends behind it (pods, or the addresses of
a selector-less Service's Endpoints) and the port they listen on after the Service's DNAT.

The network-policy and DNS analyzers evaluate connections on these backends, as the CNI does.
"""

from __future__ import annotations

import dataclasses
import re

from investigations.engine.analyzers.connections import service_for_host
from investigations.engine.analyzers.netpol_rules import Peer, named_port
from investigations.engine.analyzers.workload_facts import readable_settings
from investigations.engine.evidence import ClusterView, Ref
from investigations.engine.facts import pod_spec

DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "redis": 6379,
    "rediss": 6379,
    "amqp": 5672,
    "amqps": 5671,
    "mongodb": 27017,
    "ldap": 389,
    "ldaps": 636,
    "nats": 4222,
    "kafka": 9092,
}
_URL = re.compile(
    r"\b(?P<scheme>[a-z][a-z0-9+]*)://(?:[^@/\s\"']+@)?(?P<host>[A-Za-z0-9][\w.-]*)(?::(?P<port>\d{2,5}))?",
    re.I,
)
_HOST_PORT = re.compile(
    r"(?<![\w.:/@-])(?P<host>(?:\d{1,3}\.){3}\d{1,3}|[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*)"
    r":(?P<port>\d{2,5})(?![\d.])",
    re.I,
)
_SVC_NAME = re.compile(r"\b(?P<host>[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*\.svc(?:\.cluster\.local)?)\b")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:t\d{2})?$|^\d{1,2}$"
)  # "2025-10-07T09:10:20" is not a host:port
_LOCAL = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}  # noqa: S104 - addresses to skip, not to bind


@dataclasses.dataclass
class Destination:
    """A host the pod connects to, and what answers there."""

    host: str
    port: int | None  # the port the client dials (the Service port)
    service: dict | None
    backends: list[tuple[Peer, int | None]]  # who answers, and on which port
    source: str  # "log" or where the setting is ("ConfigMap app-config key DATABASE_URL")
    line: str  # the log line or the setting's text
    protocol: str = "TCP"
    external: bool = False  # a name outside the cluster: its addresses are unknown

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def key(self) -> tuple:
        return (Ref.of(self.service) if self.service else self.host, self.port)


def host_ports(text: str) -> list[tuple[str, int | None]]:
    """(host, port) pairs a text names: URLs (default port by scheme), host:port, `*.svc` names."""
    found: list[tuple[str, int | None]] = []

    def add(host: str, port: int | None) -> None:
        host = host.lower().rstrip(".")
        if host in _LOCAL or _TIMESTAMP.match(host) or (host, port) in found:
            return
        found.append((host, port))

    for match in _URL.finditer(text):
        port = match.group("port")
        scheme = match.group("scheme").lower().split("+")[0]
        add(match.group("host"), int(port) if port else DEFAULT_PORTS.get(scheme))
    for match in _HOST_PORT.finditer(text):
        add(match.group("host"), int(match.group("port")))
    for match in _SVC_NAME.finditer(text):
        if not any(host == match.group("host").lower() for host, _port in found):
            add(match.group("host"), None)
    return found


def resolve(
    view: ClusterView, host: str, port: int | None, namespace: str, *, source: str, line: str
) -> Destination | None:
    """The Destination a host:port designates from `namespace`; None for names outside the cluster."""
    service = service_for_host(view, host, namespace)
    if service is not None:
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            return None
        entry = _service_port(service, port)
        if port is None and entry is not None:
            port = int(entry.get("port") or 0) or None
        protocol = (entry or {}).get("protocol") or "TCP"
        return Destination(host, port, service, _backends(view, service, entry), source, line, protocol)
    if re.fullmatch(r"(?:\d{1,3}\.){3}\d{1,3}", host):
        pod = next((p for p in view.all("Pod") if (p.get("status") or {}).get("podIP") == host), None)
        return Destination(host, port, None, [(Peer(pod, host), port)], source, line)
    return None


def external(host: str, port: int | None, *, source: str, line: str) -> Destination | None:
    """A host outside the cluster (a DNS name that is no Service), whose address the logs do not give."""
    host = host.lower()
    if (
        "." not in host
        or host.endswith((".svc", ".cluster.local", ".local"))
        or re.fullmatch(r"[\d.]+", host)
    ):
        return None
    return Destination(host, port or 443, None, [(Peer(None, ""), port or 443)], source, line, external=True)


def _service_port(service: dict, port: int | None) -> dict | None:
    ports = (service.get("spec") or {}).get("ports") or []
    for entry in ports:
        if port is not None and int(entry.get("port") or 0) == port:
            return entry
    return ports[0] if len(ports) == 1 or (port is None and ports) else None


def _target(entry: dict | None, pod: dict | None, fallback: int | None) -> int | None:
    if entry is None:
        return fallback
    target = entry.get("targetPort", entry.get("port"))
    if isinstance(target, str) and not target.isdigit():
        return named_port(pod, target)
    return int(target) if target is not None else fallback


def _backends(view: ClusterView, service: dict, entry: dict | None) -> list[tuple[Peer, int | None]]:
    """Ready backends: Endpoints addresses (with their pods), else the ready pods the selector picks."""
    ref = Ref.of(service)
    endpoints = view.get("Endpoints", ref.namespace, ref.name)
    backends: list[tuple[Peer, int | None]] = []
    if endpoints is not None:
        for subset in endpoints.get("subsets") or []:
            port = _endpoint_port(subset, entry)
            for address in subset.get("addresses") or []:
                target = address.get("targetRef") or {}
                pod = (
                    view.get("Pod", target.get("namespace") or ref.namespace, target.get("name", ""))
                    if target.get("kind") == "Pod"
                    else None
                )
                backends.append(
                    (Peer(pod, address.get("ip", "")), port if port else _target(entry, pod, None))
                )
        return backends
    for pod in view.pods_selected_by(service):
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )
        if ready:
            backends.append(
                (Peer(pod, (pod.get("status") or {}).get("podIP", "")), _target(entry, pod, None))
            )
    return backends


def _endpoint_port(subset: dict, entry: dict | None) -> int | None:
    ports = subset.get("ports") or []
    if entry is not None and entry.get("name"):
        for port in ports:
            if port.get("name") == entry.get("name"):
                return int(port.get("port") or 0) or None
    return int(ports[0].get("port") or 0) or None if len(ports) == 1 else None


def configured_destinations(view: ClusterView, pod: dict, container: str | None = None) -> list[Destination]:
    """Cluster destinations named by the pod's settings (env, ConfigMap keys and files, args)."""
    namespace = Ref.of(pod).namespace
    found: dict[tuple, Destination] = {}
    for spec in pod_spec(pod).get("containers") or []:
        if container and spec.get("name") != container:
            continue
        for name, value, where in readable_settings(view, pod, spec):
            for host, port in host_ports(value):
                origin = f"ConfigMap {where} key {name}" if where else f"env {name}"
                destination = resolve(
                    view, host, port, namespace, source=origin, line=f"{name}={value}"[:300]
                )
                if destination is not None and destination.backends:
                    found.setdefault(destination.key(), destination)
    return list(found.values())
