"""Network family: dependency-unavailable, service-selector-mismatch, service-port-mismatch,
ingress-misconfigured, rbac-forbidden.

Every analyzer starts from generic evidence around the alert (the alerting Service/Ingress, the
Services that select or route to the pods in scope, and the `host:port` that the pods' logs fail to
reach), resolves it to Kubernetes objects (ClusterIP or `svc.cluster.local` name → Service →
Endpoints → pods → workload) and only then decides which mechanism broke.

Confidence (shared scale 0.9 / 0.8 / 0.6):
- dependency-unavailable: 0.9 clients fail on a Service with no endpoints whose workload is at
  replicas 0; 0.8 the same without client logs (alert on the Service/Ingress itself); 0.7 no workload
  behind the Service (or a selector-less Service with empty Endpoints); 0.6 the dependency's pods are
  Pending or absent (PVC/scheduling/quota analyzers are more specific); 0.5 they crash (OOM, config:
  the dependency's own cause is the better answer). Stands down when endpoints are ready or when the
  selector misses pods that exist (selector mismatch). Follows one chain hop (A → B NotReady → C down).
- service-selector-mismatch: 0.9 the selector matches no pod while pods that carry the same app
  identity (value under another key, old/typo value, extra key) run; 0.8 without corroboration. Never
  when a workload's template matches the selector (then it is scaled down: dependency-unavailable).
- service-port-mismatch: 0.9 every Service port targets a port no selected container declares, the
  alert leads to the Service (or clients fail on it) and endpoints are ready; 0.7 when only reached as
  "selects the pods in scope"; 0.5 when only a secondary port is off. Nothing when containers declare
  no ports (declarations are optional, so there is nothing to compare).
- ingress-misconfigured: 0.9 the alerting Ingress routes to a missing Service (controller log or a
  single backend corroborates), 0.85 to a missing Service port; 0.8 a TLS secret the controller reports
  missing; 0.7 an unknown ingressClassName; 0.6 for any Ingress that is near the alert but not its target.
- rbac-forbidden: 0.9 a 403 "User system:serviceaccount:NS:SA cannot VERB RESOURCE" in the pods' logs,
  the bound Role verifiably lacks the rule, and the pods are NotReady/crashing; 0.8 when the pods look
  healthy; 0.85 when the SA has no binding (primary: the ServiceAccount) or the binding names a missing
  role (primary: the binding); 0.6 for non-ServiceAccount users. Nothing when the Role allows the call.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable
from typing import Any

from investigations.engine import kubectl
from investigations.engine import kubectl_network as knet
from investigations.engine.analysis import analyzer
from investigations.engine.context import Context
from investigations.engine.evidence import (
    ClusterView,
    Contributing,
    Finding,
    Ref,
    event_time,
    human_age,
    labels_match,
    labels_of,
)
from investigations.engine.facts import (
    container_states,
    last_modified,
    pod_condition,
    pod_spec,
    recent_edit,
    rollout_changes,
    ts,
)
from investigations.engine.kubectl import Recommendation

RECENT = 6 * 3600

# -- log signals ---------------------------------------------------------------------------------

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
_URL = re.compile(
    r"\b(?:https?|redis|rediss|postgres(?:ql)?|mysql|amqps?|mongodb|grpc|nats|kafka|tcp)://"
    r"(?:[^@/\s\"']+@)?([\w.-]+)(?::(\d{2,5}))?",
    re.I,
)
_LOCAL = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}  # noqa: S104 - addresses to skip, not to bind
_LISTEN = re.compile(
    r"(?:listen(?:ing)?\s+(?:on|at)\s+(?:\S*?[:/])?|started on port\s+|"
    r"server (?:started|running) on\s+\S*?:)(\d{2,5})\b",
    re.I,
)
_FORBIDDEN = re.compile(
    r'(?:(?P<what>[\w.-]+(?:\s+"[^"]*")?)\s+is\s+forbidden:\s+)?User\s+\\?"(?P<user>[^"\\]+)\\?"\s+cannot\s+'
    r'(?P<verb>[a-z]+)\s+(?:resource\s+)?\\?"?(?P<resource>[\w./-]+)\\?"?'
    r'(?:\s+in\s+API\s+group\s+\\?"(?P<group>[^"\\]*)\\?")?'
    r'(?:\s+in\s+the\s+namespace\s+\\?"(?P<namespace>[^"\\]+)\\?"|\s+at\s+the\s+cluster\s+scope)?',
    re.I,
)


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


def _pod_logs(view: ClusterView, pod: dict) -> Iterable[tuple[str, str, bool]]:
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
        for container, text, previous in _pod_logs(view, pod):
            for line in text.splitlines():
                if not _FAILURE.search(line):
                    continue
                targets = [(h, p) for h, p in _URL.findall(line)] + _HOST_PORT.findall(line)
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


# -- Services ------------------------------------------------------------------------------------


def workloads_matching_selector(view: ClusterView, service: dict) -> list[dict]:
    """Top-level workloads whose pod template carries every label of the Service selector."""
    selector = (service.get("spec") or {}).get("selector") or {}
    namespace = Ref.of(service).namespace
    found = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for workload in view.all(kind, namespace):
            template_labels = (
                ((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}
            ).get("labels") or {}
            if labels_match(selector, template_labels):
                found.append(workload)
    return found


@dataclasses.dataclass
class Intended:
    """Pods that a label-mismatched Service was probably meant to select."""

    workload: dict
    pods: list[dict]
    labels: dict[str, str]  # labels of those pods, without pod-template-hash
    shared_values: list[str]  # selector values found under another key
    differing: dict[str, tuple[str, str | None]]  # selector key -> (wanted, actual)


def intended_pods(view: ClusterView, service: dict) -> Intended | None:
    """The workload whose pods look like the Service's target although the selector misses them."""
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return None
    ref = Ref.of(service)
    groups: dict[int, tuple[dict, list[dict]]] = {}
    for pod in view.all("Pod", ref.namespace):
        if labels_match(selector, labels_of(pod)):
            continue
        owner = view.top_owner(pod)
        groups.setdefault(id(owner), (owner, []))[1].append(pod)
    best, best_score = None, 0.0
    for owner, pods in groups.values():
        labels = {k: v for k, v in labels_of(pods[0]).items() if k != "pod-template-hash"}
        values = set(labels.values())
        owner_name = Ref.of(owner).name
        name_hit = owner_name == ref.name or ref.name in values
        related = name_hit or _similar(owner_name, ref.name)
        shared = [v for k, v in selector.items() if v in values and labels.get(k) != v]
        exact = [k for k, v in selector.items() if labels.get(k) == v]
        score = 2.0 * len(shared) + (1.5 if name_hit else 0.0) + 0.5 * len(exact)
        for key, wanted in selector.items():
            have = labels.get(key)
            if have is None or have == wanted or wanted in values:
                if have is None and wanted not in values and related and exact:
                    score += 1.0  # an extra selector key the pods never had
                continue
            if _similar_value(have, wanted):
                score += 1.5  # a typo or a renamed value under the same key
            elif related:
                score += 1.0
        if score > best_score:
            differing = {k: (v, labels.get(k)) for k, v in selector.items() if labels.get(k) != v}
            best, best_score = Intended(owner, pods, labels, shared, differing), score
    return best if best_score >= 1.5 else None


