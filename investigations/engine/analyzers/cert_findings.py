"""How certificate-invalid findings read: the failing TLS call in the client's words, and a cert-manager
Certificate's state with the failing step of its issuance and its issuer.
"""

from __future__ import annotations

from investigations.engine.analyzers.cert_fixes import certificate_recommendations
from investigations.engine.analyzers.helpers import RECENT, quote_line
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.analyzers.tls_facts import IssuanceState, TlsError
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, event_time
from investigations.engine.facts import ts

WORDS = {
    "expired": "the certificate has expired",
    "hostname": "the certificate is not valid for the host name used",
    "unknown-authority": "the certificate is signed by an authority the client does not trust",
    "rejected": "the peer rejects the certificate presented",
    "other": "certificate verification fails",
}


def opening(ctx: Context, error: TlsError, errors: list[TlsError]) -> tuple[list[str], list[str]]:
    pod_ref = Ref.of(error.pod) if error.pod is not None else None
    kind = "previous_log" if error.previous else ("event" if error.source != "log" else "log")
    evidence = [ctx.cite(kind, error.pod or {}, quote_line(error.line, 400))] if error.pod is not None else []
    clients = sorted({Ref.of(ctx.view.top_owner(e.pod)).name for e in errors if e.pod is not None})
    where = ", ".join(f"{h}:{p}" if p else h for h, p in error.hosts[:2]) or "its peer"
    parts = [
        f"TLS verification fails in {', '.join(clients) or 'the client'} when connecting to {where}: "
        f"{WORDS[error.problem]} "
        f'("{quote_line(error.line, 300)}")' + (f" [{evidence[0]}]." if evidence else ".")
    ]
    if pod_ref is None:
        parts[0] = parts[0].replace("the client", "the API server")
    return evidence, parts


def certificate_finding(
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
    solver, serving_class = solver_mismatch(view, state)
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


def solver_mismatch(view, state: IssuanceState) -> tuple[str, str]:
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
