"""certificate-invalid: TLS verification fails (x509 "expired", "unknown authority", "valid for …, not
…", a peer rejecting the certificate) in the logs of the pods in scope, in probe events, or in a
webhook call that refuses pods; traced to where the certificate comes from:

- a cert-manager Certificate covering the host (dnsNames, or the secret an Ingress serves for it)
  that expired or is not Ready, with the failing step of its issuance (CertificateRequest, ACME Order
  and Challenge) and its Issuer (named instead when the Issuer itself is not Ready): 0.9;
- a CA bundle ConfigMap the client mounts that holds an expired CA (parsed) or changed recently while
  verification fails: 0.85;
- a Certificate that does not list the host the clients use: 0.85;
- a webhook configuration whose caBundle the API server cannot verify with: 0.8;
- otherwise the workload serving the host (0.7), or the client itself for an outside host (0.6).

Without failing clients, a broken Certificate behind the alert's Ingress or Service is still 0.8.
"""

from __future__ import annotations

from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.admission_messages import parse_denial
from investigations.engine.analyzers.cert_fixes import (
    bundle_recommendations,
    certificate_recommendations,
    server_recommendations,
)
from investigations.engine.analyzers.connections import pod_logs
from investigations.engine.analyzers.destinations import resolve
from investigations.engine.analyzers.helpers import RECENT, creators_in_scope, quote_line
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.analyzers.service_lookup import ingresses_in_scope
from investigations.engine.analyzers.tls_facts import (
    IssuanceState,
    TlsError,
    certificate_for_secret,
    certificates_for_host,
    expired_bundle_certs,
    issuance_state,
    tls_error,
)
from investigations.engine.analyzers.workload_facts import configmap_names
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, event_time
from investigations.engine.facts import ts

_WORDS = {
    "expired": "the certificate has expired",
    "hostname": "the certificate is not valid for the host name used",
    "unknown-authority": "the certificate is signed by an authority the client does not trust",
    "rejected": "the peer rejects the certificate presented",
    "other": "certificate verification fails",
}


def tls_errors(ctx: Context) -> list[TlsError]:
    view = ctx.view
    found: list[TlsError] = []
    for pod in ctx.in_scope_pods():
        for container, text, previous in pod_logs(view, pod):
            for line in text.splitlines():
                error = tls_error(line, pod, container, previous)
                if error is not None:
                    found.append(error)
                    break
        for event in view.events_for(pod):
            if event.get("reason") == "Unhealthy":
                error = tls_error(event.get("message") or "", pod, "", False, "event")
                if error is not None:
                    found.append(error)
    for creator in creators_in_scope(ctx):
        for event in view.events_for(creator):
            denial = (
                parse_denial(event.get("message") or "") if event.get("reason") == "FailedCreate" else None
            )
            if denial is not None and denial.mechanism == "webhook-unavailable":
                error = tls_error(denial.reason, None, denial.webhook, False, "webhook")
                if error is not None:
                    error.pod = creator
                    found.append(error)
    return sorted(found, key=lambda e: (not e.hosts, e.problem == "other"))


@analyzer("certificate-invalid")
def certificate_invalid(ctx: Context) -> list[Finding]:
    errors = tls_errors(ctx)
    if not errors:
        return _broken_in_scope(ctx)
    error = errors[0]
    finding = _from_certificates(ctx, error, errors) or _from_bundle(ctx, error) or _from_webhook(ctx, error)
    return [finding or _from_server(ctx, error)]


def _opening(ctx: Context, error: TlsError, errors: list[TlsError]) -> tuple[list[str], list[str]]:
    pod_ref = Ref.of(error.pod) if error.pod is not None else None
    kind = "previous_log" if error.previous else ("event" if error.source != "log" else "log")
    evidence = [ctx.cite(kind, error.pod or {}, quote_line(error.line, 400))] if error.pod is not None else []
    clients = sorted({Ref.of(ctx.view.top_owner(e.pod)).name for e in errors if e.pod is not None})
    where = ", ".join(f"{h}:{p}" if p else h for h, p in error.hosts[:2]) or "its peer"
    parts = [
        f"TLS verification fails in {', '.join(clients) or 'the client'} when connecting to {where}: "
        f"{_WORDS[error.problem]} "
        f'("{quote_line(error.line, 300)}")' + (f" [{evidence[0]}]." if evidence else ".")
    ]
    if pod_ref is None:
        parts[0] = parts[0].replace("the client", "the API server")
    return evidence, parts


