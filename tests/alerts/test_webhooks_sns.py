"""CloudWatch via SNS through the webhook: signatures v1/v2 with a pre-loaded certificate,
tampering, subscription confirmation without SSRF, raw delivery, idempotency by MessageId."""

import http.server
import json
import threading

import pytest

from alerts.models import RawPayload, Signal
from tests.alerts import sns_signing as signing

pytestmark = pytest.mark.django_db


@pytest.fixture
def signer(tmp_path, settings):
    """(private key, cert URL) with the certificate pre-loaded in SNS_CERT_DIR, as air-gapped installs do."""
    key, cert_url = signing.make_test_cert(tmp_path)
    settings.SNS_CERT_DIR = str(tmp_path)
    return key, cert_url


def _post(hook, envelope, **headers):
    headers.setdefault("HTTP_X_AMZ_SNS_MESSAGE_TYPE", envelope["Type"])
    return hook.post(signing.envelope_bytes(envelope), content_type="text/plain; charset=UTF-8", **headers)


@pytest.mark.parametrize("version", ["1", "2"])
def test_sns_signed_notification_is_accepted(org, make_hook, in_schema, signer, version):
    key, cert_url = signer
    hook = make_hook(org, "cloudwatch")
    envelope = signing.sign_envelope(signing.notification_envelope(cert_url), key, version)
    response = _post(hook, envelope)
    assert response.status_code == 202, response.content
    with in_schema(org):
        signal = Signal.objects.get()
        assert (signal.status, signal.cluster, signal.namespace) == ("firing", "prod-eks", "payments")
        assert signal.alertname == signing.ALARM_NAME


@pytest.mark.parametrize("field", ["Message", "Subject", "Timestamp", "TopicArn"])
def test_sns_tampered_envelope_gets_401(org, make_hook, in_schema, signer, field):
    key, cert_url = signer
    hook = make_hook(org, "cloudwatch")
    envelope = signing.sign_envelope(signing.notification_envelope(cert_url), key, "2")
    envelope[field] = envelope[field].replace("a", "b", 1) + " "
    response = _post(hook, envelope)
    assert response.status_code == 401
    with in_schema(org):
        assert Signal.objects.count() == 0


def test_sns_unsigned_raw_delivery_refused_unless_allowed(org, make_hook, in_schema):
    alarm = json.dumps(signing.cloudwatch_alarm_message()).encode()
    refused = make_hook(org, "cloudwatch").post(
        alarm, content_type="text/plain", HTTP_X_AMZ_SNS_RAWDELIVERY="true"
    )
    assert refused.status_code == 401
    assert "raw" in refused.json()["error"]
    allowed = make_hook(org, "cloudwatch", allow_raw_delivery=True)
    assert (
        allowed.post(alarm, content_type="text/plain", HTTP_X_AMZ_SNS_RAWDELIVERY="true").status_code == 202
    )


def test_sns_retry_with_same_message_id_creates_nothing(org, make_hook, in_schema, signer):
    key, cert_url = signer
    hook = make_hook(org, "cloudwatch")
    envelope = signing.sign_envelope(signing.notification_envelope(cert_url), key, "1")
    assert _post(hook, envelope).json()["signals"][0]["outcome"] == "new"
    assert _post(hook, envelope).json()["signals"][0]["outcome"] == "duplicate"
    ok_message = json.dumps(signing.cloudwatch_alarm_message(state="OK", old_state="ALARM"))
    ok = signing.notification_envelope(cert_url, message=ok_message, subject="OK: alarm")
    ok["MessageId"] = "33c90c03-0000-4c2c-8f9d-bdfb0c7bf325"
    assert _post(hook, signing.sign_envelope(ok, key, "1")).json()["signals"][0]["outcome"] == "resolved"
    with in_schema(org):
        signal = Signal.objects.get()
        assert (signal.status, signal.delivery_count) == ("resolved", 3)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        return


def test_sns_subscribe_url_to_non_sns_host_is_never_fetched(org, make_hook, in_schema, signer):
    key, cert_url = signer
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.hits = []
    try:
        hook = make_hook(org, "cloudwatch")
        for url in (
            f"http://127.0.0.1:{server.server_port}/confirm",
            f"https://sns.us-east-1.amazonaws.com.127.0.0.1.nip.io:{server.server_port}/?Action=ConfirmSubscription",
            f"https://sns.us-east-1.amazonaws.com@127.0.0.1:{server.server_port}/?Action=ConfirmSubscription",
        ):
            envelope = signing.subscription_confirmation_envelope(cert_url, subscribe_url=url)
            response = _post(hook, signing.sign_envelope(envelope, key, "2"))
            assert response.status_code == 400, response.content
            assert "not confirmed" in response.json()["error"]
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    with in_schema(org):
        assert Signal.objects.count() == 0


def test_sns_unsubscribe_confirmation_is_recorded(org, make_hook, in_schema, signer):
    key, cert_url = signer
    hook = make_hook(org, "cloudwatch")
    envelope = signing.subscription_confirmation_envelope(cert_url, message_type="UnsubscribeConfirmation")
    response = _post(hook, signing.sign_envelope(envelope, key, "1"))
    assert response.status_code == 200
    with in_schema(org):
        assert "unsubscribe" in RawPayload.objects.get().note
        assert Signal.objects.count() == 0


def test_sns_body_over_256_kib_gets_413(org, make_hook):
    response = make_hook(org, "cloudwatch").post(
        b'{"x": "' + b"a" * (300 * 1024) + b'"}', content_type="text/plain"
    )
    assert response.status_code == 413
