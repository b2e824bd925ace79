"""bad-config-value: a crashing or NotReady app uses a setting whose value is wrong against the cluster:
a host name that resolves to nothing (DNS), SSL required by one side only, or a port the Service does
not serve (connection refused).
"""

from __future__ import annotations

import difflib
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.workload_facts import (
    change_text,
    configmap_names,
    crashing_containers,
    diagnose_pod,
    group_by_workload,
    latest_rollout,
    line_with,
    log_text,
    readable_settings,
    shorten,
    spec_of,
    workload_of,
)
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import ContainerState, container_states, recent_edit, ts
from investigations.engine.kubectl import Recommendation

_DNS_FAILURE = (
    re.compile(r"could not translate host name \"(?P<host>[\w.-]+)\""),
    re.compile(r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)"),
    re.compile(r"lookup (?P<host>[\w.-]+)(?: on [\d.:]+)?: no such host"),
    re.compile(r"UnknownHostException: (?P<host>[\w.-]+)"),
    re.compile(r"(?P<host>[\w.-]+): (?:Name or service not known|nodename nor servname provided)"),
)
_SSL_MISMATCH = re.compile(
    r"server does not support SSL|SSL is not enabled on the server|SSL was required|"
    r"SSL SYSCALL error|wrong version number|tls: first record does not look like a TLS handshake",
    re.I,
)
_SERVER_AT = re.compile(r"(?:server at \"?|host=)(?P<host>[a-zA-Z][\w.-]*)")
_REFUSED = (
    re.compile(r"dial tcp (?P<host>[\w.-]+):(?P<port>\d+): connect: connection refused"),
    re.compile(r"connect ECONNREFUSED (?P<host>[\w.-]+):(?P<port>\d+)"),
    re.compile(
        r"server at \"(?P<host>[\w.-]+)\"(?: \([\d.]+\))?, port (?P<port>\d+) failed: Connection refused"
    ),
)
_SSL_OFF = re.compile(r"^\s*ssl\s*=\s*'?(off|false|0)'?", re.I | re.M)


def _service_for_host(view: ClusterView, host: str, namespace: str) -> tuple[dict | None, str, str]:
    """(Service, service name, namespace) a cluster hostname designates; Service None when absent."""
    if re.fullmatch(r"[\d.]+", host):
        for service in view.all("Service"):
            if (service.get("spec") or {}).get("clusterIP") == host:
                ref = Ref.of(service)
                return service, ref.name, ref.namespace
        return None, "", ""
    labels = host.split(".")
    name = labels[0]
    target_ns = namespace
    if len(labels) >= 2 and (len(labels) == 2 or labels[2] == "svc"):
        target_ns = labels[1]
    elif len(labels) > 2:
        return None, "", ""  # an external name: not a Service of this cluster
    return view.get("Service", target_ns, name), name, target_ns


@analyzer("bad-config-value")
def bad_config_value(ctx: Context) -> list[Finding]:
    view = ctx.view
    findings = []
    candidates = crashing_containers(ctx)
    not_ready = [
        s
        for pod in ctx.in_scope_pods()
        for s in container_states(pod)
        if not s.ready and s.running and s not in candidates
    ]
    for workload, members in group_by_workload(view, candidates + not_ready):
        text, state, log_kind = log_text(view, members)
        if not text or state is None:
            continue
        finding = (
            _dns_value(ctx, workload, state, text, log_kind)
            or _ssl_value(ctx, workload, state, text, log_kind)
            or _port_value(ctx, workload, state, text, log_kind)
        )
        if finding:
            findings.append(finding)
    return findings


def _holder(view: ClusterView, workload: dict, container: dict, predicate) -> tuple[str, str, str] | None:
    for name, value, where in readable_settings(view, workload, container):
        if predicate(name, value):
            return name, value, where
    return None