def _from_certificates(ctx: Context, error: TlsError, errors: list[TlsError]) -> Finding | None:
    view = ctx.view
    namespace = Ref.of(error.pod).namespace if error.pod is not None else ctx.namespace
    certs: list[dict] = []
    for host, _port in error.hosts:
        certs += [c for c in certificates_for_host(view, host, namespace) if all(c is not k for k in certs)]
    if not certs:
        return None
    states = [issuance_state(view, c) for c in certs]
    broken = [s for s in states if s.broken]
    evidence, parts = _opening(ctx, error, errors)
    if broken:
        return _certificate_finding(ctx, broken[0], evidence, parts, 0.9, error)
    if error.problem == "hostname":
        cert = certs[0]
        ref = Ref.of(cert)
        names = (cert.get("spec") or {}).get("dnsNames") or []
        host = error.hosts[0][0]
        evidence.append(ctx.cite("spec", cert, f"Certificate {ref.name} dnsNames {names}"))
        parts.append(
            f"Certificate {ref.namespace}/{ref.name} covers only {', '.join(names)} [{evidence[-1]}], "
            f"not {host}."
        )
        return Finding(
            category="certificate-invalid",
            resource=ref,
            confidence=0.85,
            summary=f"Certificate {ref.name} is not valid for {host} (dnsNames {', '.join(names)})",
            explanation=" ".join(parts),
            evidence=evidence,
            contributing=[],
            recommendations=certificate_recommendations(issuance_state(view, cert), host),
        )
    return None


def _certificate_finding(
    ctx: Context,
    state: IssuanceState,
    evidence: list[str],
    parts: list[str],
    confidence: float,
    error: TlsError | None,
) -> Finding:
    view = ctx.view
    cert = state.cert
    ref = Ref.of(cert)
    status = cert.get("status") or {}
    spec = cert.get("spec") or {}
    issuer_ref = spec.get("issuerRef") or {}
    facts = (
        f"Certificate {ref.name} (secret {spec.get('secretName')}, dnsNames {spec.get('dnsNames')}, issuer "
        f"{issuer_ref.get('kind', 'Issuer')} {issuer_ref.get('name')}): "
        f"notAfter {status.get('notAfter', '?')}, renewalTime {status.get('renewalTime', '?')}"
        + (f", Ready=False ({state.not_ready})" if state.not_ready else "")
        + (
            f", failed issuance attempts {status.get('failedIssuanceAttempts')}"
            if status.get("failedIssuanceAttempts")
            else ""
        )
    )
    evidence.append(ctx.cite("status", cert, facts))
    expired = f"expired at {ts(state.expired_at)}" if state.expired_at else "is not Ready"
    parts.append(
        f"The certificate comes from cert-manager Certificate {ref.namespace}/{ref.name}, which {expired} "
        f"[{evidence[-1]}]."
    )
    if status.get("renewalTime") and state.expired_at:
        parts.append(
            f"It should have been renewed from {ts(status['renewalTime'])}, but renewal never succeeded."
        )
    contributing: list[Contributing] = []
    for obj, what in state.failing:
        if obj is cert:
            continue
        evidence.append(ctx.cite("status", obj, f"{obj.get('kind')} {Ref.of(obj).name}: {what}"))
        parts.append(f"{obj.get('kind')} {Ref.of(obj).name}: {what} [{evidence[-1]}].")
        contributing.append(Contributing(Ref.of(obj), what[:200]))
        for event in view.events_for(obj)[-1:]:
            parts.append(
                f'Its latest event: {event.get("reason")} "{quote_line(event.get("message") or "", 200)}" '
                f"({event_time(event)})."
            )
    solver, serving_class = _solver_mismatch(view, state)
    if solver:
        parts.append(solver)
    primary = ref
    if state.issuer is not None:
        issuer_ref = Ref.of(state.issuer)
        if state.issuer_not_ready:
            evidence.append(
                ctx.cite(
                    "status",
                    state.issuer,
                    f"{issuer_ref.kind} {issuer_ref.name}: Ready=False {state.issuer_not_ready}",
                )
            )
            parts.append(
                f"Its issuer {issuer_ref.kind} {issuer_ref.name} is not Ready ({state.issuer_not_ready}) "
                f"[{evidence[-1]}]: nothing it issues can succeed."
            )
            primary = issuer_ref
            contributing.insert(0, Contributing(ref, f"{expired}"))
        else:
            contributing.append(Contributing(issuer_ref, solver or "Ready"))
            change = change_of(view, state.issuer, "f:spec")
            if change is not None and (view.age_seconds(change.when) or RECENT + 1) <= 30 * 24 * 3600:
                parts.append(
                    f"What changed: {issuer_ref.kind} {issuer_ref.name} was {change.what} {change.age} "
                    "before the capture."
                )
                contributing.append(Contributing(issuer_ref, f"{change.what} at {change.when}"))
    return Finding(
        category="certificate-invalid",
        resource=primary,
        confidence=confidence,
        summary=(
            f"Certificate {ref.name} ({', '.join(spec.get('dnsNames') or [])}) {expired}"
            + (f"; renewal fails: {state.failing[-1][1][:160]}" if state.failing else "")
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"certificate": str(ref), "problem": error.problem if error else "not-ready"},
        recommendations=certificate_recommendations(state, "", serving_class),
    )


