"""SNS envelope parsing, signature verification, certificate sourcing and subscription confirmation.

No test touches the network: certificates come from a temporary cert_dir or an injected fetcher
that records its calls, and SubscribeURL GETs go to an injected recorder.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from alerts import sns
from alerts.sns import (
    CONFIRMED,
    FAILED,
    REFUSED,
    CertificateCache,
    FetchFailed,
    SnsError,
    confirm_subscribe_url,
    confirmation_refusal,
    confirmation_url_allowed,
    parse_envelope,
    signing_cert_url_allowed,
    string_to_sign,
    verify_envelope,
    verify_signature,
)
from tests.alerts.sns_signing import (
    CERT_NAME,
    REGION,
    SUBSCRIBE_URL,
    make_certificate_pem,
    make_test_cert,
    notification_envelope,
    sign_envelope,
    subscription_confirmation_envelope,
    throwaway_key,
)

VERSIONS = ("1", "2")
EVIL_CERT_URLS = [
    "http://sns.us-east-1.amazonaws.com/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com.evil.com/" + CERT_NAME,
    "https://evil.com/sns.us-east-1.amazonaws.com/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com@evil.com/" + CERT_NAME,
    "https://user:pass@sns.us-east-1.amazonaws.com/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com:8443/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com:443/" + CERT_NAME,
    "https://54.239.28.85/" + CERT_NAME,
    "https://[::1]/" + CERT_NAME,
    "https://SNS.US-EAST-1.AMAZONAWS.COM/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com./" + CERT_NAME,
    "https://evilsns.us-east-1.amazonaws.com/" + CERT_NAME,
    "https://sns.amazonaws.com/" + CERT_NAME,
    "https://s3.us-east-1.amazonaws.com/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com\\@evil.com/" + CERT_NAME,
    "https://sns.us-east-1.amazon\taws.com/" + CERT_NAME,
    "https://sns.us-east-1.amazonaws.com/" + CERT_NAME + "?x=1",
    "https://sns.us-east-1.amazonaws.com/" + CERT_NAME + "#frag",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.crt",
    "https://sns.us-east-1.amazonaws.com/",
    "https://sns.cn-north-1.amazonaws.com/evil.pem.com",
    "ftp://sns.us-east-1.amazonaws.com/" + CERT_NAME,
    "",
]
TRAVERSAL_CERT_URLS = [
    "https://sns.us-east-1.amazonaws.com/../secret.pem",
    "https://sns.us-east-1.amazonaws.com/%2e%2e%2fsecret.pem",
    "https://sns.us-east-1.amazonaws.com/..%2Fsecret.pem",
    "https://sns.us-east-1.amazonaws.com/certs/../../secret.pem",
    "https://sns.us-east-1.amazonaws.com/..\\secret.pem",
]

# Real deliveries signed by AWS, with the certificate that signed them, from the functional tests
# of AWS's own validator (aws/aws-php-sns-message-validator, tests/FunctionalValidationsTest.php,
# Apache-2.0). They prove the string to sign matches AWS, not only our own signer.
AWS_CERT_NAME = "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem"
AWS_CERT_PEM = """-----BEGIN CERTIFICATE-----
MIIF1zCCBL+gAwIBAgIQB9pYWG3Mi7xej22g9pobJTANBgkqhkiG9w0BAQsFADBG
MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRUwEwYDVQQLEwxTZXJ2ZXIg
Q0EgMUIxDzANBgNVBAMTBkFtYXpvbjAeFw0yMTA5MDcwMDAwMDBaFw0yMjA4MTcy
MzU5NTlaMBwxGjAYBgNVBAMTEXNucy5hbWF6b25hd3MuY29tMIIBIjANBgkqhkiG
9w0BAQEFAAOCAQ8AMIIBCgKCAQEAutFqueT3XgP13udzxE6UpbdjOtVO5DwoMpSM
iDNMnGzF1TYH5/R2LPUOBeTB0SkKnR4kpNcUZhicpGD4aKciz/GEZ6wu65xncfT9
H/KBOQwoXYTuClHwp6fYpGzcGFaFoEYMnijL/o4qmTSd+ukglQUgKpsDw4ofw6rU
m2CttJo+GQSNQ9NfGR1h/0J+zsApkeSYrXRx5wNlu87z8os1C/6PBrUHwt3xXeaf
Xzfwut8aRRYsS8BySOA9DAgLfNHlfdQCjKPXKrG/ussgReyWD6n/HH+j7Uha3xos
TzQqJifcxlTq6MxWdPR6fDaJNvqw6DOE7UjUNxHguXHlVfxhlQIDAQABo4IC6TCC
AuUwHwYDVR0jBBgwFoAUWaRmBlKge5WSPKOUByeWdFv5PdAwHQYDVR0OBBYEFAqz
C+vyouneE7mWWLbi9i0UsWUbMBwGA1UdEQQVMBOCEXNucy5hbWF6b25hd3MuY29t
MA4GA1UdDwEB/wQEAwIFoDAdBgNVHSUEFjAUBggrBgEFBQcDAQYIKwYBBQUHAwIw
OwYDVR0fBDQwMjAwoC6gLIYqaHR0cDovL2NybC5zY2ExYi5hbWF6b250cnVzdC5j
b20vc2NhMWIuY3JsMBMGA1UdIAQMMAowCAYGZ4EMAQIBMHUGCCsGAQUFBwEBBGkw
ZzAtBggrBgEFBQcwAYYhaHR0cDovL29jc3Auc2NhMWIuYW1hem9udHJ1c3QuY29t
MDYGCCsGAQUFBzAChipodHRwOi8vY3J0LnNjYTFiLmFtYXpvbnRydXN0LmNvbS9z
Y2ExYi5jcnQwDAYDVR0TAQH/BAIwADCCAX0GCisGAQQB1nkCBAIEggFtBIIBaQFn
AHYAKXm+8J45OSHwVnOfY6V35b5XfZxgCvj5TV0mXCVdx4QAAAF7vfDVkQAABAMA
RzBFAiEA2XfHuy36aqRFiaL8c3md2mH451go8707+fRE0pEdSRACIE/g5FXTUXUZ
PFcmOhm9TZ+uMY1i4CIQ/CKVWln6C3t+AHYAUaOw9f0BeZxWbbg3eI8MpHrMGyfL
956IQpoN/tSLBeUAAAF7vfDVjAAABAMARzBFAiBF1MhhFP0+FQt3daDFfMYoWwnr
muTInrjNpwfzlvQBugIhAPYadFzr+LaxSJoiZEbEHBvTts7bT0M3eCQONA2O7w6n
AHUAQcjKsd8iRkoQxqE6CUKHXk4xixsD6+tLx2jwkGKWBvYAAAF7vfDVdAAABAMA
RjBEAiAtPapmFAuA71ih4NoSd5hJelzAltNQpxDMcDfDyHyU8gIgWxmaa6+2KbBu
9xdv379zvnJACFR7jc+4asl08Dn4aagwDQYJKoZIhvcNAQELBQADggEBAA54QX0u
oFWXfMmv02CGZv4NWo5TapyeeixQ2kKpZHRdVZjxZrw+hoF6HD7P3kGjH8ztyJll
tDxB0qgMltbPhQdScwhA6iTgoaBYqEUC/VHKd4PmmPT6yIsM36NBZVmkGlzl5uNo
/dBgBaG0SsVJnhr5zro3c2quC7n6fVGEZhf/UgQwRnnvThnvbNKguglDMq4uEqv8
njKyleht+glkcmXO0m9qLKt6BOS0amy6U2GlAwRn0Wx02ndJtnRCSC6kPuRWK/SQ
FEjB7gCK4hdKaAOuWdZpI55vF6ifOeM8toC3g7ofO8qLTnJupAG+ZitY5J3cvHWr
HqOUdKigPDHYLRo=
-----END CERTIFICATE-----
"""
AWS_SIGNED = [
    {
        "Type": "Notification",
        "MessageId": "792cda85-518f-5dd3-9163-81d851212f3a",
        "TopicArn": "arn:aws:sns:us-east-2:295079676684:publish-and-verify-"
        "892f85fe-4836-424d-8188-ab85bef0f362",
        "Message": "Hello world",
        "Timestamp": "2022-07-28T21:23:58.317Z",
        "SignatureVersion": "1",
        "Signature": (
            "ghtf+deOBAzHJJZ6s6CdRLfTQAlcGzq9naoFM1wi0CJiq//uVRuZnamrkWNF0fhouMFvuLVRwcz8PZLUMSfnmd5VpdTKpTyiKmy1"
            "qJAZXma0w+yi7G+I33hD1Jyk1Nbym2n0kqp3fVu2aoooiN2ZeLAT2bH0/BtjLSfN1yAOKNoprco4qV9gGUZinXJdj9a1YdNhDR2j"
            "Ki33ldlsVtEXAtiaDklGEk7DgRKX38GerBPiLg3FdtgY6KC7cdeGpU/dGK+4hjc83Ive1HoFkAwqhpgInM2sMytBosoiXfCmOKmU"
            "4xeGD0gHDNZTlJUJQDlzw8Eag0H9f/5zXF9d3uy0YQ=="
        ),
        "SigningCertURL": f"https://sns.us-east-2.amazonaws.com/{AWS_CERT_NAME}",
    },
    {
        "Type": "Notification",
        "MessageId": "4504e649-d933-5aa9-8199-bd14ccf05f0b",
        "TopicArn": "arn:aws:sns:us-east-2:295079676684:publish-and-verify-"
        "530b26da-0687-4fe4-9f71-780bad3181e2",
        "Subject": "Hello world",
        "Message": "Hello world",
        "Timestamp": "2022-07-28T22:53:55.086Z",
        "SignatureVersion": "2",
        "Signature": (
            "cETcSvmmkt+My05qCLKexyl0+RyG83mSryKPqTfS+tYcxDJWVcjPJAr+qdpElzVaBl1aTGYVWMY64i9JqZ/JES8pylNj8LGvdhuN"
            "QKO59/WCoIimZAsNhn0xEgOeeDU+W/0BU4sdpCGMNjo0S/FuIiWaRe4E0YWRVrxeQevaQ70euDdfWgd5v1eCKQz8b367b9XBmMzt"
            "L/CWUFI6YaKK/MV21eyvJe3Y7CtVYiOKEYiAZnAEkynK7gUGO5TsgDjGNYhj6U3xYsWgI03bmioSl7kdFSUj+AZ7ugas5fghqxgo"
            "DsdfqsjMYKRm5KKHQWsgzI619yIzpNKUiSMHxdZXpQ=="
        ),
        "SigningCertURL": f"https://sns.us-east-2.amazonaws.com/{AWS_CERT_NAME}",
    },
]


class Recorder:
    """A fetcher that records every URL it is asked for and answers with a fixed value."""

    def __init__(self, answer: Any = 200, error: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.answer = answer
        self.error = error

    def __call__(self, url: str) -> Any:
        self.calls.append(url)
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def cert_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "certs"
    directory.mkdir()
    return directory


@pytest.fixture
def signer(cert_dir: Path) -> tuple[rsa.RSAPrivateKey, str]:
    return make_test_cert(cert_dir)


@pytest.fixture
def no_fetch() -> Recorder:
    return Recorder(answer=b"")


def test_verify_signature_treats_empty_cert_dir_as_unset(signer):
    # An empty SNS_CERT_DIR must not silently mean "read certificates from the working directory".
    key, cert_url = signer
    envelope = parse_envelope(sign_envelope(notification_envelope(cert_url), key, "2"))
    fetch = Recorder(make_certificate_pem(key))

    assert verify_signature(envelope, cert_dir="", fetch_cert=fetch, cache=CertificateCache()).verified
    assert fetch.calls == [cert_url]


def make_test_cert_in_memory() -> tuple[rsa.RSAPrivateKey, str]:
    """The throwaway key and an SNS URL for it, for tests that serve the PEM through a fetcher."""
    return throwaway_key(), f"https://sns.{REGION}.amazonaws.com/{CERT_NAME}"


def _verify(envelope: dict[str, Any], cert_dir: Path, fetch: Recorder | None = None) -> sns.SnsEnvelope:
    return verify_envelope(envelope, cert_dir=str(cert_dir), fetch_cert=fetch or Recorder(b""))


def _status(excinfo: pytest.ExceptionInfo[SnsError]) -> int:
    return excinfo.value.status


# --- valid deliveries -------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_verify_envelope_accepts_cloudwatch_notification_with_subject(signer, cert_dir, no_fetch, version):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url), key, version)

    verified = _verify(envelope, cert_dir, no_fetch)

    assert verified.verified
    assert verified.type == sns.NOTIFICATION
    assert verified.subject == envelope["Subject"]
    assert json.loads(verified.message)["NewStateValue"] == "ALARM"
    assert no_fetch.calls == []


@pytest.mark.parametrize("version", VERSIONS)
def test_verify_envelope_accepts_notification_without_subject(signer, cert_dir, version):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url, with_subject=False), key, version)

    verified = _verify(envelope, cert_dir)

    assert verified.verified
    assert verified.subject is None


@pytest.mark.parametrize("version", VERSIONS)
def test_verify_envelope_accepts_subscription_confirmation(signer, cert_dir, version):
    key, cert_url = signer
    envelope = sign_envelope(subscription_confirmation_envelope(cert_url), key, version)

    verified = _verify(envelope, cert_dir)

    assert verified.type == sns.SUBSCRIPTION_CONFIRMATION
    assert verified.subscribe_url == SUBSCRIBE_URL
    assert verified.token == envelope["Token"]


def test_verify_envelope_accepts_unsubscribe_confirmation(signer, cert_dir):
    key, cert_url = signer
    unsigned = subscription_confirmation_envelope(cert_url, message_type=sns.UNSUBSCRIBE_CONFIRMATION)

    verified = _verify(sign_envelope(unsigned, key, "2"), cert_dir)

    assert verified.type == sns.UNSUBSCRIBE_CONFIRMATION


def test_verify_envelope_accepts_lambda_spelling_of_cert_url(signer, cert_dir):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url), key, "1")
    envelope["SigningCertUrl"] = envelope.pop("SigningCertURL")
    envelope["UnsubscribeUrl"] = envelope.pop("UnsubscribeURL")

    verified = _verify(envelope, cert_dir)

    assert verified.signing_cert_url == cert_url
    assert verified.unsubscribe_url == envelope["UnsubscribeUrl"]


def test_verify_envelope_treats_null_subject_as_absent(signer, cert_dir):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url, with_subject=False), key, "2")
    envelope["Subject"] = None

    assert _verify(envelope, cert_dir).subject is None


@pytest.mark.parametrize("envelope", AWS_SIGNED, ids=["v1-without-subject", "v2-with-subject"])
def test_verify_envelope_accepts_deliveries_signed_by_aws(cert_dir, envelope):
    (cert_dir / AWS_CERT_NAME).write_text(AWS_CERT_PEM)

    assert _verify(envelope, cert_dir).verified


@pytest.mark.parametrize("envelope", AWS_SIGNED, ids=["v1-without-subject", "v2-with-subject"])
def test_verify_envelope_rejects_aws_delivery_with_changed_message(cert_dir, envelope):
    (cert_dir / AWS_CERT_NAME).write_text(AWS_CERT_PEM)

    with pytest.raises(SnsError) as excinfo:
        _verify({**envelope, "Message": "Hello world!"}, cert_dir)

    assert _status(excinfo) == 401


# --- tampering and bad signatures -------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("field", ["Message", "Subject", "Timestamp", "MessageId", "TopicArn"])
def test_verify_envelope_rejects_tampered_notification(signer, cert_dir, field, version):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url), key, version)
    envelope[field] = envelope[field].replace("2", "3").replace("A", "B") + " "

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401
    assert "does not match" in excinfo.value.message


@pytest.mark.parametrize("field", ["SubscribeURL", "Token", "Message"])
def test_verify_envelope_rejects_tampered_subscription_confirmation(signer, cert_dir, field):
    key, cert_url = signer
    envelope = sign_envelope(subscription_confirmation_envelope(cert_url), key, "2")
    envelope[field] += "0"

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


def test_verify_envelope_rejects_subject_added_after_signing(signer, cert_dir):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url, with_subject=False), key, "2")
    envelope["Subject"] = "injected"

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


def test_verify_envelope_rejects_subject_removed_after_signing(signer, cert_dir):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")
    del envelope["Subject"]

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


def test_verify_envelope_rejects_signature_from_another_key(signer, cert_dir):
    _, cert_url = signer
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    envelope = sign_envelope(notification_envelope(cert_url), other_key, "2")

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


def test_verify_envelope_rejects_version_relabelled_after_signing(signer, cert_dir):
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url), key, "1")
    envelope["SignatureVersion"] = "2"

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


@pytest.mark.parametrize("version", ["3", "0", "v1", "2 ", "SHA256"])
def test_verify_envelope_rejects_unknown_signature_version_with_401(signer, cert_dir, version):
    # An unknown SignatureVersion is a 401, not a 400: the envelope is well formed, we just cannot
    # authenticate it, and nothing is fetched for it.
    key, cert_url = signer
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")
    envelope["SignatureVersion"] = version
    fetch = Recorder(b"")

    with pytest.raises(SnsError) as excinfo:
        verify_envelope(envelope, fetch_cert=fetch, cache=CertificateCache())

    assert _status(excinfo) == 401
    assert "SignatureVersion" in excinfo.value.message
    assert fetch.calls == []


@pytest.mark.parametrize("signature", ["not base64!", "AAAA====", "A"])
def test_verify_envelope_rejects_signature_that_is_not_base64(signer, cert_dir, signature):
    _, cert_url = signer
    envelope = {**notification_envelope(cert_url), "Signature": signature}

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


# --- certificate source -----------------------------------------------------------------------


@pytest.mark.parametrize("cert_url", EVIL_CERT_URLS)
def test_verify_envelope_refuses_non_sns_cert_url_without_fetching(signer, cert_url):
    key, _ = signer
    envelope = sign_envelope(notification_envelope(cert_url or "x"), key, "2")
    envelope["SigningCertURL"] = cert_url
    fetch = Recorder(make_certificate_pem(key))

    with pytest.raises(SnsError) as excinfo:
        verify_envelope(envelope, fetch_cert=fetch, cache=CertificateCache())

    assert _status(excinfo) in (400, 401)  # "" is a missing field (400); the rest are refused
    assert fetch.calls == []


@pytest.mark.parametrize("cert_url", EVIL_CERT_URLS)
def test_signing_cert_url_allowed_refuses_lookalikes(cert_url):
    assert not signing_cert_url_allowed(cert_url)


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://sns.us-east-1.amazonaws.com/" + CERT_NAME,
        "https://sns.eu-west-1.amazonaws.com/" + CERT_NAME,
        "https://sns.ap-southeast-2.amazonaws.com/" + CERT_NAME,
        "https://sns.us-gov-west-1.amazonaws.com/" + CERT_NAME,
        "https://sns.cn-north-1.amazonaws.com.cn/" + CERT_NAME,
        "https://sns.cn-northwest-1.amazonaws.com.cn/" + CERT_NAME,
    ],
)
def test_signing_cert_url_allowed_accepts_sns_regions(cert_url):
    assert signing_cert_url_allowed(cert_url)


@pytest.mark.parametrize("cert_url", TRAVERSAL_CERT_URLS)
def test_verify_envelope_refuses_path_traversal_in_cert_name(tmp_path, cert_dir, cert_url):
    # Given a certificate for the signing key that sits *outside* cert_dir, next to it,
    # a traversal that reached it would make the signature verify; it must not.
    key, _ = make_test_cert(tmp_path, name="secret.pem")
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


def test_verify_envelope_reports_missing_cert_file_without_fetching(cert_dir):
    key, cert_url = make_test_cert(cert_dir.parent)  # written elsewhere, so cert_dir lacks it
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")
    fetch = Recorder(make_certificate_pem(key))

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir, fetch)

    assert _status(excinfo) == 401
    assert CERT_NAME in excinfo.value.message
    assert fetch.calls == []


def test_verify_envelope_rejects_cert_file_that_is_not_pem(cert_dir):
    key, cert_url = make_test_cert(cert_dir)
    (cert_dir / CERT_NAME).write_bytes(b"<html>not a certificate</html>")
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")

    with pytest.raises(SnsError) as excinfo:
        _verify(envelope, cert_dir)

    assert _status(excinfo) == 401


def test_verify_envelope_fetches_certificate_once_then_caches_it():
    key, cert_url = make_test_cert_in_memory()
    fetch = Recorder(make_certificate_pem(key))
    cache = CertificateCache()
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")

    verify_envelope(envelope, fetch_cert=fetch, cache=cache)
    verify_envelope(envelope, fetch_cert=fetch, cache=cache)

    assert fetch.calls == [cert_url]


def test_verify_envelope_fetches_again_after_cache_ttl():
    now = [1000.0]
    cache = CertificateCache(ttl_seconds=60, clock=lambda: now[0])
    key, cert_url = make_test_cert_in_memory()
    fetch = Recorder(make_certificate_pem(key))
    envelope = sign_envelope(notification_envelope(cert_url), key, "1")

    verify_envelope(envelope, fetch_cert=fetch, cache=cache)
    now[0] += 61
    verify_envelope(envelope, fetch_cert=fetch, cache=cache)

    assert fetch.calls == [cert_url, cert_url]


def test_certificate_cache_evicts_least_recently_used():
    cache = CertificateCache(max_entries=2)
    certificate = sns._parse_pem(make_certificate_pem(make_test_cert_in_memory()[0]), source="test")

    cache.put("a", certificate)
    cache.put("b", certificate)
    cache.get("a")
    cache.put("c", certificate)

    assert cache.get("b") is None
    assert cache.get("a") is certificate
    assert cache.get("c") is certificate
    assert len(cache) == 2


@pytest.mark.parametrize(("retryable", "status"), [(True, 503), (False, 401)])
def test_verify_envelope_maps_fetch_failure_to_status(retryable, status):
    key, cert_url = make_test_cert_in_memory()
    fetch = Recorder(error=FetchFailed("sns answered HTTP 5xx/404", retryable=retryable))
    cache = CertificateCache()
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")

    with pytest.raises(SnsError) as excinfo:
        verify_envelope(envelope, fetch_cert=fetch, cache=cache)

    assert _status(excinfo) == status
    assert len(cache) == 0


def test_verify_envelope_rejects_oversized_fetched_certificate():
    key, cert_url = make_test_cert_in_memory()
    fetch = Recorder(make_certificate_pem(key) + b"\n" * sns.MAX_CERT_BYTES)
    envelope = sign_envelope(notification_envelope(cert_url), key, "2")

    with pytest.raises(SnsError) as excinfo:
        verify_envelope(envelope, fetch_cert=fetch, cache=CertificateCache())

    assert _status(excinfo) == 401


def test_verify_signature_ignores_fetcher_when_cert_dir_is_set(signer, cert_dir):
    key, cert_url = signer
    envelope = parse_envelope(sign_envelope(notification_envelope(cert_url), key, "2"))
    fetch = Recorder(b"garbage")

    assert verify_signature(envelope, cert_dir=str(cert_dir), fetch_cert=fetch).verified
    assert fetch.calls == []


# --- envelope shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message_type", "key"),
    [
        *((sns.NOTIFICATION, k) for k in sns._REQUIRED_KEYS[sns.NOTIFICATION]),
        *((sns.SUBSCRIPTION_CONFIRMATION, k) for k in sns._REQUIRED_KEYS[sns.SUBSCRIPTION_CONFIRMATION]),
        (sns.NOTIFICATION, "SigningCertURL"),
        (sns.SUBSCRIPTION_CONFIRMATION, "SigningCertURL"),
    ],
)
def test_parse_envelope_rejects_missing_required_key(message_type, key):
    cert_url = "https://sns.us-east-1.amazonaws.com/" + CERT_NAME
    if message_type == sns.NOTIFICATION:
        envelope = notification_envelope(cert_url)
    else:
        envelope = subscription_confirmation_envelope(cert_url)
    envelope["Signature"] = "AAAA"
    del envelope[key]

    with pytest.raises(SnsError) as excinfo:
        parse_envelope(envelope)

    assert _status(excinfo) == 400
    assert key in excinfo.value.message


@pytest.mark.parametrize(
    "key", ["MessageId", "Message", "Timestamp", "SignatureVersion", "Subject", "TopicArn"]
)
@pytest.mark.parametrize("value", [1, ["x"], {"x": 1}, True])
def test_parse_envelope_rejects_wrongly_typed_field(key, value):
    envelope = {
        **notification_envelope("https://sns.us-east-1.amazonaws.com/" + CERT_NAME),
        "Signature": "AAAA",
    }
    envelope[key] = value

    with pytest.raises(SnsError) as excinfo:
        parse_envelope(envelope)

    assert _status(excinfo) == 400
    assert "must be a string" in excinfo.value.message


@pytest.mark.parametrize("payload", [[], "Notification", 7, None])
def test_parse_envelope_rejects_non_object(payload):
    with pytest.raises(SnsError) as excinfo:
        parse_envelope(payload)

    assert _status(excinfo) == 400


@pytest.mark.parametrize("message_type", ["notification", "Subscription", "", "Notification "])
def test_parse_envelope_rejects_unknown_type(message_type):
    envelope = {**notification_envelope("https://x/" + CERT_NAME), "Signature": "AAAA", "Type": message_type}

    with pytest.raises(SnsError) as excinfo:
        parse_envelope(envelope)

    assert _status(excinfo) == 400


def test_parse_envelope_rejects_two_different_cert_urls():
    cert_url = "https://sns.us-east-1.amazonaws.com/" + CERT_NAME
    envelope = {
        **notification_envelope(cert_url),
        "Signature": "AAAA",
        "SigningCertUrl": "https://evil.com/x.pem",
    }

    with pytest.raises(SnsError) as excinfo:
        parse_envelope(envelope)

    assert _status(excinfo) == 400


def test_parse_envelope_rejects_type_that_disagrees_with_header():
    envelope = {
        **notification_envelope("https://sns.us-east-1.amazonaws.com/" + CERT_NAME),
        "Signature": "AAAA",
    }

    with pytest.raises(SnsError) as excinfo:
        parse_envelope(envelope, message_type_header=sns.SUBSCRIPTION_CONFIRMATION)

    assert _status(excinfo) == 400


def test_parse_envelope_keeps_unknown_fields_in_raw():
    attributes = {"severity": {"Type": "String", "Value": "critical"}}
    envelope = {
        **notification_envelope("https://sns.us-east-1.amazonaws.com/" + CERT_NAME),
        "Signature": "AAAA",
        "MessageAttributes": attributes,
    }

    assert parse_envelope(envelope).raw["MessageAttributes"] == attributes


# --- string to sign, pinned to AWS's documented format ----------------------------------------


def test_string_to_sign_for_notification_with_subject():
    envelope = parse_envelope(
        {
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:t",
            "Subject": "s",
            "Message": "line1\nline2",
            "Timestamp": "2025-01-01T00:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "AAAA",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/" + CERT_NAME,
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
    )

    assert string_to_sign(envelope) == (
        b"Message\nline1\nline2\nMessageId\nm-1\nSubject\ns\n"
        b"Timestamp\n2025-01-01T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n"
    )


def test_string_to_sign_for_notification_without_subject():
    envelope = parse_envelope(
        {
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:t",
            "Message": "",
            "Timestamp": "t",
            "SignatureVersion": "2",
            "Signature": "AAAA",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/" + CERT_NAME,
        }
    )

    assert (
        string_to_sign(envelope)
        == b"Message\n\nMessageId\nm-1\nTimestamp\nt\nTopicArn\narn:t\nType\nNotification\n"
    )


def test_string_to_sign_for_subscription_confirmation():
    envelope = parse_envelope(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "m-1",
            "Token": "tok",
            "TopicArn": "arn:t",
            "Message": "confirm",
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": "t",
            "SignatureVersion": "1",
            "Signature": "AAAA",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/" + CERT_NAME,
        }
    )

    assert string_to_sign(envelope) == (
        b"Message\nconfirm\nMessageId\nm-1\n"
        b"SubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription\n"
        b"Timestamp\nt\nToken\ntok\nTopicArn\narn:t\nType\nSubscriptionConfirmation\n"
    )


# --- subscription confirmation ----------------------------------------------------------------

EVIL_SUBSCRIBE_URLS = [
    "https://evil.com/?Action=ConfirmSubscription&TopicArn=x&Token=y",
    "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=y",
    "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription",
    "https://evil.com/sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
    "https://sns.us-east-1.amazonaws.com@evil.com/?Action=ConfirmSubscription",
    "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription",
    "https://169.254.169.254/latest/meta-data/?Action=ConfirmSubscription",
    "https://localhost/?Action=ConfirmSubscription",
    "https://sns.us-east-1.amazonaws.com/?Action=Subscribe&Endpoint=https://evil.com",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Action=Subscribe",
    "https://sns.us-east-1.amazonaws.com/other/path?Action=ConfirmSubscription",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription#@evil.com",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/?Action=ConfirmSubscription",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=a b",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=a\r\nHost: evil.com",
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=\u00e9",
]


@pytest.mark.parametrize("url", EVIL_SUBSCRIBE_URLS)
def test_confirmation_url_allowed_refuses_non_sns_or_other_actions(url):
    assert not confirmation_url_allowed(url)


def test_confirmation_url_allowed_accepts_sns_confirm_url():
    assert confirmation_url_allowed(SUBSCRIBE_URL)
    assert confirmation_url_allowed(
        "https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&TopicArn=arn:aws-cn:sns:x&Token=t"
    )


def confirm_subscription(envelope, *, fetch):
    """What the portal does with a confirmation: the webhook's refusal check, then the job's GET."""
    refusal = confirmation_refusal(envelope)
    if refusal is not None:
        return sns.ConfirmationResult(REFUSED, refusal)
    return confirm_subscribe_url(envelope.subscribe_url or "", fetch=fetch)


def test_confirm_subscription_fetches_sns_subscribe_url_once(signer, cert_dir):
    key, cert_url = signer
    envelope = _verify(sign_envelope(subscription_confirmation_envelope(cert_url), key, "2"), cert_dir)
    fetch = Recorder(200)

    result = confirm_subscription(envelope, fetch=fetch)

    assert result.outcome == CONFIRMED
    assert result.confirmed
    assert fetch.calls == [SUBSCRIBE_URL]


@pytest.mark.parametrize("url", EVIL_SUBSCRIBE_URLS)
def test_confirm_subscription_never_fetches_non_sns_url(signer, cert_dir, url):
    # Even a correctly signed envelope does not get to choose where we send requests.
    key, cert_url = signer
    unsigned = subscription_confirmation_envelope(cert_url, subscribe_url=url)
    envelope = _verify(sign_envelope(unsigned, key, "2"), cert_dir)
    fetch = Recorder(200)

    result = confirm_subscription(envelope, fetch=fetch)

    assert result.refused
    assert fetch.calls == []


def test_confirm_subscription_refuses_unverified_envelope(signer):
    _, cert_url = signer
    envelope = parse_envelope({**subscription_confirmation_envelope(cert_url), "Signature": "AAAA"})
    fetch = Recorder(200)

    result = confirm_subscription(envelope, fetch=fetch)

    assert result.outcome == REFUSED
    assert fetch.calls == []


def test_confirm_subscription_does_not_follow_unsubscribe_confirmation(signer, cert_dir):
    # Its SubscribeURL re-subscribes; that is the operator's decision, not an automatic one.
    key, cert_url = signer
    unsigned = subscription_confirmation_envelope(cert_url, message_type=sns.UNSUBSCRIBE_CONFIRMATION)
    envelope = _verify(sign_envelope(unsigned, key, "2"), cert_dir)
    fetch = Recorder(200)

    result = confirm_subscription(envelope, fetch=fetch)

    assert result.refused
    assert fetch.calls == []


def test_confirm_subscription_refuses_notification(signer, cert_dir):
    key, cert_url = signer
    envelope = _verify(sign_envelope(notification_envelope(cert_url), key, "2"), cert_dir)
    fetch = Recorder(200)

    result = confirm_subscription(envelope, fetch=fetch)

    assert result.refused
    assert fetch.calls == []


def test_confirm_subscription_reports_transport_failure(signer, cert_dir):
    key, cert_url = signer
    envelope = _verify(sign_envelope(subscription_confirmation_envelope(cert_url), key, "1"), cert_dir)
    fetch = Recorder(error=FetchFailed("could not reach SNS: ConnectTimeout", retryable=True))

    result = confirm_subscription(envelope, fetch=fetch)

    assert result.outcome == FAILED
    assert "ConnectTimeout" in result.detail
    assert fetch.calls == [SUBSCRIBE_URL]


def test_confirm_subscription_reports_sns_error_status(signer, cert_dir):
    key, cert_url = signer
    envelope = _verify(sign_envelope(subscription_confirmation_envelope(cert_url), key, "1"), cert_dir)

    result = confirm_subscription(envelope, fetch=Recorder(403))

    assert result.outcome == FAILED
    assert result.status_code == 403


# --- default fetchers, against a local server (no internet) -----------------------------------
# The URL guards keep these https-only in production; here they are called directly with an
# http://127.0.0.1 URL to exercise the real httpx code: status handling, redirects, size cap.


class LocalServer:
    """A tiny HTTP server answering fixed (status, headers, body) per path, recording requests."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes = routes
        self.requested: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requested.append(self.path)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer({})
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_fetch_certificate_returns_pem(local_server):
    pem = make_certificate_pem(throwaway_key())
    local_server.routes["/cert.pem"] = (200, {}, pem)

    assert sns.fetch_certificate(local_server.base + "/cert.pem") == pem