def _similar_value(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if min(len(a), len(b)) >= 4 and (a in b or b in a):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _similar(a: str, b: str) -> bool:
    ta, tb = set(re.split(r"[-_.]", a)), set(re.split(r"[-_.]", b))
    return len(ta & tb) >= max(1, min(len(ta), len(tb)) - 1)


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


def _service_dns(service: dict) -> str:
    ref = Ref.of(service)
    return f"{ref.name}.{ref.namespace}.svc.cluster.local"


def _candidate_services(ctx: Context, failures: list[Failure]) -> list[tuple[dict, str]]:
    """(Service, why it is in scope): the alert's, the target Ingress's backends, the failing hosts',
    and the Services selecting the pods in scope."""
    view, target = ctx.view, ctx.target
    found: list[tuple[dict, str]] = []

    def add(service: dict | None, why: str) -> None:
        if service is not None and all(service is not s for s, _w in found):
            found.append((service, why))

    if target.known and target.kind == "Service":
        add(view.get("Service", target.namespace, target.name), "the alert points at it")
    for ingress in _ingresses_in_scope(ctx):
        for name, _port, where in view.ingress_backends(ingress):
            add(
                view.get("Service", Ref.of(ingress).namespace, name),
                f"Ingress {Ref.of(ingress).name} routes {where} to it",
            )
    for failure in failures:
        add(failure.service, f"pod {Ref.of(failure.pod).name} fails to reach it")
    for pod in ctx.in_scope_pods()[:1]:
        for service in view.services_selecting(pod):
            add(service, "it selects the pods in scope")
    return found


def _ingresses_in_scope(ctx: Context) -> list[dict]:
    view, target = ctx.view, ctx.target
    result = []
    if target.known and target.kind == "Ingress":
        ingress = view.get("Ingress", target.namespace, target.name)
        if ingress is not None:
            result.append(ingress)
    for ref, role in ctx.topology.nodes.items():
        if ref.kind == "Ingress" and role == "ingress":
            ingress = view.get("Ingress", ref.namespace, ref.name)
            if ingress is not None and all(ingress is not i for i in result):
                result.append(ingress)
    return result


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


def _quote_line(line: str, limit: int = 220) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[:limit] + "…"


def _dedupe_failures(failures: list[Failure]) -> list[Failure]:
    seen, result = set(), []
    for failure in failures:
        key = (Ref.of(failure.pod), failure.host, failure.port)
        if key not in seen:
            seen.add(key)
            result.append(failure)
    return result


_ERROR_AT = re.compile(
    r"(?:(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)\s+(\S+?:\d+)|"
    r"dial tcp (\S+?:\d+): (?:connect: )?([^\"]+?)(?:\"|$|\)))",
    re.I,
)


def _failure_summary(failures: list[Failure]) -> tuple[str, str]:
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


# -- service-selector-mismatch -------------------------------------------------------------------


@analyzer("service-selector-mismatch")
def service_selector_mismatch(ctx: Context) -> list[Finding]:
    view = ctx.view
    failures = connection_failures(view, ctx.in_scope_pods())
    findings = []
    for service, why in _candidate_services(ctx, failures):
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector or view.pods_selected_by(service):
            continue
        if workloads_matching_selector(view, service):
            continue  # the selector is right; its workload has no pods (dependency-unavailable)
        intended = intended_pods(view, service)
        if intended is None:
            continue
        findings.append(_selector_finding(ctx, service, why, intended, failures))
    return findings[:1]


def _selector_finding(
    ctx: Context, service: dict, why: str, intended: Intended, failures: list[Failure]
) -> Finding:
    view = ctx.view
    ref = Ref.of(service)
    selector = (service.get("spec") or {}).get("selector") or {}
    workload = intended.workload
    workload_ref = Ref.of(workload)
    ready, not_ready = view.endpoints(service)
    selector_text = ", ".join(f"{k}: {v}" for k, v in selector.items())
    selector_eq = ",".join(f"{k}={v}" for k, v in selector.items())
    pod_labels = ", ".join(f"{k}={v}" for k, v in intended.labels.items())
    ready_pods = sum(1 for p in intended.pods if (pod_condition(p, "Ready") or {}).get("status") == "True")
    evidence = [
        ctx.cite("spec", service, f"spec.selector {{{selector_text}}} ({selector_eq})"),
        ctx.cite(
            "endpoints",
            service,
            f"Endpoints/EndpointSlice {ref.name}: {ready} ready, {not_ready} not ready addresses (no "
            "endpoints)",
        ),
        ctx.cite(
            "status",
            intended.pods[0],
            f"{len(intended.pods)} pods of {workload_ref.kind} {workload_ref.name} ({ready_pods} Ready) "
            f"carry labels {pod_labels}",
        ),
    ]
    differing = "; ".join(
        f"selector wants {k}={want}, pods have {k}={have}"
        if have is not None
        else f"selector wants {k}={want}, pods have no '{k}' label"
        for k, (want, have) in intended.differing.items()
    )
    shared = ""
    if intended.shared_values:
        keys = [k for k, v in intended.labels.items() if v in intended.shared_values]
        same = ", ".join(f"{k}={intended.labels[k]}" for k in keys)
        shared = f" The pods carry the same value under another key ({same})."
    parts = [
        f"Service {ref.namespace}/{ref.name} has label selector {{{selector_text}}} [{evidence[0]}], which "
        "matches no pod: "
        f"its Endpoints are empty (no endpoints, {ready} ready addresses) [{evidence[1]}].",
        f"The pods it is meant to reach, {len(intended.pods)} pods of {workload_ref.kind} "
        f"{workload_ref.name} "
        f"({ready_pods} Running/Ready), are labelled {pod_labels} [{evidence[2]}]: {differing}.{shared}",
    ]
    client_failures = [f for f in failures if f.service is not None and Ref.of(f.service) == ref]
    client_failures = client_failures or failures_towards(view, service)
    if client_failures:
        what, line = _failure_summary(client_failures)
        client = Ref.of(client_failures[0].pod)
        evidence.append(ctx.cite("log", client_failures[0].pod, _quote_line(line, 400)))
        parts.append(
            f"Clients cannot connect: pod {client.namespace}/{client.name} logs {what} "
            f"({_service_dns(service)}, ClusterIP {(service.get('spec') or {}).get('clusterIP')}) "
            f"[{evidence[-1]}]."
        )
    contributing = [
        Contributing(workload_ref, f"pods labelled {pod_labels}; the selector {selector_eq} misses them")
    ]
    created = (workload.get("metadata") or {}).get("creationTimestamp", "")
    age = view.age_seconds(created)
    changes = [
        c for c in rollout_changes(view, workload)[:1] if any(d.startswith("pod label") for d in c.details)
    ]
    if changes:
        change = changes[0]
        label_changes = [d for d in change.details if d.startswith("pod label")]
        evidence.append(
            ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(label_changes)}")
        )
        parts.append(
            f"What changed: {change.what} {change.age} before the capture changed "
            f"{'; '.join(label_changes)} [{evidence[-1]}]."
        )
        contributing[0] = Contributing(
            workload_ref, f"{change.what} at {ts(change.when)}: {'; '.join(label_changes)}"
        )
    elif age is not None and age <= RECENT:
        deleted = [
            e
            for e in view.events_in(workload_ref.namespace)
            if e.get("reason") == "Killing"
            and (e.get("involvedObject") or {}).get("name", "").startswith(workload_ref.name + "-")
            and view.get("Pod", workload_ref.namespace, (e.get("involvedObject") or {}).get("name", ""))
            is None
        ]
        manager = (last_modified(view, workload) or ("", ""))[1]
        note = (
            f"{workload_ref.kind} {workload_ref.name} was (re)created {human_age(age)} "
            f"before the capture ({ts(created)})"
        )
        if manager:
            note += f" by {manager}"
        if deleted:
            note += f", when {len(deleted)} old pods were killed"
        evidence.append(ctx.cite("change", workload, note))
        parts.append(
            f"What changed: {note}, with the new labels, while the Service kept the old selector "
            f"[{evidence[-1]}]."
        )
        contributing[0] = Contributing(workload_ref, f"re-created at {ts(created)} with labels {pod_labels}")
    edit = recent_edit(view, service, RECENT)
    if edit:
        evidence.append(ctx.cite("change", service, f"Service {ref.name} {edit.what} {edit.age} ago"))
        parts.append(f"The Service itself was {edit.what} {edit.age} ago [{evidence[-1]}].")
    new_selector = {k: intended.labels[k] for k in _proposed_selector(selector, intended)}
    parts.append(
        "The pods are healthy; the Service's selector does not match their labels, so kube-proxy has no "
        "backend."
    )
    confidence = 0.9 if (ready_pods or client_failures or why.startswith("the alert")) else 0.8
    recommendations = [
        Recommendation(
            "Point the Service selector at the pods' labels",
            "immediate",
            f"Select {', '.join(f'{k}={v}' for k, v in new_selector.items())} (the labels the running pods "
            "carry) "
            f"instead of {selector_eq}; endpoints appear as soon as the selector matches.",
            [
                knet.set_service_selector(ref, selector, new_selector),
                knet.get_endpoints(ref),
            ],
        ),
        Recommendation(
            "Confirm the mismatch",
            "immediate",
            "Compare the selector with the labels of the pods.",
            [
                kubectl.get_yaml(ref),
                knet.get_pods_with_labels(ref.namespace),
                knet.get_pods_with_labels(ref.namespace, selector),
            ],
        ),
        Recommendation(
            "Keep Service and workload labels in one place",
            "preventive",
            "Manage the Service in the same chart/manifest as the workload so a label scheme change moves "
            "both; "
            "alert on Services with zero endpoints (kube_endpoint_address_available == 0).",
            [],
        ),
    ]
    return Finding(
        category="service-selector-mismatch",
        resource=ref,
        confidence=confidence,
        summary=(
            f"Service {ref.namespace}/{ref.name}: selector {selector_eq} matches no pods (no endpoints); "
            f"the {workload_ref.name} pods are labelled {pod_labels}"
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"selector": selector, "pod_labels": intended.labels, "workload": str(workload_ref)},
        recommendations=recommendations,
    )


