"""Recommendations for certificate-invalid: see why issuance fails (CertificateRequest, Order,
Challenge, Issuer), retry once fixed, add a missing host name, restore a CA bundle, and alert on
expiry before clients notice.
"""

from __future__ import annotations

from investigations.engine import kubectl
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analyzers.tls_facts import IssuanceState
from investigations.engine.evidence import Ref
from investigations.engine.kubectl import Recommendation

_EXPIRY_ALERT = Recommendation(
    "Alert on certificates before they expire",
    "preventive",
    "Alert when a Certificate is not Ready or expires within 14 days "
    "(certmanager_certificate_expiration_timestamp_"
    "seconds, certmanager_certificate_ready_status), and when renewal attempts fail.",
    [],
)


def certificate_recommendations(
    state: IssuanceState, missing_host: str, solver_class: str = ""
) -> list[Recommendation]:
    ref = Ref.of(state.cert)
    out = []
    diagnose = [
        kpol.describe_kind("Certificate", ref.namespace, ref.name),
        kpol.get_kind("certificaterequest,order,challenge", ref.namespace, "", "wide"),
    ]
    deepest = [obj for obj, _what in state.failing if obj.get("kind") in ("Challenge", "Order")]
    deepest.sort(key=lambda o: o.get("kind") != "Challenge")
    for obj in deepest[:1]:
        diagnose.append(kpol.describe_kind(obj.get("kind", ""), Ref.of(obj).namespace, Ref.of(obj).name))
    if state.issuer is not None:
        issuer = Ref.of(state.issuer)
        diagnose.append(kpol.describe_kind(issuer.kind, issuer.namespace, issuer.name))
    out.append(
        Recommendation(
            f"See why {ref.name} is not issued",
            "immediate",
            "The failing step (request, ACME order, challenge, issuer) says what to fix: a challenge the "
            "solver "
            "cannot answer, credentials the issuer lacks, a rate limit.",
            diagnose,
        )
    )
    if solver_class and state.issuer is not None:
        issuer = Ref.of(state.issuer)
        solvers = ((state.issuer.get("spec") or {}).get("acme") or {}).get("solvers") or []
        index = next(
            (i for i, solver in enumerate(solvers) if (solver.get("http01") or {}).get("ingress")), None
        )
        if index is not None:
            out.append(
                Recommendation(
                    f"Publish the HTTP-01 challenge under ingress class {solver_class}",
                    "immediate",
                    f"The {issuer.kind}'s solver must use the class of the controller that serves the host "
                    "(commit it "
                    "where the issuer is managed).",
                    [
                        kpol.patch_json(
                            issuer,
                            [
                                {
                                    "op": "replace",
                                    "path": f"/spec/acme/solvers/{index}/http01/ingress/ingressClassName",
                                    "value": solver_class,
                                }
                            ],
                        )
                    ],
                )
            )
    if missing_host:
        out.append(
            Recommendation(
                f"Add {missing_host} to Certificate {ref.name}",
                "immediate",
                "cert-manager issues a new certificate that covers the host.",
                [kpol.patch_json(ref, [{"op": "add", "path": "/spec/dnsNames/-", "value": missing_host}])],
            )
        )
    requests = [obj for obj, _what in state.failing if obj.get("kind") == "CertificateRequest"]
    if requests:
        request = Ref.of(requests[0])
        out.append(
            Recommendation(
                "Retry the issuance once the cause is fixed",
                "immediate",
                "cert-manager backs off after failures; removing the failed request makes it try again now.",
                [
                    f"kubectl -n {kubectl.q(request.namespace)} delete certificaterequest "
                    f"{kubectl.q(request.name)}",
                    kpol.get_kind("Certificate", ref.namespace, ref.name, "wide"),
                ],
            )
        )
    out.append(_EXPIRY_ALERT)
    return out


def bundle_recommendations(configmap: Ref, workload: Ref) -> list[Recommendation]:
    return [
        Recommendation(
            f"Restore a CA bundle that trusts the server's issuer in ConfigMap {configmap.name}",
            "immediate",
            "Put back (or add) the CA that signs the server certificates, keeping old and new CAs side by "
            "side "
            "during a rotation; pods read the mounted file again after a restart.",
            [kubectl.get_yaml(configmap), kubectl.edit(configmap)]
            + (
                [kubectl.rollout_restart(workload)]
                if workload.kind in ("Deployment", "StatefulSet", "DaemonSet")
                else []
            ),
        ),
        Recommendation(
            "Rotate CAs with an overlap",
            "preventive",
            "Distribute a new CA to every client (trust-manager Bundle or the like) before servers switch "
            "to it, and "
            "alert on CA bundle expiry.",
            [],
        ),
    ]


def server_recommendations(server: Ref, client: Ref | None) -> list[Recommendation]:
    commands = [kubectl.describe(server)] if server.kind else []
    if client is not None and client.kind == "Pod":
        commands.append(kubectl.logs(client, tail=50))
    return [
        Recommendation(
            "Check the certificate the server presents",
            "immediate",
            "Its expiry, names and issuer against what the clients expect; renew or reissue it, or fix the "
            "clients' "
            "trust store.",
            commands,
        ),
        _EXPIRY_ALERT,
    ]
