"""readiness-probe-misconfigured: pods run without restarts but never become Ready: the readiness
probe is refused on a port the container does not declare or listen on, or gets 404 on its path,
while the app logs where it listens.
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.probes import ports_text, probe_port, probe_text, resolve_port
from investigations.engine.analyzers.workload_facts import (
    DEPENDENCY_SIGNAL,
    change_text,
    diagnose_pod,
    event_count,
    first_of,
    group_by_workload,
    latest_rollout,
    matching_events,
    shorten,
    spec_of,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref
from investigations.engine.facts import container_states
from investigations.engine.kubectl import Recommendation

_LISTENING = re.compile(r"listening\W+(?:on\W+)?(?:addr\W+)?(?:[\w.\[\]]*):(?P<port>\d{2,5})", re.I)


_READINESS = re.compile(r"Readiness probe failed: (?P<msg>.*)", re.S)


@analyzer("readiness-probe-misconfigured")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def readiness_probe_misconfigured(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    stuck = []
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.ready or not state.running or state.restarts > 0:
                continue
            failures = [
                e
                for e in matching_events(view, pod, "Unhealthy")
                if _READINESS.search(e.get("message") or "")
            ]
            if failures and sum(event_count(e) for e in failures) >= 3:
                stuck.append((pod, state, failures))
    findings = []
    for workload, members in group_by_workload(view, stuck):
        pod, state, failures = members[0]
        workload_ref, pod_ref = Ref.of(workload), Ref.of(pod)
        container = spec_of(view, pod, state.name)
        probe = container.get("readinessProbe") or {}
        port_value, probe_kind = probe_port(probe)
        if not probe or probe_kind not in ("httpGet", "tcpSocket", "grpc"):
            continue
        port = resolve_port(container, port_value)
        declared = [p.get("containerPort") for p in container.get("ports") or []]
        message = failures[-1].get("message") or ""
        refused = "connection refused" in message.lower()
        status = re.search(r"statuscode: (\d+)", message)
        log = view.log(pod, state.name)
        listening = sorted({int(m.group("port")) for m in _LISTENING.finditer(log)})
        problem = ""
        confidence = 0.0
        if refused and port is not None and port not in declared and (declared or listening):
            problem = f"port {port} is not a port the container listens on"
            confidence = 0.8 if (listening and port not in listening) or declared else 0.7
        elif refused and port is not None and listening and port not in listening:
            problem = f"port {port} is not where the app listens"
            confidence = 0.75
        elif status and status.group(1) == "404":
            problem = f"path {(probe.get('httpGet') or {}).get('path')} does not exist (HTTP 404)"
            confidence = 0.7
        if not problem:
            continue
        if DEPENDENCY_SIGNAL.search(log or "") and not listening:
            confidence -= 0.2
        total = sum(event_count(e) for e in failures)
        affected = sorted({Ref.of(m[0]).name for m in members})
        evidence = [ctx.cite("event", pod, f"Unhealthy x{total}: {message}")]
        evidence.append(
            ctx.cite(
                "spec",
                workload,
                f"containers[{state.name}].readinessProbe {probe_text(probe)}; containerPorts "
                f"{ports_text(container)}",
            )
        )
        readiness = _READINESS.search(message)  # every failure kept above matched it
        probe_error = readiness.group("msg") if readiness else message
        parts = [
            f"Pods {', '.join(affected[:4])} of {workload_ref.kind} {workload_ref.name} run (restartCount "
            "0) but never "
            f'become Ready: "Readiness probe failed: {shorten(probe_error, 300)}" '
            f"x{total} [{evidence[0]}].",
            f"The readiness probe checks {probe_text(probe)}, while the container ports are "
            f"{ports_text(container)} "
            f"[{evidence[1]}]: {problem}.",
        ]
        if listening:
            line = first_of(line for line in log.splitlines() if _LISTENING.search(line)) or ""
            evidence.append(
                ctx.cite("log", pod, "\n".join(x for x in log.splitlines() if _LISTENING.search(x))[:600])
            )
            parts.append(
                f"The app itself is healthy and listening on {', '.join(map(str, listening))} "
                f"[{evidence[-1]}] "
                f'("{shorten(line, 200)}"), so the probe fails only because it asks the wrong place.'
            )
        liveness = container.get("livenessProbe") or {}
        if liveness:
            parts.append(f"The liveness probe ({probe_text(liveness)}) succeeds: no restarts.")
        contributing = []
        change = latest_rollout(view, workload, pod)
        if change:
            probe_changes = [d for d in change.details if "readinessProbe" in d or "ports" in d]
            if probe_changes:
                evidence.append(
                    ctx.cite("change", workload, change_text(change, keep=["readinessProbe", "ports"]))
                )
                parts.append(
                    f"What changed: {change_text(change, keep=['readinessProbe', 'ports'])} "
                    f"[{evidence[-1]}]; "
                    "the rollout is stuck because the new pods never become Ready."
                )
                contributing.append(
                    Contributing(workload_ref, f"{change.what}: {'; '.join(probe_changes)[:300]}")
                )
                confidence += 0.05
        good_port = first_of(p for p in listening if p in declared) or first_of(declared)
        named = first_of(
            p.get("name")
            for p in container.get("ports") or []
            if p.get("containerPort") == good_port and p.get("name")
        )
        fixed_probe = None
        if "httpGet" in probe and good_port and "port" in problem:
            fixed_probe = {"readinessProbe": {"httpGet": {**probe["httpGet"], "port": named or good_port}}}
        elif "tcpSocket" in probe and good_port and "port" in problem:
            fixed_probe = {"readinessProbe": {"tcpSocket": {"port": named or good_port}}}
        recommendations = []
        if fixed_probe:
            recommendations.append(
                Recommendation(
                    f"Point the readiness probe at port {named or good_port}",
                    "immediate",
                    "The app answers there; pods become Ready and the rollout continues.",
                    [
                        kx.container_patch(workload_ref, state.name, fixed_probe),
                        kubectl.rollout_status(workload_ref),
                    ],
                )
            )
        if contributing and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Or roll back to the previous revision",
                    "immediate",
                    "Its readiness probe worked.",
                    [kubectl.rollout_undo(workload_ref)],
                )
            )
        recommendations.append(diagnose_pod(pod_ref, state.name, previous=False))
        recommendations.append(
            Recommendation(
                "Probe named ports",
                "preventive",
                "Reference containerPort names in probes (port: http) and test charts with a rollout in "
                "staging.",
                [],
            )
        )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: readinessProbe checks "
            f"{problem.split(' is')[0].split(' does')[0]} "
            f"(container ports {', '.join(map(str, declared))}); healthy pods never become Ready"
        )
        findings.append(
            Finding(
                category="readiness-probe-misconfigured",
                resource=workload_ref,
                confidence=min(confidence, 0.85),
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"probe_port": port, "container_ports": declared, "listening": listening},
                recommendations=recommendations,
            )
        )
    return findings
