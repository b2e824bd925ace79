"""dependency-unavailable: 0.9 clients fail on a Service with no endpoints whose workload is at
replicas 0; 0.8 the same without client logs (alert on the Service/Ingress itself); 0.7 no workload
behind the Service (or a selector-less Service with empty Endpoints); 0.6 the dependency's pods are
Pending or absent (PVC/scheduling/quota analyzers are more specific); 0.5 they crash (OOM, config:
the dependency's own cause is the better answer). Stands down when endpoints are ready, when the
selector misses pods that exist (selector mismatch), and for name lookups to the cluster DNS
(dns-resolution-failed). Follows one chain hop (A → B NotReady → C down).
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_network as knet
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import Failure, connection_failures, failure_summary
from investigations.engine.analyzers.helpers import quote_line
from investigations.engine.analyzers.service_lookup import (
    ingresses_in_scope,
    intended_pods,
    service_dns,
    workloads_matching_selector,
)
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, event_time, human_age
from investigations.engine.facts import container_states, pod_condition, ts
from investigations.engine.kubectl import Recommendation
from investigations.engine.name_resolution import failed_lookup


def _pods_failing(pods: list[dict]) -> list[str]:
    reasons = []
    for pod in pods:
        phase = (pod.get("status") or {}).get("phase")
        status_reason = (pod.get("status") or {}).get("reason")
        if status_reason in ("Evicted", "NodeLost", "UnexpectedAdmissionError", "Shutdown"):
            reasons.append(status_reason)
        elif (pod.get("metadata") or {}).get("deletionTimestamp"):
            reasons.append("Terminating")
        for state in container_states(pod):
            if state.failing and not state.init:
                reasons.append(
                    state.waiting_reason or state.last_reason or state.terminated_reason or "not ready"
                )
        if phase == "Pending" and not any(s.running for s in container_states(pod)):
            scheduled = pod_condition(pod, "PodScheduled")
            if scheduled and scheduled.get("status") == "False":
                reasons.append(f"Pending ({scheduled.get('reason') or 'unscheduled'})")
            elif not container_states(pod):
                reasons.append("Pending")
    return reasons


def _replicas(workload: dict) -> int | None:
    value = (workload.get("spec") or {}).get("replicas")
    return None if value is None else int(value)


def _scale_change(view: ClusterView, workload: dict) -> tuple[str, str] | None:
    """(time, manager) of the latest edit of spec.replicas (scale subresource or a replicas update)."""
    best = None
    for entry in (workload.get("metadata") or {}).get("managedFields") or []:
        fields = (entry.get("fieldsV1") or {}).get("f:spec") or {}
        if entry.get("subresource") == "scale" or "f:replicas" in fields:
            if entry.get("subresource") == "status":
                continue
            when = entry.get("time") or ""
            if when and (best is None or when > best[0]):
                best = (when, entry.get("manager", ""))
    return best


def _deleted_pods(view: ClusterView, workload: dict) -> list[dict]:
    return [
        e
        for e in view.events_for(workload)
        if (
            e.get("reason") in ("SuccessfulDelete", "ScalingReplicaSet")
            and "delete" in (e.get("message") or "").lower()
        )
        or (e.get("reason") == "ScalingReplicaSet" and "to 0" in (e.get("message") or ""))
    ]


def _dedupe_failures(failures: list[Failure]) -> list[Failure]:
    seen, result = set(), []
    for failure in failures:
        key = (Ref.of(failure.pod), failure.host, failure.port)
        if key not in seen:
            seen.add(key)
            result.append(failure)
    return result


@analyzer("dependency-unavailable")
def dependency_unavailable(ctx: Context) -> list[Finding]:
    findings = _dependency_from_logs(ctx, ctx.in_scope_pods(), depth=0)
    if not findings:
        findings = _dependency_from_routes(ctx)
    findings.sort(key=lambda f: f.confidence, reverse=True)
    return findings[:1]


def _dependency_from_logs(ctx: Context, pods: list[dict], depth: int) -> list[Finding]:
    """Services the pods fail to reach, that have no ready endpoints; follows one hop of a chain
    (A → B, B's pods NotReady because B → C is down) so the deepest down dependency is named."""
    view = ctx.view
    by_service: dict[Ref, tuple[dict, list[Failure]]] = {}
    for failure in connection_failures(view, pods):
        if failure.port == 53 and failed_lookup(failure.line) is not None:
            continue  # a name lookup to the cluster DNS: dns-resolution-failed explains it
        if failure.service is not None:
            by_service.setdefault(Ref.of(failure.service), (failure.service, []))[1].append(failure)
    findings = []
    for service, service_failures in by_service.values():
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue  # resolved outside the cluster; nothing to check here
        ready, not_ready = view.endpoints(service)
        if ready:
            continue  # the dependency answers; something else (port, config) is wrong
        if not spec.get("selector"):
            # Manually managed Endpoints (an external database behind a selector-less Service), now empty.
            finding = _dependency_finding(ctx, service, service_failures, ready, not_ready)
            if finding:
                findings.append(finding)
            continue
        selected = view.pods_selected_by(service)
        if (
            not selected
            and not workloads_matching_selector(view, service)
            and intended_pods(view, service) is not None
        ):
            continue  # selector mismatch, not an outage
        if depth < 2 and selected and not _pods_failing(selected):
            deeper = _dependency_from_logs(ctx, selected, depth + 1)
            if deeper:
                findings += deeper
                continue
        finding = _dependency_finding(ctx, service, service_failures, ready, not_ready)
        if finding:
            findings.append(finding)
    return findings


def _dependency_from_routes(ctx: Context) -> list[Finding]:
    """The alert's own Service (or its Ingress's backend) has no endpoints because its workload is at 0."""
    view, target = ctx.view, ctx.target
    services = []
    if target.known and target.kind == "Service":
        services.append(view.get("Service", target.namespace, target.name))
    for ingress in ingresses_in_scope(ctx):
        services += [
            view.get("Service", Ref.of(ingress).namespace, n) for n, _p, _w in view.ingress_backends(ingress)
        ]
    findings = []
    for service in services:
        if service is None or not (service.get("spec") or {}).get("selector"):
            continue
        ready, not_ready = view.endpoints(service)
        workloads = workloads_matching_selector(view, service)
        if ready or not workloads or _replicas(workloads[0]) != 0:
            continue
        finding = _dependency_finding(ctx, service, [], ready, not_ready)
        if finding:
            finding.confidence = min(finding.confidence, 0.8)
            findings.append(finding)
    return findings


def _dependency_finding(
    ctx: Context, service: dict, failures: list[Failure], ready: int, not_ready: int
) -> Finding | None:
    view = ctx.view
    ref = Ref.of(service)
    selector = (service.get("spec") or {}).get("selector") or {}
    selector_eq = ",".join(f"{k}={v}" for k, v in selector.items()) or "none"
    failures = _dedupe_failures(failures)
    ports = ", ".join(str(p.get("port")) for p in (service.get("spec") or {}).get("ports") or [])
    address = (
        f"Service {ref.namespace}/{ref.name} ({service_dns(service)}, ClusterIP "
        f"{(service.get('spec') or {}).get('clusterIP')}, port {ports})"
    )
    evidence = []
    parts = []
    what = "no route to a backend"
    if failures:
        what, line = failure_summary(failures)
        clients = sorted({Ref.of(f.pod).name for f in failures})
        client_workloads = sorted({Ref.of(view.top_owner(f.pod)).name for f in failures})
        evidence.append(ctx.cite("log", failures[0].pod, quote_line(line, 400)))
        parts.append(
            f"{len(clients)} pod(s) of {', '.join(client_workloads)} get {what} [{evidence[0]}]; "
            f"the address is {address}."
        )
    else:
        parts.append(f"The alert's traffic goes to {address}.")
    evidence.append(
        ctx.cite(
            "endpoints",
            service,
            f"Endpoints {ref.name} (selector {selector_eq}, port {ports}): {ready} ready, {not_ready} not "
            "ready addresses",
        )
    )
    parts.append(
        f"The Service has no endpoints: {ready} ready addresses"
        + (f", {not_ready} not ready" if not_ready else "")
        + f" [{evidence[-1]}], so every connection is refused."
    )
    workloads = workloads_matching_selector(view, service)
    pods = view.pods_selected_by(service)
    workload = workloads[0] if workloads else (view.top_owner(pods[0]) if pods else None)
    contributing = [Contributing(ref, f"no endpoints (selector {selector_eq} matches no ready pod)")]
    recommendations: list[Recommendation] = []
    primary = ref
    confidence = 0.7
    if workload is not None:
        workload_ref = Ref.of(workload)
        primary = workload_ref
        replicas = _replicas(workload)
        failing = _pods_failing(pods)
        if replicas == 0:
            change = _scale_change(view, workload)
            detail = f"{workload_ref.kind} {workload_ref.name} has spec.replicas=0 (replicas: 0, scaled to 0)"
            if change:
                age = view.age_seconds(change[0])
                detail += f"; spec.replicas last set by {change[1] or 'someone'} at {ts(change[0])}" + (
                    f" ({human_age(age)} before the capture)" if age is not None else ""
                )
            evidence.append(ctx.cite("spec", workload, detail))
            parts.append(
                f"Its backing {workload_ref.kind} {workload_ref.name} is scaled to 0: {detail} "
                f"[{evidence[-1]}]."
            )
            deleted = _deleted_pods(view, workload)
            if deleted:
                last = deleted[-1]
                evidence.append(
                    ctx.cite(
                        "event",
                        workload,
                        f"{last.get('reason')}: {last.get('message')} at {event_time(last)}",
                    )
                )
                parts.append(f"The controller then removed its pods: {last.get('message')} [{evidence[-1]}].")
            if change:
                contributing.append(
                    Contributing(workload_ref, f"scaled to 0 by {change[1] or 'someone'} at {ts(change[0])}")
                )
            confidence = 0.9
            previous = _previous_replicas(view, workload)
            recommendations.append(
                Recommendation(
                    f"Scale {workload_ref.kind} {workload_ref.name} back up",
                    "immediate",
                    f"Restore {previous} replica(s); clients recover once the Service has ready endpoints.",
                    [
                        kubectl.scale(workload_ref, previous),
                        kubectl.rollout_status(workload_ref),
                        knet.get_endpoints(ref),
                    ],
                )
            )
        elif failing:
            reasons = ", ".join(sorted(set(failing)))
            evidence.append(ctx.cite("status", pods[0], f"pods of {workload_ref.name}: {reasons}"))
            parts.append(
                f"Its backing {workload_ref.kind} {workload_ref.name} has no ready pod ({reasons}) "
                f"[{evidence[-1]}]; "
                "why those pods fail is the deeper cause."
            )
            # Pending on storage or scheduling, crashing on config: a more specific analyzer names it.
            confidence = 0.6 if any(r.startswith("Pending") for r in failing) else 0.5
            recommendations.append(
                Recommendation(
                    f"Find out why {workload_ref.name} has no ready pods",
                    "immediate",
                    "The dependency's own pods are failing.",
                    [kubectl.describe(Ref.of(pods[0])), kubectl.events(Ref.of(pods[0]))],
                )
            )
        elif not pods:
            status = workload.get("status") or {}
            evidence.append(
                ctx.cite(
                    "status",
                    workload,
                    f"spec.replicas={replicas}, status.replicas={status.get('replicas', 0)}, "
                    f"readyReplicas={status.get('readyReplicas', 0)}",
                )
            )
            parts.append(
                f"Its backing {workload_ref.kind} {workload_ref.name} wants {replicas} replicas but runs "
                f"no pod [{evidence[-1]}]."
            )
            confidence = 0.6
        else:
            parts.append(f"Its backing {workload_ref.kind} {workload_ref.name} has pods, none of them ready.")
            confidence = 0.6
    elif not selector:
        parts.append(
            f"Service {ref.name} has no selector: its Endpoints are managed by hand (or by an operator) and "
            "list no address, so the external backend it stands for is unreachable."
        )
        confidence = 0.7
    else:
        parts.append(
            f"No pod or workload in namespace {ref.namespace} matches the Service selector {selector_eq}."
        )
        confidence = 0.7
    client_status = _clients_status(view, failures) if failures else ""
    if client_status:
        parts.append(client_status)
    if not recommendations:
        recommendations.append(
            Recommendation(
                "Restore the dependency's endpoints",
                "immediate",
                f"Bring back ready pods behind Service {ref.name}.",
                [knet.get_endpoints(ref), knet.get_pods_with_labels(ref.namespace, selector)],
            )
        )
    if failures:
        recommendations.append(
            Recommendation(
                "Confirm the clients recover",
                "immediate",
                "The clients' readiness/errors clear once the dependency has endpoints.",
                [kubectl.logs(Ref.of(failures[0].pod), failures[0].container, tail=50)],
            )
        )
    recommendations.append(
        Recommendation(
            "Guard critical dependencies",
            "preventive",
            "Alert on Services with zero ready endpoints and on StatefulSets/Deployments at 0 replicas; "
            "protect them "
            "with a PodDisruptionBudget and restrict who may scale them (RBAC on the scale subresource).",
            [],
        )
    )
    name = primary.name
    return Finding(
        category="dependency-unavailable",
        resource=primary,
        confidence=confidence,
        summary=(
            f"dependency {name} is unavailable: Service {ref.name} has no endpoints"
            + (" (replicas: 0)" if workload is not None and _replicas(workload) == 0 else "")
            + f"; clients get {what}"
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"service": str(ref), "ready": ready, "not_ready": not_ready},
        recommendations=recommendations,
    )


def _previous_replicas(view: ClusterView, workload: dict) -> int:
    deleted = set()
    for event in _deleted_pods(view, workload):
        match = re.search(r"(?:Pod|pod)\s+(\S+)", event.get("message") or "")
        if match:
            deleted.add(match.group(1))
        match = re.search(r"from (\d+)", event.get("message") or "")
        if match:
            return max(1, int(match.group(1)))
    return max(1, len(deleted))


def _clients_status(view: ClusterView, failures: list[Failure]) -> str:
    pods = list({id(f.pod): f.pod for f in failures}.values())
    not_ready = [p for p in pods if (pod_condition(p, "Ready") or {}).get("status") == "False"]
    restarts = sum(s.restarts for p in pods for s in container_states(p))
    if not_ready:
        return (
            f"The clients themselves are not the cause: {len(not_ready)}/{len(pods)} of them are NotReady "
            "because their "
            f"readiness depends on the dependency (restarts: {restarts})."
        )
    return ""