def _proposed_selector(selector: dict[str, str], intended: Intended) -> list[str]:
    keys = [k for k, v in intended.labels.items() if v in selector.values()]
    keys += [k for k in selector if k in intended.labels and k not in keys]
    for key in ("app.kubernetes.io/instance",):
        if key in intended.labels and key not in keys and keys:
            keys.append(key)
    return keys or list(intended.labels)[:2]


# -- service-port-mismatch -----------------------------------------------------------------------


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
    for service, why in _candidate_services(ctx, failures):
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
        for _container, text, previous in _pod_logs(view, pod):
            match = _LISTEN.search(text)
            if match and not previous:
                line = next((ln for ln in text.splitlines() if match.group(0) in ln), match.group(0))
                evidence.append(ctx.cite("log", pod, _quote_line(line)))
                parts.append(f"The application reports it listens on {match.group(1)} [{evidence[-1]}].")
                break
        else:
            continue
        break
    client_failures = [
        f for f in failures if f.service is not None and Ref.of(f.service) == ref
    ] or failures_towards(view, service)
    if client_failures:
        what, line = _failure_summary(client_failures)
        client = Ref.of(client_failures[0].pod)
        evidence.append(ctx.cite("log", client_failures[0].pod, _quote_line(line, 400)))
        parts.append(
            f"Clients fail with {what}: pod {client.namespace}/{client.name} [{evidence[-1]}] "
            f"({_service_dns(service)}, ClusterIP {(service.get('spec') or {}).get('clusterIP')})."
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


# -- dependency-unavailable ----------------------------------------------------------------------


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
    for ingress in _ingresses_in_scope(ctx):
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
        f"Service {ref.namespace}/{ref.name} ({_service_dns(service)}, ClusterIP "
        f"{(service.get('spec') or {}).get('clusterIP')}, port {ports})"
    )
    evidence = []
    parts = []
    what = "no route to a backend"
    if failures:
        what, line = _failure_summary(failures)
        clients = sorted({Ref.of(f.pod).name for f in failures})
        client_workloads = sorted({Ref.of(view.top_owner(f.pod)).name for f in failures})
        evidence.append(ctx.cite("log", failures[0].pod, _quote_line(line, 400)))
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


