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
from investigations.engine.analyzers.cert_findings import certificate_finding, opening
from investigations.engine.analyzers.cert_fixes import (
    certificate_recommendations,
)
from investigations.engine.analyzers.cert_sources import from_bundle, from_server, from_webhook
from investigations.engine.analyzers.connections import pod_logs
from investigations.engine.analyzers.helpers import creators_in_scope
from investigations.engine.analyzers.service_lookup import ingresses_in_scope
from investigations.engine.analyzers.tls_facts import (
    TlsError,
    certificate_for_secret,
    certificates_for_host,
    issuance_state,
    tls_error,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Finding, Ref


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
    finding = _from_certificates(ctx, error, errors) or from_bundle(ctx, error) or from_webhook(ctx, error)
    return [finding or from_server(ctx, error)]


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
    evidence, parts = opening(ctx, error, errors)
    if broken:
        return certificate_finding(ctx, broken[0], evidence, parts, 0.9, error)
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
            return [certificate_finding(ctx, state, [], [], 0.8, None)]
    if not ctx.target.known and ctx.namespace:
        broken = [
            s for s in (issuance_state(view, c) for c in view.all("Certificate", ctx.namespace)) if s.broken
        ]
        if len(broken) == 1:
            return [certificate_finding(ctx, broken[0], [], [], 0.55, None)]
    return []
