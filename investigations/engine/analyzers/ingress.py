"""ingress-misconfigured: 0.9 the alerting Ingress routes to a missing Service (controller log or a
single backend corroborates), 0.85 to a missing Service port; 0.8 a TLS secret the controller reports
missing; 0.7 an unknown ingressClassName; 0.6 for any Ingress that is near the alert but not its target.
"""

from __future__ import annotations

import re
from typing import Any

from investigations.engine import kubectl
from investigations.engine import kubectl_network as knet
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import RECENT, quote_line
from investigations.engine.analyzers.service_lookup import ingresses_in_scope
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, event_time, human_age
from investigations.engine.facts import recent_edit, ts
from investigations.engine.kubectl import Recommendation


@analyzer("ingress-misconfigured")
def ingress_misconfigured(ctx: Context) -> list[Finding]:
    findings = []
    for ingress in ingresses_in_scope(ctx):
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
        evidence.append(ctx.cite("log", pod, quote_line(line, 300)))
        parts.append(f"The ingress controller confirms it: {quote_line(line, 300)} [{evidence[-1]}].")
        codes = [m for _p, ln in lines for m in re.findall(r'"\s(5\d\d)\s', ln)]
        if codes:
            code = max(set(codes), key=codes.count)
            pod, line = next((p, ln) for p, ln in lines if f'" {code} ' in ln)
            evidence.append(ctx.cite("log", pod, quote_line(line, 300)))
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
            evidence.append(ctx.cite("log", pod, quote_line(line, 300)))
            parts.append(f"The ingress controller reports: {quote_line(line, 300)} [{evidence[-1]}].")
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