# -- ingress-misconfigured -----------------------------------------------------------------------


@analyzer("ingress-misconfigured")
def ingress_misconfigured(ctx: Context) -> list[Finding]:
    findings = []
    for ingress in _ingresses_in_scope(ctx):
        finding = _ingress_finding(ctx, ingress)
        if finding:
            findings.append(finding)
    return findings[:1]


def _controller_lines(view: ClusterView, patterns: list[str]) -> list[tuple[dict, str]]:
    """Log lines (from any pod, typically the ingress controller) that mention one of the patterns."""
    found = []
    for (namespace, name, _container), text in view.logs.items():
        pod = view.get("Pod", namespace, name)
        if pod is None:
            continue
        for line in text.splitlines():
            if any(p in line for p in patterns):
                found.append((pod, line.strip()))
    return found


def _ingress_finding(ctx: Context, ingress: dict) -> Finding | None:
    view = ctx.view
    ref = Ref.of(ingress)
    spec = ingress.get("spec") or {}
    # (rule index, path index, service, port, where, kind, the Service when it exists)
    problems: list[tuple[int, int, str, Any, str, str, dict | None]] = []
    positions = _backend_positions(ingress)
    for (name, port, where), (rule_index, path_index) in zip(
        view.ingress_backends(ingress), positions, strict=False
    ):
        if not name:
            continue
        service = view.get("Service", ref.namespace, name)
        if service is None:
            problems.append((rule_index, path_index, name, port, where, "missing", None))
            continue
        ports = (service.get("spec") or {}).get("ports") or []
        numbers = {p.get("port") for p in ports}
        names = {p.get("name") for p in ports if p.get("name")}
        if port is not None and (
            (isinstance(port, int) and port not in numbers) or (isinstance(port, str) and port not in names)
        ):
            problems.append((rule_index, path_index, name, port, where, "port", service))
    if not problems:
        return _ingress_tls_finding(ctx, ingress) or _ingress_class_finding(ctx, ingress)
    rule_index, path_index, name, port, where, kind, service = problems[0]
    evidence = [ctx.cite("spec", ingress, f"rule {where} → backend service {name} port {port}")]
    parts = []
    contributing = []
    replacement = None
    if kind == "missing":
        existing = [Ref.of(s).name for s in view.all("Service", ref.namespace)]
        evidence.append(
            ctx.cite(
                "config",
                ingress,
                f"no Service {name} in namespace {ref.namespace} (Services: {', '.join(existing) or 'none'})",
            )
        )
        parts.append(
            f"Ingress {ref.namespace}/{ref.name} routes {where} to backend service {name}:{port} "
            f"[{evidence[0]}], "
            f"but Service {name} does not exist in namespace {ref.namespace} [{evidence[1]}] (missing "
            "service)."
        )
        replacement = _replacement_service(view, ingress, name, port)
        summary = f"Ingress {ref.namespace}/{ref.name}: backend service {name} does not exist"
    else:
        assert service is not None  # a "port" problem names the Service it found
        svc_ports = ", ".join(
            f"{p.get('name') or ''}:{p.get('port')}".lstrip(":")
            for p in (service.get("spec") or {}).get("ports") or []
        )
        evidence.append(ctx.cite("spec", service, f"Service {name} ports: {svc_ports}"))
        parts.append(
            f"Ingress {ref.namespace}/{ref.name} routes {where} to backend service {name} port {port} "
            f"[{evidence[0]}], "
            f"but Service {name} exposes only {svc_ports} [{evidence[1]}]."
        )
        replacement = service
        summary = f"Ingress {ref.namespace}/{ref.name}: backend port {port} is not a port of Service {name}"
    key = f"{ref.namespace}/{name}"
    upstream = f"[{ref.namespace}-{name}-"
    lines = _controller_lines(view, [f'"{key}"', upstream])
    if lines:
        errors = [ln for ln in lines if "Error" in ln[1] or "error" in ln[1] or "not found" in ln[1]]
        pod, line = (errors or lines)[0]
        evidence.append(ctx.cite("log", pod, _quote_line(line, 300)))
        parts.append(f"The ingress controller confirms it: {_quote_line(line, 300)} [{evidence[-1]}].")
        codes = [m for _p, ln in lines for m in re.findall(r'"\s(5\d\d)\s', ln)]
        if codes:
            code = max(set(codes), key=codes.count)
            pod, line = next((p, ln) for p, ln in lines if f'" {code} ' in ln)
            evidence.append(ctx.cite("log", pod, _quote_line(line, 300)))
            parts.append(f"Requests for {where} are answered with {code} at the edge [{evidence[-1]}].")
    alert_codes = re.findall(r"\b(5\d\d)\b", ctx.target.text or "")
    if alert_codes and not any(f" {alert_codes[0]} " in p for p in parts):
        parts.append(f"The alert reports HTTP {alert_codes[0]} for the host.")
    if replacement is not None and kind == "missing":
        rep_ref = Ref.of(replacement)
        created = (replacement.get("metadata") or {}).get("creationTimestamp", "")
        age = view.age_seconds(created)
        r_ready, _nr = view.endpoints(replacement)
        rep_ports = [p.get("port") for p in (replacement.get("spec") or {}).get("ports") or []]
        port_list = ", ".join(str(p) for p in rep_ports)
        note = f"Service {rep_ref.name} (ports {port_list}, {r_ready} ready endpoints)"
        if age is not None:
            note += f" was created {human_age(age)} before the capture ({ts(created)})"
        evidence.append(ctx.cite("spec", replacement, note))
        parts.append(
            f"The backend most likely lives on: {note}, and no Ingress routes to it [{evidence[-1]}]; "
            f"the backend was renamed from {name} to {rep_ref.name} while the Ingress kept the old name."
        )
        contributing.append(Contributing(rep_ref, f"probable intended backend (created {ts(created)})"))
        killed = [
            e
            for e in view.events_in(ref.namespace)
            if e.get("reason") == "Killing"
            and (e.get("involvedObject") or {}).get("name", "").startswith(name + "-")
        ]
        if killed:
            evidence.append(ctx.cite("event", ingress, f"pods {name}-* killed at {event_time(killed[-1])}"))
            parts.append(f"The old {name} pods were killed at {ts(event_time(killed[-1]))} [{evidence[-1]}].")
    edit = recent_edit(view, ingress, RECENT)
    if edit:
        evidence.append(ctx.cite("change", ingress, f"Ingress {ref.name} {edit.what} {edit.age} ago"))
        parts.append(f"The Ingress was {edit.what} {edit.age} ago [{evidence[-1]}].")
        contributing.append(Contributing(ref, f"{edit.what} at {ts(edit.when)}"))
    if spec.get("tls"):
        parts.append(
            "TLS and the controller itself are fine for other hosts; only this backend reference is wrong."
        )
    is_target = (
        ctx.target.known
        and ctx.target.kind == "Ingress"
        and Ref("Ingress", ctx.target.namespace, ctx.target.name) == ref
    )
    corroborated = bool(lines) or len(view.ingress_backends(ingress)) == 1
    if is_target:
        confidence = (0.9 if corroborated else 0.8) if kind == "missing" else (0.85 if corroborated else 0.75)
    else:
        confidence = 0.6  # an Ingress near the alert, not the alert's: a real fault, maybe not this alert's
    new_port = None
    if replacement is not None:
        rep_ports = (replacement.get("spec") or {}).get("ports") or []
        if (kind == "port" and rep_ports) or (
            kind == "missing"
            and rep_ports
            and port not in {p.get("port") for p in rep_ports} | {p.get("name") for p in rep_ports}
        ):
            new_port = rep_ports[0].get("port")
    fix_name = Ref.of(replacement).name if replacement is not None else name
    commands = (
        [knet.set_ingress_backend(ref, rule_index, path_index, fix_name, new_port)]
        if replacement is not None
        else []
    )
    commands += [kubectl.describe(ref)]
    recommendations = [
        Recommendation(
            "Point the Ingress at the existing backend",
            "immediate",
            (
                f"Route {where} to Service {fix_name}" + (f" port {new_port}" if new_port else "") + "."
                if replacement is not None
                else f"Create Service {name} or point the Ingress at the Service that now serves {where}."
            ),
            commands,
        ),
        Recommendation(
            "Check the controller sees a backend",
            "immediate",
            "The controller's log stops reporting the missing backend once the reference resolves.",
            [
                f"kubectl -n {kubectl.q(ref.namespace)} get ingress {kubectl.q(ref.name)} -o wide",
                knet.get_endpoints(Ref("Service", ref.namespace, fix_name)),
            ],
        ),
        Recommendation(
            "Ship the Ingress with its Service",
            "preventive",
            "Manage the Ingress in the same release as the Service it routes to (renames move both), and "
            "add a "
            "CI check that every Ingress backend Service and port exists.",
            [],
        ),
    ]
    return Finding(
        category="ingress-misconfigured",
        resource=ref,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"backend": name, "port": port, "problem": kind},
        recommendations=recommendations,
    )


