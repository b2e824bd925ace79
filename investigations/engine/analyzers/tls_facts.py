"""TLS facts for certificate-invalid: certificate errors in log lines and probe/webhook messages, the
cert-manager objects behind a host (Certificate → CertificateRequest → Order → Challenge, and its
Issuer), and the CA certificates a ConfigMap bundle holds (parsed, with their expiry).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from investigations.engine.analyzers.connections import service_for_host
from investigations.engine.analyzers.destinations import host_ports
from investigations.engine.evidence import ClusterView, Ref, parse_time

_ERRORS = (
    (
        "expired",
        re.compile(
            r"certificate has expired|certificate expired|CERT_HAS_EXPIRED|CertificateExpiredException|"
            r"x509: certificate has expired or is not yet valid|validity check failed|NotAfter:",
            re.I,
        ),
    ),
    (
        "hostname",
        re.compile(
            r"x509: certificate is valid for [^\n]+?, not [\w.*-]+|Hostname/IP does not match "
            r"certificate's altnames|"
            r"ERR_TLS_CERT_ALTNAME_INVALID|doesn't match any of the subject alternative names|hostname "
            r"mismatch|"
            r"No subject alternative (?:DNS )?names? matching",
            re.I,
        ),
    ),
    (
        "unknown-authority",
        re.compile(
            r"certificate signed by unknown authority|unable to get local issuer certificate|"
            r"self[- ]signed certificate in certificate "
            r"chain|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|"
            r"PKIX path building failed|unable to find valid certification path|tls: unknown certificate "
            r"authority|"
            r"DEPTH_ZERO_SELF_SIGNED_CERT",
            re.I,
        ),
    ),
    (
        "rejected",
        re.compile(r"remote error: tls: (?:bad certificate|certificate required|expired certificate)", re.I),
    ),
)
_X509_ANY = re.compile(r"x509:|certificate verify failed|SSLHandshakeException|tls: failed to verify", re.I)
_VALID_FOR = re.compile(r"x509: certificate is valid for (?P<names>[^\n]+?), not (?P<host>[\w.*-]+)")


@dataclasses.dataclass
class TlsError:
    pod: dict | None
    container: str
    line: str
    problem: str  # expired | hostname | unknown-authority | rejected | other
    hosts: list[tuple[str, int | None]]
    previous: bool = False
    source: str = "log"  # log | event

    @property
    def valid_for(self) -> str:
        match = _VALID_FOR.search(self.line)
        return match.group("names") if match else ""


def tls_problem(line: str) -> str:
    for name, pattern in _ERRORS:
        if pattern.search(line):
            return name
    return "other" if _X509_ANY.search(line) else ""


def tls_error(
    line: str, pod: dict | None, container: str, previous: bool, source: str = "log"
) -> TlsError | None:
    problem = tls_problem(line)
    if not problem:
        return None
    hosts = [
        (h, p) for h, p in host_ports(line) if not re.fullmatch(r"\d+(?:\.\d+)*", h) or h.count(".") == 3
    ]
    return TlsError(pod, container, line.strip()[:500], problem, hosts, previous, source)


# -- cert-manager -------------------------------------------------------------------------------


def condition(obj: dict, kind: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def _matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host.count(".") == pattern.count(".")
    return pattern == host


def certificates_for_host(view: ClusterView, host: str, namespace: str = "") -> list[dict]:
    """Certificates covering the host: by dnsNames/commonName (a Service's every spelling), the secret an
    Ingress serving it names, or the secret the pods behind its Service mount."""
    found: list[dict] = []
    spellings = {host.lower()}
    service = service_for_host(view, host, namespace) if namespace else None
    if service is not None:
        ref = Ref.of(service)
        spellings |= {f"{ref.name}.{ref.namespace}", f"{ref.name}.{ref.namespace}.svc"}
        spellings |= {f"{ref.name}.{ref.namespace}.svc.cluster.local"}
        if ref.namespace == namespace:
            spellings.add(ref.name)
    for cert in view.all("Certificate"):
        spec = cert.get("spec") or {}
        names = list(spec.get("dnsNames") or []) + ([spec["commonName"]] if spec.get("commonName") else [])
        if any(_matches(n, h) for n in names for h in spellings):
            found.append(cert)
    for pod in view.pods_selected_by(service) if service is not None else []:
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            secret = (volume.get("secret") or {}).get("secretName", "")
            mounted = certificate_for_secret(view, Ref.of(pod).namespace, secret) if secret else None
            if mounted is not None and all(mounted is not c for c in found):
                found.append(mounted)
    for ingress in view.all("Ingress"):
        for tls in (ingress.get("spec") or {}).get("tls") or []:
            if any(_matches(h, host) for h in tls.get("hosts") or []):
                served = certificate_for_secret(view, Ref.of(ingress).namespace, tls.get("secretName", ""))
                if served is not None and all(served is not c for c in found):
                    found.append(served)
    return found


def certificate_for_secret(view: ClusterView, namespace: str, secret: str) -> dict | None:
    for cert in view.all("Certificate", namespace):
        if (cert.get("spec") or {}).get("secretName") == secret:
            return cert
    return None


def issuer_of(view: ClusterView, cert: dict) -> dict | None:
    ref = (cert.get("spec") or {}).get("issuerRef") or {}
    if ref.get("kind") == "ClusterIssuer":
        return view.get("ClusterIssuer", "", ref.get("name", ""))
    return view.get("Issuer", Ref.of(cert).namespace, ref.get("name", ""))


def _latest_owned(view: ClusterView, owner: dict, kind: str) -> dict | None:
    owned = sorted(
        view.owned_by(owner, kind),
        key=lambda o: (o.get("metadata") or {}).get("creationTimestamp") or "",
        reverse=True,
    )
    return owned[0] if owned else None


@dataclasses.dataclass
class IssuanceState:
    """Why a Certificate is not valid, and what in its issuance chain fails."""

    cert: dict
    expired_at: str = ""  # notAfter, when in the past
    not_ready: str = ""  # Ready=False reason: message
    failing: list[tuple[dict, str]] = dataclasses.field(default_factory=list)  # (object, what fails)
    issuer: dict | None = None
    issuer_not_ready: str = ""

    @property
    def broken(self) -> bool:
        return bool(self.expired_at or self.not_ready)


def issuance_state(view: ClusterView, cert: dict) -> IssuanceState:
    status = cert.get("status") or {}
    state = IssuanceState(cert)
    not_after = parse_time(status.get("notAfter"))
    ready = condition(cert, "Ready")
    if not_after is not None and not_after <= view.now and ready.get("status") != "True":
        # cert-manager keeps Ready current; a Ready certificate read after the capture is not expired
        state.expired_at = status.get("notAfter", "")
    if ready.get("status") == "False":
        state.not_ready = f"{ready.get('reason', '')}: {ready.get('message', '')}".strip(": ")
    issuing = condition(cert, "Issuing")
    if issuing.get("status") == "False" and issuing.get("reason") == "Failed":
        state.failing.append((cert, f"Issuing failed: {issuing.get('message', '')}"))
    request = _latest_owned(view, cert, "CertificateRequest")
    if request is not None:
        request_ready = condition(request, "Ready")
        if request_ready.get("status") == "False" or condition(request, "Denied").get("status") == "True":
            state.failing.append(
                (request, f"{request_ready.get('reason', '')}: {request_ready.get('message', '')}")
            )
        order = _latest_owned(view, request, "Order")
        if order is not None and (order.get("status") or {}).get("state") not in (None, "valid"):
            order_status = order.get("status") or {}
            state.failing.append(
                (order, f"state {order_status.get('state')}: {order_status.get('reason', '')}".strip(": "))
            )
            for challenge in view.owned_by(order, "Challenge"):
                challenge_status = challenge.get("status") or {}
                if challenge_status.get("state") != "valid":
                    state.failing.append(
                        (
                            challenge,
                            f"{(challenge.get('spec') or {}).get('type', '')} challenge for "
                            f"{(challenge.get('spec') or {}).get('dnsName', '')}: state "
                            f"{challenge_status.get('state')}, "
                            f"{challenge_status.get('reason', '')}",
                        )
                    )
    state.issuer = issuer_of(view, cert)
    if state.issuer is not None:
        issuer_ready = condition(state.issuer, "Ready")
        if issuer_ready.get("status") == "False":
            state.issuer_not_ready = f"{issuer_ready.get('reason', '')}: {issuer_ready.get('message', '')}"
    return state


# -- CA bundles in ConfigMaps --------------------------------------------------------------------


@dataclasses.dataclass
class BundleCert:
    configmap: dict
    key: str
    subject: str
    not_after: datetime


def bundle_certificates(configmap: dict) -> list[BundleCert]:
    """The X.509 certificates (PEM) a ConfigMap holds, parsed; [] when none or unparseable."""
    found: list[BundleCert] = []
    for key, value in (configmap.get("data") or {}).items():
        if "-----BEGIN CERTIFICATE-----" not in str(value):
            continue
        try:
            from cryptography import x509

            certs = x509.load_pem_x509_certificates(str(value).encode())
        except (ValueError, ImportError):
            continue
        for cert in certs:
            found.append(BundleCert(configmap, key, cert.subject.rfc4514_string(), cert.not_valid_after_utc))
    return found


def expired_bundle_certs(configmap: dict, now: datetime) -> list[BundleCert]:
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return [c for c in bundle_certificates(configmap) if c.not_after <= now]