def test_fetch_certificate_does_not_follow_redirects(local_server):
    local_server.routes["/cert.pem"] = (302, {"Location": "/elsewhere.pem"}, b"")
    local_server.routes["/elsewhere.pem"] = (200, {}, make_certificate_pem(throwaway_key()))

    with pytest.raises(FetchFailed) as excinfo:
        sns.fetch_certificate(local_server.base + "/cert.pem")

    assert not excinfo.value.retryable
    assert local_server.requested == ["/cert.pem"]


def test_fetch_certificate_stops_reading_past_size_cap(local_server):
    local_server.routes["/cert.pem"] = (200, {}, b"A" * (sns.MAX_CERT_BYTES * 4))

    with pytest.raises(FetchFailed) as excinfo:
        sns.fetch_certificate(local_server.base + "/cert.pem")

    assert "larger than" in str(excinfo.value)


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (403, False)]
)
def test_fetch_certificate_marks_error_statuses(local_server, status, retryable):
    local_server.routes["/cert.pem"] = (status, {}, b"")

    with pytest.raises(FetchFailed) as excinfo:
        sns.fetch_certificate(local_server.base + "/cert.pem")

    assert excinfo.value.retryable is retryable


def test_fetch_certificate_marks_connection_failure_retryable(local_server):
    url = local_server.base + "/cert.pem"
    local_server.httpd.server_close()

    with pytest.raises(FetchFailed) as excinfo:
        sns.fetch_certificate(url)

    assert excinfo.value.retryable


def test_get_subscribe_url_returns_status_without_following_redirect(local_server):
    local_server.routes["/?Action=ConfirmSubscription"] = (302, {"Location": "/next"}, b"")

    assert sns.get_subscribe_url(local_server.base + "/?Action=ConfirmSubscription") == 302
    assert local_server.requested == ["/?Action=ConfirmSubscription"]
