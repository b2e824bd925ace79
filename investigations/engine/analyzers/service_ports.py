"""service-port-mismatch: 0.9 every Service port targets a port no selected container declares, the
alert leads to the Service (or clients fail on it) and endpoints are ready; 0.7 when only reached as
"selects the pods in scope"; 0.5 when only a secondary port is off. Nothing when containers declare
no ports (declarations are optional, so there is nothing to compare).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from investigations.engine import kubectl
from investigations.engine import kubectl_network as knet
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import (
    Failure,
    connection_failures,
    failure_summary,
    failures_towards,
    pod_logs,
)
from investigations.engine.analyzers.helpers import RECENT, quote_line
from investigations.engine.analyzers.service_lookup import candidate_services, service_dns
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, labels_of
from investigations.engine.facts import pod_spec, recent_edit, rollout_changes, ts
from investigations.engine.kubectl import Recommendation

_LISTEN = re.compile(
    r"(?:listen(?:ing)?\s+(?:on|at)\s+(?:\S*?[:/])?|started on port\s+|"
    r"server (?:started|running) on\s+\S*?:)(\d{2,5})\b",
    re.I,
)


def container_ports(pods: Iterable[dict]) -> tuple[set[int], dict[str, int]]:
    numbers: set[int] = set()
    names: dict[str, int] = {}
    for pod in pods:
        for container in pod_spec(pod).get("containers") or []:
            for port in container.get("ports") or []:
                if port.get("containerPort"):
                    numbers.add(int(port["containerPort"]))
                    if port.get("name"):
                        names[port["name"]] = int(port["containerPort"])
    return numbers, names


def endpoint_ports(view: ClusterView, service: dict) -> list[int]:
    ref = Ref.of(service)
    endpoints = view.get("Endpoints", ref.namespace, ref.name)
    ports = []
    if endpoints is not None:
        for subset in endpoints.get("subsets") or []:
            ports += [p.get("port") for p in subset.get("ports") or [] if p.get("port")]
    else:
        for piece in view.all("EndpointSlice", ref.namespace):
            if labels_of(piece).get("kubernetes.io/service-name") == ref.name:
                ports += [p.get("port") for p in piece.get("ports") or [] if p.get("port")]
    return sorted(set(ports))


@dataclasses.dataclass
class PortMismatch:
    index: int
    port: dict
    target: int | str
    numbers: set[int]
    names: dict[str, int]


def port_mismatches(view: ClusterView, service: dict, pods: list[dict]) -> list[PortMismatch]:
    numbers, names = container_ports(pods)
    if not numbers:
        return []  # containers declare no ports: nothing to compare with
    found = []
    for index, port in enumerate((service.get("spec") or {}).get("ports") or []):
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        if (isinstance(target, int) and target not in numbers) or (
            isinstance(target, str) and target not in names
        ):
            found.append(PortMismatch(index, port, target, numbers, names))
    return found


@analyzer("service-port-mismatch")
def service_port_mismatch(ctx: Context) -> list[Finding]:
    view = ctx.view
    failures = connection_failures(view, ctx.in_scope_pods())
    for service, why in candidate_services(ctx, failures):
        pods = view.pods_selected_by(service)
        if not pods:
            continue
        mismatches = port_mismatches(view, service, pods)
        if mismatches:
            return [_port_finding(ctx, service, why, pods, mismatches, failures)]
    return []


def _port_finding(
    ctx: Context,
    service: dict,
    why: str,
    pods: list[dict],
    mismatches: list[PortMismatch],
    failures: list[Failure],
) -> Finding:
    view = ctx.view
    ref = Ref.of(service)
    first = mismatches[0]
    all_ports = (service.get("spec") or {}).get("ports") or []
    ready, not_ready = view.endpoints(service)
    ep_ports = endpoint_ports(view, service)
    workload = view.top_owner(pods[0])
    workload_ref = Ref.of(workload)
    declared = ", ".join(f"{name}={number}" for name, number in sorted(first.names.items())) or ", ".join(
        str(n) for n in sorted(first.numbers)
    )
    listening = sorted(first.numbers)
    port_text = f"port {first.port.get('port')} → targetPort {first.target}"
    evidence = [
        ctx.cite(
            "spec",
            service,
            f"spec.ports[{first.index}] {first.port.get('name') or ''} {port_text}".replace("  ", " "),
        ),
        ctx.cite("spec", pods[0], f"containerPorts of the selected pods: {declared}"),
        ctx.cite(
            "endpoints",
            service,
            f"Endpoints {ref.name}: {ready} ready, {not_ready} not ready addresses"
            + (f" on port {', '.join(str(p) for p in ep_ports)}" if ep_ports else ""),
        ),
    ]
    kind = "number" if isinstance(first.target, int) else "name"
    parts = [
        f"Service {ref.namespace}/{ref.name} sends {port_text} (a port {kind}) [{evidence[0]}], but the "
        "pods of "
        f"{workload_ref.kind} {workload_ref.name} it selects listen on containerPort {declared} "
        f"[{evidence[1]}]: "
        f"nothing listens on {first.target}.",
        f"The selector does match: Endpoints are present ({ready} ready addresses"
        + (f", port {', '.join(str(p) for p in ep_ports)}" if ep_ports else "")
        + f") [{evidence[2]}], so traffic reaches the pods on the wrong port and gets connection refused.",
    ]
    for pod in pods[:3]:
        for _container, text, previous in pod_logs(view, pod):
            match = _LISTEN.search(text)
            if match and not previous:
                line = next((ln for ln in text.splitlines() if match.group(0) in ln), match.group(0))
                evidence.append(ctx.cite("log", pod, quote_line(line)))
                parts.append(f"The application reports it listens on {match.group(1)} [{evidence[-1]}].")
                break
        else:
            continue
        break
    client_failures = [
        f for f in failures if f.service is not None and Ref.of(f.service) == ref
    ] or failures_towards(view, service)
    if client_failures:
        what, line = failure_summary(client_failures)
        client = Ref.of(client_failures[0].pod)
        evidence.append(ctx.cite("log", client_failures[0].pod, quote_line(line, 400)))
        parts.append(
            f"Clients fail with {what}: pod {client.namespace}/{client.name} [{evidence[-1]}] "
            f"({service_dns(service)}, ClusterIP {(service.get('spec') or {}).get('clusterIP')})."
        )
    contributing = []
    for change in rollout_changes(view, workload)[:1]:
        port_changes = [d for d in change.details if "ports" in d or re.search(r"env \w*PORT\w*:", d)]
        if port_changes:
            evidence.append(
                ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(port_changes)}")
            )
            parts.append(
                f"What changed: {change.what} at {ts(change.when)} ({change.age} before the capture) changed "
                f"{'; '.join(port_changes)} [{evidence[-1]}], and the Service's targetPort was not updated."
            )
            contributing.append(
                Contributing(workload_ref, f"{change.what} at {ts(change.when)}: {'; '.join(port_changes)}")
            )
    edit = recent_edit(view, service, RECENT)
    if edit:
        evidence.append(ctx.cite("change", service, f"Service {ref.name} {edit.what} {edit.age} ago"))
        parts.append(f"The Service was {edit.what} {edit.age} ago [{evidence[-1]}].")
    # Which container port should it be? the one whose name matches the service port name, else the only one.
    wanted_name = first.port.get("name")
    suggestion: int | str
    if wanted_name and wanted_name in first.names:
        suggestion = wanted_name
    elif len(first.numbers) == 1:
        suggestion = next(iter(first.numbers))
    else:
        suggestion = next(iter(sorted(first.names))) if first.names else sorted(first.numbers)[0]
    # A Service port the containers do not declare is certain; that it is *the* cause of the alert is
    # certain only when every port is off (or clients fail on the off one) and the alert leads here.
    all_off = len(mismatches) == len(all_ports)
    off_ports = {m.port.get("port") for m in mismatches}
    clients_hit = any(f.port in off_ports or f.port is None for f in client_failures)
    direct = why.startswith(("the alert", "Ingress")) or bool(client_failures)
    if all_off and direct:
        confidence = 0.9 if ready else 0.8
    elif all_off:
        confidence = 0.7
    elif clients_hit:
        confidence = 0.8
    else:
        confidence = 0.5
    recommendations = [
        Recommendation(
            "Target the port the container listens on",
            "immediate",
            f"Set targetPort to {suggestion!s} (a named port follows future port changes) instead of "
            f"{first.target}.",
            [knet.set_service_target_port(ref, first.index, suggestion), knet.get_endpoints(ref)],
        ),
        Recommendation(
            "Confirm from inside the cluster",
            "immediate",
            "Compare the Service ports with the containers' ports.",
            [kubectl.get_yaml(ref), kubectl.describe(workload_ref)],
        ),
        Recommendation(
            "Use named target ports",
            "preventive",
            "Reference the container port by name (targetPort: http) and ship the Service with the workload, "
            "so a port change in the image cannot drift from the Service.",
            [],
        ),
    ]
    return Finding(
        category="service-port-mismatch",
        resource=ref,
        confidence=confidence,
        summary=(
            f"Service {ref.namespace}/{ref.name}: targetPort {first.target} does not match the containers' "
            "port "
            f"({declared}); endpoints are present but connections are refused"
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"targetPort": first.target, "containerPorts": listening},
        recommendations=recommendations,
    )