def _backend_positions(ingress: dict) -> list[tuple[int, int]]:
    """(rule index, path index) aligned with ClusterView.ingress_backends (default backend first)."""
    spec = ingress.get("spec") or {}
    positions = []
    if (spec.get("defaultBackend") or {}).get("service"):
        positions.append((-1, -1))
    for rule_index, rule in enumerate(spec.get("rules") or []):
        for path_index, _path in enumerate(((rule.get("http") or {}).get("paths")) or []):
            positions.append((rule_index, path_index))
    return positions


def _replacement_service(view: ClusterView, ingress: dict, missing: str, port) -> dict | None:
    """The Service most likely meant: not routed by any Ingress, similar name, recently created."""
    namespace = Ref.of(ingress).namespace
    routed = {n for other in view.all("Ingress", namespace) for n, _p, _w in view.ingress_backends(other)}
    best, best_score = None, 0.0
    missing_tokens = set(re.split(r"[-_.]", missing))
    for service in view.all("Service", namespace):
        name = Ref.of(service).name
        if name in routed or name == missing:
            continue
        if not (service.get("spec") or {}).get("selector"):
            continue
        tokens = set(re.split(r"[-_.]", name))
        score = len(tokens & missing_tokens) * 2.0
        ports = (service.get("spec") or {}).get("ports") or []
        if port in {p.get("port") for p in ports} | {p.get("name") for p in ports}:
            score += 1.0
        age = view.age_seconds((service.get("metadata") or {}).get("creationTimestamp"))
        if age is not None and age <= RECENT:
            score += 1.5
        if view.endpoints(service)[0]:
            score += 0.5
        if score > best_score:
            best, best_score = service, score
    return best if best_score >= 2.0 else None


_TLS_TROUBLE = re.compile(r"not found|does not exist|no such|error|failed|invalid|expired|mismatch", re.I)