def _solver_mismatch(view, state: IssuanceState) -> tuple[str, str]:
    """An HTTP-01 challenge answered 404 because the solver publishes it under an ingress class that is not
    the one serving the host."""
    for obj, what in state.failing:
        if obj.get("kind") != "Challenge" or "wrong status code" not in what:
            continue
        spec = obj.get("spec") or {}
        ingress = ((spec.get("solver") or {}).get("http01") or {}).get("ingress") or {}
        solver_class = ingress.get("ingressClassName") or ingress.get("class") or ""
        host = spec.get("dnsName", "")
        serving = {
            (i.get("spec") or {}).get("ingressClassName")
            or ((i.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/ingress.class", "")
            for i in view.all("Ingress")
            if not ((i.get("metadata") or {}).get("labels") or {}).get("acme.cert-manager.io/http01-solver")
            and any(r.get("host") == host for r in (i.get("spec") or {}).get("rules") or [])
        } - {""}
        if solver_class and serving and solver_class not in serving:
            return (
                f"The HTTP-01 solver publishes the challenge for {host} with ingress class {solver_class}, "
                f"but {host} is "
                f"served by ingress class {', '.join(sorted(serving))}: the public controller never routes "
                "/.well-known/acme-challenge to the solver, hence the 404.",
                sorted(serving)[0],
            )
    return "", ""


def _from_bundle(ctx: Context, error: TlsError) -> Finding | None:
    """A CA bundle the client mounts holds an expired CA, or changed recently while "unknown authority"."""
    view = ctx.view
    if (
        error.pod is None
        or error.source == "webhook"
        or error.problem not in ("expired", "unknown-authority")
    ):
        return None
    workload = view.top_owner(error.pod)
    namespace = Ref.of(error.pod).namespace
    for name in configmap_names(error.pod):
        configmap = view.get("ConfigMap", namespace, name)
        if configmap is None or name == "kube-root-ca.crt":
            continue
        expired = expired_bundle_certs(configmap, view.now)
        change = change_of(view, configmap, "f:data")
        recent = change is not None and (view.age_seconds(change.when) or RECENT + 1) <= RECENT
        holds_pem = "BEGIN CERTIFICATE" in str(configmap.get("data") or {})
        if not expired and not (holds_pem and recent and error.problem == "unknown-authority"):
            continue
        evidence, parts = _opening(ctx, error, [error])
        ref = Ref.of(configmap)
        if expired:
            first = expired[0]
            detail = (
                f"ConfigMap {ref.name} key {first.key}: CA {first.subject} expired at "
                f"{first.not_after:%Y-%m-%d %H:%M UTC}"
            )
        elif change is not None:
            detail = (
                f"ConfigMap {ref.name} holds the CA certificates the client trusts; "
                f"{change.what} at {change.when}"
            )
        else:
            continue
        evidence.append(ctx.cite("config", configmap, detail))
        parts.append(
            f"The client trusts the CA bundle in ConfigMap {ref.namespace}/{ref.name} [{evidence[-1]}]: "
            f"{detail}."
        )
        if recent and change is not None:
            parts.append(f"What changed: the bundle was {change.what} {change.age} before the capture.")
        return Finding(
            category="certificate-invalid",
            resource=ref,
            confidence=0.85,
            summary=f"CA bundle ConfigMap {ref.name} "
            + ("holds an expired CA" if expired else "no longer trusts the server's issuer"),
            explanation=" ".join(parts),
            evidence=evidence,
            contributing=[Contributing(Ref.of(workload), "mounts the bundle")],
            recommendations=bundle_recommendations(ref, Ref.of(workload)),
        )
    return None


def _from_webhook(ctx: Context, error: TlsError) -> Finding | None:
    view = ctx.view
    if error.source != "webhook":
        return None
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for config in view.all(kind):
            if not any(w.get("name") == error.container for w in config.get("webhooks") or []):
                continue
            annotations = (config.get("metadata") or {}).get("annotations") or {}
            source = annotations.get("cert-manager.io/inject-ca-from", "")
            evidence, parts = _opening(ctx, error, [error])
            if "/" in source:
                cert = view.get("Certificate", *source.split("/", 1))
                if cert is not None and issuance_state(view, cert).broken:
                    return _certificate_finding(ctx, issuance_state(view, cert), evidence, parts, 0.85, error)
            ref = Ref.of(config)
            evidence.append(
                ctx.cite(
                    "spec",
                    config,
                    f"{kind} {ref.name}: webhook {error.container}, caBundle injected from "
                    f"{source or 'nothing'}",
                )
            )
            parts.append(
                f"The API server verifies webhook {error.container} with the caBundle of {kind} {ref.name} "
                f"[{evidence[-1]}], "
                "which does not match the certificate the webhook serves: every pod it should admit is "
                "refused."
            )
            return Finding(
                category="certificate-invalid",
                resource=ref,
                confidence=0.8,
                summary=f"webhook {error.container}: {_WORDS[error.problem]} ({kind} {ref.name} caBundle)",
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=[Contributing(Ref.of(error.pod), "FailedCreate")] if error.pod else [],
                recommendations=server_recommendations(ref, None),
            )
    return None


def _from_server(ctx: Context, error: TlsError) -> Finding:
    view = ctx.view
    evidence, parts = _opening(ctx, error, [error])
    host, port = error.hosts[0] if error.hosts else ("", None)
    namespace = Ref.of(error.pod).namespace if error.pod is not None else ctx.namespace
    destination = resolve(view, host, port, namespace, source="log", line=error.line) if host else None
    server = next(
        (peer.pod for peer, _port in (destination.backends if destination else []) if peer.pod is not None),
        None,
    )
    served = _ingress_secret(view, host) if host else None
    if served is not None:
        ingress, secret = served
        where = Ref.of(ingress)
        primary = Ref("Secret", where.namespace, secret)
        filled = certificate_for_secret(view, where.namespace, secret)
        source = (
            f"filled by cert-manager Certificate {Ref.of(filled).name}, which reports Ready: the "
            "controller may "
            "still serve an older copy"
            if filled is not None
            else "no cert-manager Certificate fills it"
        )
        parts.append(
            f"{host} is served by Ingress {where.namespace}/{where.name} with the certificate in Secret "
            f"{secret} "
            f"({source}): that certificate fails verification."
        )
        confidence = 0.7
    elif server is not None:
        workload_ref = Ref.of(view.top_owner(server))
        parts.append(
            f"{host} is served by {workload_ref.kind} {workload_ref.name}, whose certificate fails "
            "verification."
        )
        confidence = 0.7
        primary = workload_ref
    else:
        primary = Ref.of(view.top_owner(error.pod)) if error.pod is not None else Ref("", ctx.namespace, "")
        parts.append(
            f"{host or 'The peer'} is outside the cluster (or not resolved here): the client's trust store "
            "or the peer's "
            "certificate is at fault; nothing in the cluster issues it."
        )
        confidence = 0.6
    return Finding(
        category="certificate-invalid",
        resource=primary,
        confidence=confidence,
        summary=f"TLS to {host or 'a peer'} fails: {_WORDS[error.problem]}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=[],
        recommendations=server_recommendations(primary, Ref.of(error.pod) if error.pod is not None else None),
    )


def _ingress_secret(view, host: str) -> tuple[dict, str] | None:
    """The Ingress terminating TLS for a host, and the Secret it serves the certificate from."""
    for ingress in view.all("Ingress"):
        for tls in (ingress.get("spec") or {}).get("tls") or []:
            if host in (tls.get("hosts") or []) and tls.get("secretName"):
                return ingress, tls["secretName"]
    return None


def _broken_in_scope(ctx: Context) -> list[Finding]:
    """No client evidence: a broken Certificate behind the alert's Ingress (0.8), or, for an alert that names
    only a namespace (certificate alerts name no workload), the namespace's one broken Certificate (0.55)."""
    view = ctx.view
    certs = []
    for ingress in ingresses_in_scope(ctx):
        for tls in (ingress.get("spec") or {}).get("tls") or []:
            cert = certificate_for_secret(view, Ref.of(ingress).namespace, tls.get("secretName", ""))
            if cert is not None:
                certs.append(cert)
    for cert in certs:
        state = issuance_state(view, cert)
        if state.broken:
            return [_certificate_finding(ctx, state, [], [], 0.8, None)]
    if not ctx.target.known and ctx.namespace:
        broken = [
            s for s in (issuance_state(view, c) for c in view.all("Certificate", ctx.namespace)) if s.broken
        ]
        if len(broken) == 1:
            return [_certificate_finding(ctx, broken[0], [], [], 0.55, None)]
    return []
