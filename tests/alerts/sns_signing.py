"""Sign SNS envelopes with a throwaway key, so tests can exercise verification without AWS.

Typical use in a test:

    private_key, cert_url = make_test_cert(tmp_path)        # settings.SNS_CERT_DIR = str(tmp_path)
    envelope = sign_envelope(notification_envelope(cert_url), private_key, "2")
    client.post(url, envelope_bytes(envelope), content_type="text/plain; charset=UTF-8")

The string to sign is built here independently of `alerts.sns`, so a mistake there cannot be
mirrored by the signer and slip through.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
CERT_NAME = "SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:opsworker-alerts"
ALARM_NAME = "payments-api-high-cpu"
SUBSCRIBE_URL = (
    f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}"
    "&Token=2336412f37fb687f5d51e6e2425dacbba8e53cc4c29ed4b7ef7d5d3a2f06ab2bb3f0ed8f1a2b"
)
UNSUBSCRIBE_URL = (
    f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe"
    f"&SubscriptionArn={TOPIC_ARN}:c9135db0-26c4-47ec-8998-413945fb5a96"
)

_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


@functools.cache
def throwaway_key() -> rsa.RSAPrivateKey:
    """One RSA key per test process: generating 2048-bit keys is the slow part of these tests."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_certificate_pem(private_key: rsa.RSAPrivateKey) -> bytes:
    """A self-signed certificate for the key, named like AWS's (CN=sns.amazonaws.com)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_test_cert(
    cert_dir: str | Path,
    *,
    region: str = REGION,
    name: str = CERT_NAME,
    private_key: rsa.RSAPrivateKey | None = None,
) -> tuple[rsa.RSAPrivateKey, str]:
    """Write a certificate into cert_dir as `name`; return its key and the SigningCertURL naming it."""
    key = private_key or throwaway_key()
    Path(cert_dir, name).write_bytes(make_certificate_pem(key))
    return key, f"https://sns.{region}.amazonaws.com/{name}"


def string_to_sign(envelope: dict[str, Any]) -> bytes:
    """AWS's canonical form: "key\\nvalue\\n" for each signed key present (Subject only if set)."""
    keys = _SIGNED_KEYS[envelope["Type"]]
    return "".join(f"{key}\n{envelope[key]}\n" for key in keys if envelope.get(key) is not None).encode()


def sign_envelope(
    envelope: dict[str, Any], private_key: rsa.RSAPrivateKey, version: str = "1"
) -> dict[str, Any]:
    """A copy of the envelope with SignatureVersion and a valid Signature for it."""
    signed = {**envelope, "SignatureVersion": version}
    signature = private_key.sign(string_to_sign(signed), padding.PKCS1v15(), _HASHES[version]())
    signed["Signature"] = base64.b64encode(signature).decode("ascii")
    return signed


def cloudwatch_alarm_message(*, state: str = "ALARM", old_state: str = "OK") -> dict[str, Any]:
    """A CloudWatch alarm as SNS carries it in Message (Container Insights pod CPU)."""
    return {
        "AlarmName": ALARM_NAME,
        "AlarmDescription": "CPU of payments-api pods above 80% for 5 minutes",
        "AWSAccountId": ACCOUNT_ID,
        "AlarmConfigurationUpdatedTimestamp": "2025-03-14T09:40:12.123+0000",
        "NewStateValue": state,
        "NewStateReason": (
            "Threshold Crossed: 1 out of the last 1 datapoints [91.2 (14/03/25 09:53:00)] was greater "
            "than the threshold (80.0) (minimum 1 datapoint for OK -> ALARM transition)."
        ),
        "StateChangeTime": "2025-03-14T09:58:41.872+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{ALARM_NAME}",
        "OldStateValue": old_state,
        "OKActions": [TOPIC_ARN],
        "AlarmActions": [TOPIC_ARN],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "pod_cpu_utilization",
            "Namespace": "ContainerInsights",
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [
                {"value": "prod-eks", "name": "ClusterName"},
                {"value": "payments", "name": "Namespace"},
                {"value": "payments-api", "name": "PodName"},
            ],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 80.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def notification_envelope(
    cert_url: str, *, message: str | None = None, subject: str | None = None, with_subject: bool = True
) -> dict[str, Any]:
    """An unsigned Notification carrying a CloudWatch alarm, Subject included unless told not to."""
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC_ARN,
        "Subject": subject or f'ALARM: "{ALARM_NAME}" in US East (N. Virginia)',
        "Message": message if message is not None else json.dumps(cloudwatch_alarm_message()),
        "Timestamp": "2025-03-14T09:58:41.921Z",
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": cert_url,
        "UnsubscribeURL": UNSUBSCRIBE_URL,
    }
    if not with_subject:
        del envelope["Subject"]
    return envelope


def subscription_confirmation_envelope(
    cert_url: str, *, subscribe_url: str = SUBSCRIBE_URL, message_type: str = "SubscriptionConfirmation"
) -> dict[str, Any]:
    """An unsigned SubscriptionConfirmation (or, with message_type, UnsubscribeConfirmation)."""
    return {
        "Type": message_type,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425dacbba8e53cc4c29ed4b7ef7d5d3a2f06ab2bb3f0ed8f1a2b",
        "TopicArn": TOPIC_ARN,
        "Message": (
            f"You have chosen to subscribe to the topic {TOPIC_ARN}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": subscribe_url,
        "Timestamp": "2025-03-14T09:30:00.000Z",
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": cert_url,
    }


def envelope_bytes(envelope: dict[str, Any]) -> bytes:
    """The envelope serialized the way SNS sends it (pretty-printed, `"Key" : "value"`)."""
    return json.dumps(envelope, indent=2, separators=(",", " : "), ensure_ascii=False).encode("utf-8")