def _ingress_tls_finding(ctx: Context, ingress: dict) -> Finding | None:
    """A TLS secret the Ingress names that the controller (or cert-manager) reports missing/invalid.
    Secrets are never read: only what the controller logs and events say about the name counts."""
    view = ctx.view
    ref = Ref.of(ingress)
    for tls in (ingress.get("spec") or {}).get("tls") or []:
        secret = tls.get("secretName")
        if not secret:
            continue
        key = f"{ref.namespace}/{secret}"
        lines = [
            (pod, line)
            for pod, line in _controller_lines(view, [key])
            if _TLS_TROUBLE.search(line) and re.search(r"certificate|secret|tls|ssl", line, re.I)
        ]
        events = [
            e
            for e in view.events_in(ref.namespace)
            if secret in (e.get("message") or "")
            and e.get("type") == "Warning"
            and _TLS_TROUBLE.search(e.get("message") or "")
        ]
        if not lines and not events:
            continue
        evidence = [ctx.cite("spec", ingress, f"spec.tls hosts {tls.get('hosts')} secretName {secret}")]
        parts = [
            f"Ingress {ref.namespace}/{ref.name} terminates TLS for {', '.join(tls.get('hosts') or [])} with "
            f"Secret {secret} [{evidence[0]}]."
        ]
        if lines:
            pod, line = lines[-1]
            evidence.append(ctx.cite("log", pod, _quote_line(line, 300)))
            parts.append(f"The ingress controller reports: {_quote_line(line, 300)} [{evidence[-1]}].")
        if events:
            event = events[-1]
            evidence.append(ctx.cite("event", ingress, f"{event.get('reason')}: {event.get('message')}"))
            parts.append(f"Event {event.get('reason')}: {event.get('message')} [{evidence[-1]}].")
        parts.append("Clients get the controller's default certificate (TLS errors) instead of the site's.")
        is_target = ctx.target.kind == "Ingress" and ctx.target.name == ref.name
        return Finding(
            category="ingress-misconfigured",
            resource=ref,
            confidence=0.8 if is_target else 0.6,
            summary=f"Ingress {ref.namespace}/{ref.name}: TLS secret {secret} is missing or invalid",
            explanation=" ".join(parts),
            evidence=evidence,
            facts={"tls_secret": secret},
            recommendations=[
                Recommendation(
                    "Restore the TLS secret the Ingress names",
                    "immediate",
                    f"Re-issue or re-create Secret {secret} (cert-manager: check the Certificate), or point "
                    "spec.tls.secretName at the existing one.",
                    [
                        f"kubectl -n {kubectl.q(ref.namespace)} get secret {kubectl.q(secret)}",
                        f"kubectl -n {kubectl.q(ref.namespace)} describe certificate {kubectl.q(secret)}",
                        kubectl.describe(ref),
                    ],
                ),
                Recommendation(
                    "Alert before certificates break",
                    "preventive",
                    "Alert on certificate expiry and on cert-manager Certificates that are not Ready.",
                    [],
                ),
            ],
        )
    return None


def _ingress_class_finding(ctx: Context, ingress: dict) -> Finding | None:
    view = ctx.view
    ref = Ref.of(ingress)
    class_name = (ingress.get("spec") or {}).get("ingressClassName")
    classes = view.all("IngressClass")
    if not class_name or not classes or any(Ref.of(c).name == class_name for c in classes):
        return None
    names = ", ".join(Ref.of(c).name for c in classes)
    evidence = [
        ctx.cite("spec", ingress, f"spec.ingressClassName={class_name}"),
        ctx.cite("config", ingress, f"IngressClasses in the cluster: {names}"),
    ]
    return Finding(
        category="ingress-misconfigured",
        resource=ref,
        confidence=0.7,
        summary=f"Ingress {ref.namespace}/{ref.name}: ingressClassName {class_name} does not exist",
        explanation=(
            f"Ingress {ref.namespace}/{ref.name} asks for ingressClassName {class_name} [{evidence[0]}], "
            "but the cluster "
            f"only has IngressClass {names} [{evidence[1]}]: no controller serves this Ingress, so its "
            "hosts return 404/503."
        ),
        evidence=evidence,
        recommendations=[
            Recommendation(
                "Use an existing IngressClass",
                "immediate",
                f"Set spec.ingressClassName to one of: {names}.",
                [kubectl.edit(ref)],
            )
        ],
    )


# -- rbac-forbidden ------------------------------------------------------------------------------


@dataclasses.dataclass
class Denial:
    pod: dict
    container: str
    line: str
    user: str
    verb: str
    resource: str
    group: str
    namespace: str
    previous: bool


def forbidden_lines(view: ClusterView, pods: Iterable[dict]) -> list[Denial]:
    found = []
    for pod in pods:
        for container, text, previous in _pod_logs(view, pod):
            for line in text.splitlines():
                if "forbidden" not in line.lower() and "cannot" not in line:
                    continue
                match = _FORBIDDEN.search(line)
                if not match:
                    continue
                resource_name = match.group("resource")
                group = match.group("group") or ""
                found.append(
                    Denial(
                        pod,
                        container,
                        line.strip(),
                        match.group("user"),
                        match.group("verb").lower(),
                        resource_name,
                        group,
                        match.group("namespace") or "",
                        previous,
                    )
                )
    return found


def _rule_allows(rule: dict, verb: str, resource_name: str, group: str) -> bool:
    resource_base = resource_name.split("/")[0]
    groups = rule.get("apiGroups") or []
    resources = rule.get("resources") or []
    verbs = rule.get("verbs") or []
    return (
        ("*" in groups or group in groups)
        and (
            "*" in resources
            or resource_name in resources
            or (resource_base in resources and "/" not in resource_name)
        )
        and ("*" in verbs or verb in verbs)
        and not rule.get("resourceNames")
    )


def _bindings_for(
    view: ClusterView, sa_namespace: str, sa_name: str, namespace: str
) -> list[tuple[dict, dict | None]]:
    """(binding, role object or None) for RoleBindings in `namespace` and ClusterRoleBindings naming the "
    "SA."""
    result = []
    candidates = view.all("RoleBinding", namespace) + view.all("ClusterRoleBinding")
    for binding in candidates:
        for subject in binding.get("subjects") or []:
            subject_ns = subject.get("namespace") or Ref.of(binding).namespace
            if (
                subject.get("kind") == "ServiceAccount"
                and subject.get("name") == sa_name
                and subject_ns == sa_namespace
            ) or (
                subject.get("kind") == "Group"
                and subject.get("name")
                in ("system:serviceaccounts", f"system:serviceaccounts:{sa_namespace}")
            ):
                role_ref = binding.get("roleRef") or {}
                kind = role_ref.get("kind", "Role")
                role = view.get(
                    kind, Ref.of(binding).namespace if kind == "Role" else "", role_ref.get("name", "")
                )
                result.append((binding, role))
                break
    return result


