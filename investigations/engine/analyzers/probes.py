"""Reading a container's probes for the liveness and readiness analyzers: the port a probe checks, a
named port resolved against the container's ports, and a probe as one line of text.
"""

from __future__ import annotations


def probe_port(probe: dict) -> tuple[object, str]:
    for kind in ("httpGet", "tcpSocket", "grpc"):
        if kind in probe:
            return (probe.get(kind) or {}).get("port"), kind
    return None, "exec" if "exec" in probe else ""


def resolve_port(container: dict, port: object) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for item in container.get("ports") or []:
        if item.get("name") == port:
            return item.get("containerPort")
    return None


def ports_text(container: dict) -> str:
    return ", ".join(
        f"{p.get('containerPort')}" + (f" ({p.get('name')})" if p.get("name") else "")
        for p in container.get("ports") or []
    )


def probe_text(probe: dict) -> str:
    port, kind = probe_port(probe)
    path = (probe.get("httpGet") or {}).get("path", "")
    return (
        f"{kind} {path} port {port}, initialDelaySeconds {probe.get('initialDelaySeconds', 0)}, "
        f"periodSeconds {probe.get('periodSeconds', 10)}, timeoutSeconds {probe.get('timeoutSeconds', 1)}, "
        f"failureThreshold {probe.get('failureThreshold', 3)}"
    )