def _value_finding(
    ctx: Context,
    workload: dict,
    state: ContainerState,
    holder: tuple[str, str, str],
    *,
    summary: str,
    parts: list[str],
    evidence: list[str],
    confidence: float,
    fix_value: str | None,
) -> Finding:
    view = ctx.view
    workload_ref = Ref.of(workload)
    variable, value, where = holder
    namespace = workload_ref.namespace
    resource = Ref("ConfigMap", namespace, where) if where else workload_ref
    configmap = view.get("ConfigMap", namespace, where) if where else None
    contributing = []
    if configmap is not None:
        evidence.append(ctx.cite("config", configmap, f"ConfigMap {where}: {variable}={value}"))
        parts.append(f"The value comes from ConfigMap {where} ({variable}={value}) [{evidence[-1]}].")
        edit = recent_edit(view, configmap)
        if edit:
            evidence.append(
                ctx.cite("change", configmap, f"ConfigMap {where} {edit.what} at {ts(edit.when)}")
            )
            parts.append(
                f"What changed: ConfigMap {where} was {edit.what} {edit.age} before the capture "
                f"({ts(edit.when)}) "
                f"[{evidence[-1]}]."
            )
            contributing.append(
                Contributing(Ref.of(configmap), f"{edit.what} {edit.age} ago ({variable}={value})")
            )
    else:
        evidence.append(ctx.cite("spec", workload, f"containers[{state.name}] {variable}={value}"))
        parts.append(f"The value is set in the pod template: {variable}={value} [{evidence[-1]}].")
    change = latest_rollout(view, workload, state.pod)
    if change:
        evidence.append(ctx.cite("change", workload, change_text(change)))
        parts.append(
            f"Rollout: {change_text(change)} [{evidence[-1]}]; pods started before it run the old value."
        )
        if resource != workload_ref:
            contributing.append(
                Contributing(workload_ref, f"{change.what} ({change.age} ago) picked up the value")
            )
    pod_ref = Ref.of(state.pod)
    fix = []
    if configmap is not None and fix_value is not None:
        fix.append(kx.set_configmap_key(resource, variable, fix_value))
    elif configmap is not None:
        fix.append(kubectl.edit(resource))
    else:
        fix.append(
            f"kubectl {kubectl.ns(workload_ref)}set env {kubectl.resource(workload_ref)} "
            + kubectl.q(f"{variable}={fix_value or '<value>'}")
        )
    if workload.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        fix.append(kubectl.rollout_restart(workload_ref))
    recommendations = [
        Recommendation(
            f"Correct {variable}" + (f" to {fix_value}" if fix_value else ""),
            "immediate",
            f"{variable}={value} is wrong for this cluster; fix it where it is defined and restart the pods.",
            fix,
        ),
        diagnose_pod(pod_ref, state.name),
        Recommendation(
            "Review config changes like code",
            "preventive",
            "Keep the ConfigMap in Git, validate hosts/ports/flags against the target environment in CI, "
            "and avoid "
            "kubectl edit in production.",
            [],
        ),
    ]
    return Finding(
        category="bad-config-value",
        resource=resource,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"variable": variable, "value": value, "source": where},
        recommendations=recommendations,
    )


def _dns_value(
    ctx: Context, workload: dict, state: ContainerState, text: str, log_kind: str
) -> Finding | None:
    view = ctx.view
    for pattern in _DNS_FAILURE:
        match = pattern.search(text)
        if match:
            break
    else:
        return None
    host = match.group("host")
    namespace = Ref.of(workload).namespace
    service, name, target_ns = _service_for_host(view, host, namespace)
    if service is not None or not name:
        return None  # the Service exists (a DNS outage, not a value) or an external name we cannot judge
    container = spec_of(view, state.pod, state.name)
    holder = _holder(view, workload, container, lambda _n, v: host.lower() in v.lower())
    if holder is None:
        return None
    existing = sorted(Ref.of(s).name for s in view.all("Service", target_ns))
    close = difflib.get_close_matches(name, existing, n=1, cutoff=0.5)
    line = line_with(text, match.group(0))
    evidence = [ctx.cite(log_kind, state.pod, line)]
    workload_ref = Ref.of(workload)
    parts = [
        f'{workload_ref.kind} {workload_ref.name} cannot start: "{shorten(line, 400)}" [{evidence[0]}] '
        f"(DNS resolution failed, exit code {state.last_exit_code}, restarts {state.restarts}).",
        f"{holder[0]} is set to {holder[1]}, but there is no Service {name} in namespace {target_ns}",
    ]
    evidence.append(
        ctx.cite(
            "endpoints", Ref("Service", target_ns, name), f"Services in {target_ns}: {', '.join(existing)}"
        )
    )
    parts[-1] += f"; the namespace has {', '.join(existing) or 'no Services'} [{evidence[-1]}]."
    fix_value = None
    if close:
        fix_value = holder[1].replace(name, close[0], 1) if "." in host else close[0]
        healthy = view.get("Service", target_ns, close[0])
        ready, _not_ready = view.endpoints(healthy) if healthy else (0, 0)
        parts.append(
            f"The existing Service {close[0]} ({close[0]}.{target_ns}.svc.cluster.local, {ready} ready "
            "endpoints) "
            "is what the setting should name."
        )
    summary = (
        f"{holder[0]}={holder[1]} names a host that does not exist (no Service {name} in {target_ns}); "
        f'{workload_ref.kind} {workload_ref.name} crash-loops on "could not translate host name"'
        if "could not translate host name" in line
        else f"{holder[0]}={holder[1]} names a host that does not exist (no Service {name} in {target_ns})"
    )
    return _value_finding(
        ctx,
        workload,
        state,
        holder,
        summary=summary,
        parts=parts,
        evidence=evidence,
        confidence=0.8,
        fix_value=fix_value,
    )