@analyzer("rbac-forbidden")
def rbac_forbidden(ctx: Context) -> list[Finding]:
    view = ctx.view
    denials = forbidden_lines(view, ctx.in_scope_pods())
    if not denials:
        return []
    # The most frequent (user, verb, resource) is the one that matters.
    counts: dict[tuple[str, str, str, str, str], list[Denial]] = {}
    for denial in denials:
        counts.setdefault(
            (denial.user, denial.verb, denial.resource, denial.group, denial.namespace), []
        ).append(denial)
    key, group_denials = max(counts.items(), key=lambda item: len(item[1]))
    user, verb, resource_name, api_group, namespace = key
    first = group_denials[0]
    pod = first.pod
    pod_ref = Ref.of(pod)
    workload = view.top_owner(pod)
    workload_ref = Ref.of(workload)
    evidence = [ctx.cite("previous_log" if first.previous else "log", pod, _quote_line(first.line, 500))]
    group_text = f'API group "{api_group}"' + (" (core)" if api_group == "" else "")
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    parts = [
        f"Pod {pod_ref.name} of {workload_ref.kind} {workload_ref.name} is denied by the API server: "
        f'{resource_name} is forbidden: User "{user}" cannot {verb} resource "{resource_name}" in '
        f"{group_text} {where} "
        f"[{evidence[0]}] (RBAC 403; {len(group_denials)} such lines).",
    ]
    sa_match = re.fullmatch(r"system:serviceaccount:([^:]+):([^:]+)", user)
    contributing: list[Contributing] = []
    recommendations: list[Recommendation] = []
    if not sa_match:
        return [
            Finding(
                category="rbac-forbidden",
                resource=workload_ref,
                confidence=0.6,
                summary=f'{workload_ref.name}: User "{user}" is forbidden to {verb} {resource_name}',
                explanation=" ".join(parts),
                evidence=evidence,
                recommendations=[
                    Recommendation(
                        "Check the identity's permissions",
                        "immediate",
                        "The denied identity is not a ServiceAccount of the cluster.",
                        [knet.auth_can_i(verb, resource_name, namespace, user)],
                    )
                ],
            )
        ]
    sa_namespace, sa_name = sa_match.groups()
    sa_ref = Ref("ServiceAccount", sa_namespace, sa_name)
    used = pod_spec(pod).get("serviceAccountName") or pod_spec(pod).get("serviceAccount") or "default"
    parts.append(
        f"The pod runs as ServiceAccount {sa_name} (serviceAccountName {used}), i.e. the identity "
        f"system:serviceaccount:{sa_namespace}:{sa_name} (the {sa_name} service account)."
    )
    sa = view.get("ServiceAccount", sa_namespace, sa_name)
    bindings = _bindings_for(view, sa_namespace, sa_name, namespace or sa_namespace)
    full_resource = resource_name if not api_group else f"{resource_name}.{api_group}"
    can_i = knet.auth_can_i(verb, full_resource, namespace, user)
    primary: Ref
    confidence = 0.9
    if sa is None and not view.all("ServiceAccount", sa_namespace) and not bindings:
        primary, confidence = workload_ref, 0.6
        parts.append(
            "No RBAC objects of the namespace were collected, so which Role lacks the rule cannot be shown."
        )
    elif not bindings:
        primary = sa_ref
        confidence = 0.85
        evidence.append(
            ctx.cite(
                "config",
                sa_ref,
                f"no RoleBinding in {namespace or sa_namespace} and no ClusterRoleBinding binds "
                f"ServiceAccount {sa_name}",
            )
        )
        parts.append(
            f"No RoleBinding or ClusterRoleBinding grants anything to ServiceAccount {sa_name} "
            f"[{evidence[-1]}]: "
            "the RBAC binding is missing."
        )
        other = _account_with_permission(
            view, namespace or sa_namespace, sa_name, verb, resource_name, api_group
        )
        if other:
            parts.append(
                f"ServiceAccount {other} in the namespace is bound to a Role that allows {verb} on "
                f"{resource_name}: the workload probably should run as {other} (serviceAccountName)."
            )
            contributing.append(Contributing(workload_ref, f"runs as {sa_name}; {other} has the permission"))
        recommendations.append(
            Recommendation(
                "Bind a Role that allows the call",
                "immediate",
                f"Grant {verb} on {resource_name} to the ServiceAccount.",
                [
                    f"kubectl -n {kubectl.q(namespace or sa_namespace)} create role {kubectl.q(sa_name)} "
                    f"--verb={kubectl.q(verb)} --resource={kubectl.q(full_resource)}",
                    knet.create_rolebinding(
                        namespace or sa_namespace, sa_name, "Role", sa_name, sa_namespace, sa_name
                    ),
                    can_i,
                ],
            )
        )
    else:
        allowing = [
            (b, r)
            for b, r in bindings
            if r is not None
            and any(_rule_allows(rule, verb, resource_name, api_group) for rule in r.get("rules") or [])
        ]
        if allowing:
            return []  # the permission exists now: the denial is stale or comes from elsewhere

        # The Role to fix: one that already has a rule for this resource (missing the verb), else a recently
        # edited one, else the first bound Role.
        def rank(item):
            _binding, role = item
            if role is None:
                return (0, "")
            has_resource = any(
                resource_name in (rule.get("resources") or [])
                or resource_name.split("/")[0] in (rule.get("resources") or [])
                for rule in role.get("rules") or []
            )
            modified = (last_modified(view, role) or ("", ""))[0]
            return (2 if has_resource else 1, modified)

        binding, role = max(bindings, key=rank)
        binding_ref = Ref.of(binding)
        role_ref_spec = binding.get("roleRef") or {}
        if role is None:
            missing_kind = role_ref_spec.get("kind", "Role")
            primary = binding_ref
            confidence = 0.85
            evidence.append(
                ctx.cite(
                    "config",
                    binding,
                    f"{binding_ref.kind} {binding_ref.name} binds {sa_name} to {missing_kind} "
                    f"{role_ref_spec.get('name')}, which does not exist",
                )
            )
            parts.append(
                f"{binding_ref.kind} {binding_ref.name} binds the ServiceAccount to {missing_kind} "
                f"{role_ref_spec.get('name')}, which does not exist [{evidence[-1]}]."
            )
            recommendations.append(
                Recommendation(
                    f"Create {missing_kind} {role_ref_spec.get('name')}",
                    "immediate",
                    f"The binding points at a missing role; create it with {verb} on {resource_name}.",
                    [
                        f"kubectl -n {kubectl.q(namespace or sa_namespace)} create role "
                        f"{kubectl.q(role_ref_spec.get('name', ''))} "
                        f"--verb={kubectl.q(verb)} --resource={kubectl.q(full_resource)}",
                        can_i,
                    ],
                )
            )
        else:
            role_ref = Ref.of(role)
            primary = role_ref
            rules = role.get("rules") or []
            related = [
                (index, rule)
                for index, rule in enumerate(rules)
                if resource_name in (rule.get("resources") or [])
                or resource_name.split("/")[0] in (rule.get("resources") or [])
            ]
            rules_text = "; ".join(
                f"{','.join(r.get('resources') or [])} verbs [{','.join(r.get('verbs') or [])}]"
                + (f" (resourceNames {','.join(r.get('resourceNames'))})" if r.get("resourceNames") else "")
                for _i, r in (related or list(enumerate(rules)))[:4]
            )
            evidence.append(ctx.cite("spec", role, f"{role_ref.kind} {role_ref.name} rules: {rules_text}"))
            evidence.append(
                ctx.cite(
                    "config",
                    binding,
                    f"{binding_ref.kind} {binding_ref.name} binds ServiceAccount {sa_name} to "
                    f"{role_ref.kind} {role_ref.name}",
                )
            )
            parts.append(
                f"{binding_ref.kind} {binding_ref.name} binds it to {role_ref.kind} {role_ref.name} "
                f"[{evidence[-1]}], "
                f"whose rules for {resource_name} are: {rules_text} [{evidence[-2]}] — the {verb} verb on "
                f"{resource_name} is missing, so the rbac rule denies the call."
            )
            modified = last_modified(view, role)
            edit = recent_edit(view, role, 24 * 3600)
            if edit and modified:
                fields = _edited_fields(role, modified[0])
                evidence.append(
                    ctx.cite(
                        "change",
                        role,
                        f"{role_ref.kind} {role_ref.name} {edit.what} at {ts(edit.when)} ({edit.age} "
                        f"ago){fields}",
                    )
                )
                parts.append(
                    f"What changed: {role_ref.kind} {role_ref.name} was {edit.what} at {ts(edit.when)}, "
                    f"{edit.age} before "
                    f"the capture{fields} [{evidence[-1]}]; the denials start after that."
                )
                contributing.append(Contributing(role_ref, f"{edit.what} at {ts(edit.when)}"))
            if related:
                index, rule = related[0]
                verbs = list(
                    dict.fromkeys((rule.get("verbs") or []) + [verb] + (["watch"] if verb == "list" else []))
                )
                if rule.get("resourceNames"):
                    fix = knet.add_role_rule(role_ref, api_group, resource_name, [verb])
                else:
                    fix = knet.replace_rule_verbs(role_ref, index, verbs)
            else:
                verbs = [verb] + (["watch"] if verb == "list" else [])
                fix = knet.add_role_rule(role_ref, api_group, resource_name, verbs)
            recommendations.append(
                Recommendation(
                    f"Give {role_ref.kind} {role_ref.name} the {verb} verb on {resource_name}",
                    "immediate",
                    f"Allow {', '.join(verbs)} on {resource_name} (and fix it in the source of truth so it "
                    "is not reverted).",
                    [fix, can_i],
                )
            )
        contributing.append(Contributing(sa_ref, f"identity {user} used by {workload_ref.name}"))
    impact = _rbac_impact(view, group_denials)
    if impact:
        parts.append(impact)
    elif confidence > 0.8:
        confidence = 0.8  # denied, but the pods look healthy: maybe not what the alert is about
    recommendations.append(
        Recommendation(
            "Test RBAC changes before they ship",
            "preventive",
            "Run `kubectl auth can-i` checks for each workload's ServiceAccount in CI against the rendered "
            "Roles, "
            'and alert on 403s from in-cluster clients (apiserver_request_total{code="403"}).',
            [],
        )
    )
    return [
        Finding(
            category="rbac-forbidden",
            resource=primary,
            confidence=confidence,
            summary=(
                f"{primary.kind} {primary.name} does not allow {verb} on {resource_name}: {user} is forbidden"
            ),
            explanation=" ".join(parts),
            evidence=evidence,
            contributing=contributing,
            facts={
                "user": user,
                "verb": verb,
                "resource": resource_name,
                "group": api_group,
                "namespace": namespace,
            },
            recommendations=recommendations,
        )
    ]


