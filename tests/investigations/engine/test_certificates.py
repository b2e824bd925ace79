"""certificate-invalid: the scenario, renamed copies and variants (the issuer not Ready, a host the
certificate does not list, an expired CA in a bundle the client mounts, a renewed certificate), error
classification, and the analyzer as a bystander."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from investigations.engine.analyzers.tls_facts import tls_problem
from tests.investigations.engine.harness import (
    PROJECT_SCENARIOS,
    by_category,
    commands,
    copy_scenario,
    describe,
    edit_cluster,
    find,
    findings,
    other_scenarios,
    root,
    run,
)

CATEGORY = "certificate-invalid"
ACME = PROJECT_SCENARIOS / "mobile-bff-x509-expired-certificate-acme-http01-wrong-ingress-class"


@pytest.mark.parametrize("folder", by_category(CATEGORY), ids=lambda d: d.name)
def test_certificate_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["root_cause"]["confidence"] >= 0.85
    assert any(r["kind"] == "preventive" for r in result["recommendations"])


def test_certificate_renamed(tmp_path):
    folder = copy_scenario(
        ACME,
        tmp_path,
        [
            ("storefront-api-tls", "catalog-edge-tls"),
            ("api.shop.example.com", "catalog.example.org"),
            ("letsencrypt-prod", "acme-public"),
            ("nginx-public", "edge"),
            ('"storefront"', '"catalog"'),
            ("storefront/", "catalog/"),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert root(result) == (CATEGORY, ("Certificate", "catalog", "catalog-edge-tls"))
    # the solver publishes under class nginx while the host is served by class edge
    assert '"path":"/spec/acme/solvers/0/http01/ingress/ingressClassName","value":"edge"' in commands(result)


def test_certificate_issuer_not_ready_is_named(tmp_path):
    folder = copy_scenario(ACME, tmp_path)

    def broken_issuer(data):
        issuer = find(data, "ClusterIssuer", "letsencrypt-prod")
        issuer["status"]["conditions"] = [
            {
                "type": "Ready",
                "status": "False",
                "reason": "ErrRegisterACMEAccount",
                "message": "Failed to register ACME account: secret letsencrypt-prod-account-key not found",
            }
        ]

    edit_cluster(folder, broken_issuer)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("ClusterIssuer", "", "letsencrypt-prod"))
    assert "ErrRegisterACMEAccount" in result["root_cause"]["explanation"]


def _renewed(data: dict) -> None:
    cert = find(data, "Certificate", "storefront-api-tls")
    cert["status"] = {
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date"}
        ],
        "notAfter": "2026-01-05T07:02:11Z",
        "notBefore": "2025-10-07T07:02:12Z",
    }
    data["items"] = [
        o for o in data["items"] if o["kind"] not in ("CertificateRequest", "Order", "Challenge")
    ]


def test_certificate_host_not_listed(tmp_path):
    """The certificate is valid but does not cover the host the client uses."""
    folder = copy_scenario(ACME, tmp_path)

    def mismatch(data):
        _renewed(data)
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                '"message":"certificate has expired","code":"CERT_HAS_EXPIRED"',
                '"message":"x509: certificate is valid for api.shop.example.com, not '
                'api-v2.shop.example.com"',
            ).replace("https://api.shop.example.com/v2", "https://api-v2.shop.example.com/v2")
        ingress = find(data, "Ingress", "storefront-api")
        ingress["spec"]["tls"][0]["hosts"].append("api-v2.shop.example.com")

    edit_cluster(folder, mismatch)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Certificate", "storefront", "storefront-api-tls"))
    assert '"path":"/spec/dnsNames/-","value":"api-v2.shop.example.com"' in commands(result)


def test_certificate_renewed_is_not_blamed(tmp_path):
    """The Certificate is Ready again: the clients' old errors do not make it the cause."""
    folder = copy_scenario(ACME, tmp_path)
    edit_cluster(folder, _renewed)
    result, _outcome = run(folder)
    assert root(result)[1] != ("Certificate", "storefront", "storefront-api-tls")