def _ssl_value(
    ctx: Context, workload: dict, state: ContainerState, text: str, log_kind: str
) -> Finding | None:
    view = ctx.view
    match = _SSL_MISMATCH.search(text)
    if not match:
        return None
    container = spec_of(view, state.pod, state.name)
    holder = _holder(
        view,
        workload,
        container,
        lambda n, v: (
            ("ssl" in n.lower() and v.strip().lower() in ("require", "verify-ca", "verify-full", "true", "1"))
            or re.search(r"sslmode=(require|verify-ca|verify-full)", v, re.I) is not None
        ),
    )
    if holder is None:
        return None
    line = line_with(text, match.group(0))
    evidence = [ctx.cite(log_kind, state.pod, line)]
    workload_ref = Ref.of(workload)
    parts = [
        f"{workload_ref.kind} {workload_ref.name} exits (exit code {state.last_exit_code}, restarts "
        f"{state.restarts}) "
        f'because the TLS setting does not match the server: "{shorten(line, 400)}" [{evidence[0]}].',
        f"The client is configured with {holder[0]}={holder[1]} (SSL required).",
    ]
    confidence = 0.7
    server = _SERVER_AT.search(line) or _SERVER_AT.search(text)
    if server:
        service, _name, _ns = _service_for_host(view, server.group("host"), workload_ref.namespace)
        if service is not None:
            for pod in view.pods_selected_by(service)[:1]:
                owner = workload_of(view, pod)
                for cm_name in configmap_names(owner):
                    configmap = view.get("ConfigMap", Ref.of(owner).namespace, cm_name) or {}
                    for key, value in (configmap.get("data") or {}).items():
                        off = _SSL_OFF.search(str(value))
                        if off:
                            evidence.append(
                                ctx.cite(
                                    "config", configmap, f"ConfigMap {cm_name} {key}: {off.group(0).strip()}"
                                )
                            )
                            parts.append(
                                f"The server {Ref.of(owner).kind} {Ref.of(owner).name} (behind Service "
                                f"{Ref.of(service).name}) runs with {off.group(0).strip()} from ConfigMap "
                                f"{cm_name} "
                                f"[{evidence[-1]}]: the database has no TLS, so {holder[0]}={holder[1]} can "
                                "never succeed."
                            )
                            confidence = 0.8
                            break
    fix_value = "disable" if holder[1].strip().lower() in ("require", "verify-ca", "verify-full") else None
    parts.append(
        "The database itself is up; the client's SSL mode is the wrong value (or enable TLS on the server)."
    )
    summary = (
        f"{holder[0]}={holder[1]} requires SSL but the server does not support SSL: {workload_ref.kind} "
        f"{workload_ref.name} cannot connect"
    )
    return _value_finding(
        ctx,
        workload,
        state,
        holder,
        summary=summary,
        parts=parts,
        evidence=evidence,
        confidence=confidence,
        fix_value=fix_value,
    )


def _port_value(
    ctx: Context, workload: dict, state: ContainerState, text: str, log_kind: str
) -> Finding | None:
    view = ctx.view
    for pattern in _REFUSED:
        match = pattern.search(text)
        if match:
            break
    else:
        return None
    host, port = match.group("host"), int(match.group("port"))
    service, name, _target_ns = _service_for_host(view, host, Ref.of(workload).namespace)
    if service is None:
        return None
    ready, _not_ready = view.endpoints(service)
    ports = [p.get("port") for p in (service.get("spec") or {}).get("ports") or []]
    if ready == 0 or port in ports:
        return None  # no endpoints: the dependency is down; same port: the Service's own wiring
    container = spec_of(view, state.pod, state.name)
    holder = _holder(view, workload, container, lambda _n, v: v.strip() == str(port) or f":{port}" in v)
    if holder is None:
        return None
    line = line_with(text, match.group(0))
    evidence = [ctx.cite(log_kind, state.pod, line)]
    evidence.append(ctx.cite("endpoints", service, f"Service {name} ports {ports}, {ready} ready endpoints"))
    workload_ref = Ref.of(workload)
    parts = [
        f"{workload_ref.kind} {workload_ref.name} connects to {host}:{port} and gets connection refused "
        f'"{shorten(line, 300)}" [{evidence[0]}].',
        f"Service {name} is healthy ({ready} ready endpoints) but listens on port(s) {ports}, not {port} "
        f"[{evidence[1]}].",
    ]
    fix_value = holder[1].replace(str(port), str(ports[0]), 1) if ports else None
    summary = f"{holder[0]}={holder[1]} points at port {port}; Service {name} serves {ports}"
    return _value_finding(
        ctx,
        workload,
        state,
        holder,
        summary=summary,
        parts=parts,
        evidence=evidence,
        confidence=0.8,
        fix_value=fix_value,
    )
