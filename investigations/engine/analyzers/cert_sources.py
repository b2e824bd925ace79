"""certificate-invalid when no failing cert-manager Certificate explains the error: a CA bundle the client
mounts, a webhook configuration's caBundle, the secret an Ingress serves, or the serving workload.
"""

from __future__ import annotations

from investigations.engine.analyzers.cert_findings import WORDS, certificate_finding, opening
from investigations.engine.analyzers.cert_fixes import bundle_recommendations, server_recommendations
from investigations.engine.analyzers.destinations import resolve
from investigations.engine.analyzers.helpers import RECENT
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.analyzers.tls_facts import (
    TlsError,
    certificate_for_secret,
    expired_bundle_certs,
    issuance_state,
)
from investigations.engine.analyzers.workload_facts import configmap_names
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref


def from_bundle(ctx: Context, error: TlsError) -> Finding | None:
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
        evidence, parts = opening(ctx, error, [error])
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


def from_webhook(ctx: Context, error: TlsError) -> Finding | None:
    view = ctx.view
    if error.source != "webhook":
        return None
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for config in view.all(kind):
            if not any(w.get("name") == error.container for w in config.get("webhooks") or []):
                continue
            annotations = (config.get("metadata") or {}).get("annotations") or {}
            source = annotations.get("cert-manager.io/inject-ca-from", "")
            evidence, parts = opening(ctx, error, [error])
            if "/" in source:
                cert = view.get("Certificate", *source.split("/", 1))
                if cert is not None and issuance_state(view, cert).broken:
                    return certificate_finding(ctx, issuance_state(view, cert), evidence, parts, 0.85, error)
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
                summary=f"webhook {error.container}: {WORDS[error.problem]} ({kind} {ref.name} caBundle)",
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=[Contributing(Ref.of(error.pod), "FailedCreate")] if error.pod else [],
                recommendations=server_recommendations(ref, None),
            )
    return None


def from_server(ctx: Context, error: TlsError) -> Finding:
    view = ctx.view
    evidence, parts = opening(ctx, error, [error])
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
        summary=f"TLS to {host or 'a peer'} fails: {WORDS[error.problem]}",
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