def _expired_ca_pem() -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corp-internal-root-2022")])
    start = dt.datetime(2022, 9, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=1095))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_certificate_expired_ca_in_the_bundle_the_client_mounts(tmp_path):
    folder = copy_scenario(ACME, tmp_path)
    pem = _expired_ca_pem()

    def bundle(data):
        data["items"] = [
            o
            for o in data["items"]
            if o["kind"] not in ("Certificate", "CertificateRequest", "Order", "Challenge")
        ]
        data["items"].append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "corp-ca-bundle", "namespace": "storefront"},
                "data": {"ca-bundle.crt": pem},
            }
        )
        for obj in data["items"]:
            if obj["kind"] in ("Pod", "Deployment", "ReplicaSet") and obj["metadata"]["name"].startswith(
                "mobile-bff"
            ):
                spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
                spec["volumes"] = [{"name": "ca", "configMap": {"name": "corp-ca-bundle"}}]
                spec["containers"][0]["volumeMounts"] = [{"name": "ca", "mountPath": "/etc/ssl/corp"}]
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                '"message":"certificate has expired","code":"CERT_HAS_EXPIRED"',
                '"message":"unable to get local issuer '
                'certificate","code":"UNABLE_TO_GET_ISSUER_CERT_LOCALLY"',
            )

    edit_cluster(folder, bundle)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("ConfigMap", "storefront", "corp-ca-bundle"))
    assert "corp-internal-root-2022" in result["root_cause"]["explanation"]
    assert "expired" in result["root_cause"]["explanation"]


@pytest.mark.parametrize("folder", other_scenarios(CATEGORY), ids=lambda d: d.name)
def test_certificate_stays_quiet_elsewhere(folder):
    analysis = findings(folder)
    assert not [e for e in analysis.errors if e.startswith(("certificates.", "tls_facts.", "cert_fixes."))]
    expected = json.loads((folder / "expected.json").read_text())["root_cause_category"]
    ceiling = 0.35 if expected == "unknown" else 0.6
    assert not [
        (f.summary, f.confidence)
        for f in analysis.findings
        if f.category == CATEGORY and f.confidence >= ceiling
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            'Get "https://a.b:443/x": x509: certificate has expired or is not yet valid: current time x is '
            "after y",
            "expired",
        ),
        (
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
            "certificate has expired",
            "expired",
        ),
        ("Error: certificate has expired code: 'CERT_HAS_EXPIRED'", "expired"),
        (
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
            "unknown-authority",
        ),
        (
            "PKIX path building failed: unable to find valid certification path to requested target",
            "unknown-authority",
        ),
        ("x509: certificate is valid for www.example.com, example.com, not api.example.com", "hostname"),
        (
            "Hostname/IP does not match certificate's altnames: Host: a.b. is not in the cert's altnames",
            "hostname",
        ),
        ("remote error: tls: bad certificate", "rejected"),
        ("SSLHandshakeException: Received fatal alert: handshake_failure", "other"),
        ("GET /healthz 200", ""),
    ],
)
def test_tls_problem_classes(line, problem):
    assert tls_problem(line) == problem


def test_certificate_of_an_in_cluster_service_found_through_the_secret_its_pods_mount(tmp_path):
    """Internal TLS: the client calls the Service by its cluster name; the Certificate fills the secret the
    server's pods mount."""
    folder = copy_scenario(ACME, tmp_path)

    def internal(data):
        cert = find(data, "Certificate", "storefront-api-tls")
        cert["spec"]["dnsNames"] = ["storefront-api-internal"]  # none of the names the client uses
        cert["spec"]["secretName"] = "storefront-api-serving"
        for obj in data["items"]:
            if obj["kind"] == "Pod" and obj["metadata"]["name"].startswith("storefront-api-"):
                obj["spec"]["volumes"] = [{"name": "tls", "secret": {"secretName": "storefront-api-serving"}}]
        for key, text in data["logs"].items():
            data["logs"][key] = text.replace(
                "https://api.shop.example.com/v2", "https://storefront-api.storefront.svc.cluster.local:80/v2"
            )

    edit_cluster(folder, internal)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Certificate", "storefront", "storefront-api-tls"))


def test_certificate_alert_naming_only_a_namespace(tmp_path):
    """A certificate alert names the namespace, no workload: its one broken Certificate, cautiously."""
    folder = copy_scenario(ACME, tmp_path)
    body = json.loads((folder / "alert.json").read_text())
    body["alerts"][0]["labels"] = {"alertname": "CertificateNotReady", "namespace": "storefront", "name": "x"}
    (folder / "alert.json").write_text(json.dumps(body))
    edit_cluster(folder, lambda d: d.update(logs={}))
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Certificate", "storefront", "storefront-api-tls"))
    assert result["root_cause"]["confidence"] == 0.55