def _account_with_permission(
    view: ClusterView, namespace: str, exclude: str, verb: str, resource_name: str, api_group: str
) -> str:
    for binding in view.all("RoleBinding", namespace):
        role_ref = binding.get("roleRef") or {}
        kind = role_ref.get("kind", "Role")
        role = view.get(kind, namespace if kind == "Role" else "", role_ref.get("name", ""))
        if role is None or not any(
            _rule_allows(rule, verb, resource_name, api_group) for rule in role.get("rules") or []
        ):
            continue
        for subject in binding.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("name") != exclude:
                return subject.get("name", "")
    return ""


def _edited_fields(obj: dict, when: str) -> str:
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("time") == when:
            fields = [
                k[2:] for k in (entry.get("fieldsV1") or {}) if k.startswith("f:") and k != "f:metadata"
            ]
            if fields:
                return f" (fields: {', '.join(fields)})"
    return ""


def _rbac_impact(view: ClusterView, denials: list[Denial]) -> str:
    pods = list({id(d.pod): d.pod for d in denials}.values())
    not_ready = [p for p in pods if (pod_condition(p, "Ready") or {}).get("status") == "False"]
    crashing = [p for p in pods if any(st.failing and st.restarts for st in container_states(p))]
    if not not_ready and not crashing:
        return ""
    text = f"Without that permission {len(not_ready)}/{len(pods)} of its pods report NotReady"
    if crashing:
        text += f" and {len(crashing)} restart repeatedly"
    services = view.services_selecting(pods[0])
    if services and not any(view.endpoints(svc)[0] for svc in services):
        text += f"; Service {Ref.of(services[0]).name} has no ready endpoints, so callers get 5xx"
    return text + "."
