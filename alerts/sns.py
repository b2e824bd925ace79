"""Amazon SNS deliveries over HTTP(S): envelope parsing, signature checks, subscription confirmation.

The webhook view hands this module the decoded JSON body; nothing here imports Django, so the
certificate directory (the SNS_CERT_DIR setting) and the outbound fetchers arrive as parameters.
Typical use:

    envelope = verify_envelope(payload, cert_dir=settings.SNS_CERT_DIR)   # SnsError → answer status
    if envelope.type == SUBSCRIPTION_CONFIRMATION and confirmation_refusal(envelope) is None:
        store envelope.subscribe_url; later, in a job:
        result = confirm_subscribe_url(url, endpoint=settings.SNS_ENDPOINT_URL)   # checked again

Security rules, and why:

* Certificates come only from `https://sns.<region>.amazonaws.com[.cn]/….pem`, checked on the
  raw URL string (no userinfo, port, IP literal, upper case, percent-escape or dot segment), so
  a URL parser elsewhere cannot be made to read a different host than the one approved here.
* With `cert_dir` set, the certificate is read from that directory by the URL's file name and
  the network is never used (air-gapped installs, tests).
* A SubscribeURL is fetched only for a verified SubscriptionConfirmation, only on an SNS host and
  only for `Action=ConfirmSubscription`; UnsubscribeConfirmation carries a SubscribeURL too, but
  following it would re-subscribe, so it is never followed automatically.
* Outbound requests never follow redirects, time out, and read at most 64 KiB.
* The certificate's validity dates and chain are not checked: trust comes from fetching it over
  verified TLS from an SNS host, or from the operator placing it in `cert_dir`.

Statuses: malformed envelope 400; any failure to authenticate (unknown SignatureVersion,
disallowed certificate URL, unreadable certificate, bad signature) 401; certificate fetch
failures that SNS should retry (network, timeout, AWS 5xx) 503.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit, urlunsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from opsworker.payload_guard import PayloadRejected

SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
NOTIFICATION = "Notification"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
MESSAGE_TYPES = (SUBSCRIPTION_CONFIRMATION, NOTIFICATION, UNSUBSCRIBE_CONFIRMATION)

CONFIRMED = "confirmed"
REFUSED = "refused"
FAILED = "failed"

FETCH_TIMEOUT_SECONDS = 5.0
MAX_CERT_BYTES = 64 * 1024  # AWS's PEM is ~2 KiB; a chain would still fit
MAX_URL_LENGTH = 2048

_COMMON_KEYS = ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature")
_REQUIRED_KEYS = {
    NOTIFICATION: _COMMON_KEYS,
    SUBSCRIPTION_CONFIRMATION: (*_COMMON_KEYS, "Token", "SubscribeURL"),
    UNSUBSCRIBE_CONFIRMATION: (*_COMMON_KEYS, "Token", "SubscribeURL"),
}
# Fields that may be empty strings; every other required field must have content.
_MAY_BE_EMPTY = frozenset({"Message"})
# The order AWS signs in; "Subject" is signed only when present.
_CONFIRMATION_SIGNED_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SIGNED_KEYS = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: _CONFIRMATION_SIGNED_KEYS,
    UNSUBSCRIBE_CONFIRMATION: _CONFIRMATION_SIGNED_KEYS,
}
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    # SHA-1 is what SignatureVersion 1 means; refusing it would refuse every default topic.
    "1": hashes.SHA1,
    "2": hashes.SHA256,
}

# sns.us-east-1.amazonaws.com, sns.us-gov-west-1.amazonaws.com, sns.cn-north-1.amazonaws.com.cn
_SNS_HOST = re.compile(
    r"sns\.(?:[a-z]{2}(?:-[a-z]+){1,3}-\d{1,2}\.amazonaws\.com|cn-[a-z]+-\d{1,2}\.amazonaws\.com\.cn)"
)
# RFC 3986 characters only: no spaces, tabs, backslashes or double quotes for parsers to disagree on.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# Segments that cannot be "." or "..", hold no escapes, and end in a file name.
_CERT_PATH = re.compile(r"(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*/[A-Za-z0-9_-][A-Za-z0-9._-]*\.pem")

CertFetcher = Callable[[str], bytes]
SubscribeFetcher = Callable[[str], int]


class SnsError(PayloadRejected):
    """The SNS delivery is refused; `status` is the HTTP answer and `message` says why."""


class FetchFailed(Exception):
    """An outbound GET to SNS failed; `retryable` is False when AWS gave a definite answer."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclasses.dataclass(frozen=True, slots=True)
class SnsEnvelope:
    """One SNS HTTP delivery, typed; `raw` keeps every field (MessageAttributes, ...)."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    signature_version: str
    signature: str
    signing_cert_url: str
    subject: str | None = None
    token: str | None = None
    subscribe_url: str | None = None
    unsubscribe_url: str | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    # Set only by verify_signature; confirmation_refusal refuses envelopes without it.
    verified: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ConfirmationResult:
    """What confirm_subscribe_url did: CONFIRMED, REFUSED (nothing fetched) or FAILED."""

    outcome: str
    detail: str
    status_code: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.outcome == CONFIRMED

    @property
    def refused(self) -> bool:
        return self.outcome == REFUSED

    @property
    def retryable(self) -> bool:
        """A failure that trying again may cure: no answer at all, or AWS 5xx/429."""
        if self.outcome != FAILED:
            return False
        return self.status_code is None or self.status_code >= 500 or self.status_code == 429


# --- envelope ---------------------------------------------------------------------------------


def parse_envelope(payload: Any, *, message_type_header: str | None = None) -> SnsEnvelope:
    """Check the envelope's shape for its Type and return it typed, or raise SnsError(400).

    `message_type_header` is the x-amz-sns-message-type header when the caller has it; a body
    that disagrees with its header is refused.
    """
    if not isinstance(payload, dict):
        raise SnsError(400, f"SNS body must be a JSON object (the SNS envelope), not {_json_type(payload)}")
    message_type = _string(payload, "Type")
    if message_type not in MESSAGE_TYPES:
        raise SnsError(400, f"SNS Type {message_type[:40]!r} is not one of {', '.join(MESSAGE_TYPES)}")
    if message_type_header is not None and message_type_header != message_type:
        raise SnsError(
            400, f"SNS Type {message_type} disagrees with x-amz-sns-message-type {message_type_header[:40]!r}"
        )
    fields = {key: _string(payload, key) for key in _REQUIRED_KEYS[message_type]}
    return SnsEnvelope(
        type=message_type,
        message_id=fields["MessageId"],
        topic_arn=fields["TopicArn"],
        message=fields["Message"],
        timestamp=fields["Timestamp"],
        signature_version=fields["SignatureVersion"],
        signature=fields["Signature"],
        signing_cert_url=_either_spelling(payload, "SigningCertURL", "SigningCertUrl", required=True) or "",
        subject=_optional_string(payload, "Subject"),
        token=fields.get("Token"),
        subscribe_url=fields.get("SubscribeURL"),
        unsubscribe_url=_either_spelling(payload, "UnsubscribeURL", "UnsubscribeUrl", required=False),
        raw=payload,
    )


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _string(payload: Mapping[str, Any], key: str) -> str:
    if key not in payload:
        raise SnsError(400, f"SNS envelope has no {key}")
    value = payload[key]
    if not isinstance(value, str):
        raise SnsError(400, f"SNS envelope field {key} must be a string, not {_json_type(value)}")
    if not value and key not in _MAY_BE_EMPTY:
        raise SnsError(400, f"SNS envelope field {key} is empty")
    return value


def _optional_string(payload: Mapping[str, Any], key: str) -> str | None:
    # Absent and null both mean "not there": AWS's validators skip null fields when signing.
    if payload.get(key) is None:
        return None
    return _string(payload, key)


def _either_spelling(
    payload: Mapping[str, Any], http_key: str, lambda_key: str, *, required: bool
) -> str | None:
    """HTTP deliveries spell SigningCertURL, Lambda events SigningCertUrl; accept one, not two."""
    values = {key: _optional_string(payload, key) for key in (http_key, lambda_key)}
    present = {key: value for key, value in values.items() if value is not None}
    if len(set(present.values())) > 1:
        raise SnsError(400, f"SNS envelope has both {http_key} and {lambda_key}, and they differ")
    if not present:
        if required:
            raise SnsError(400, f"SNS envelope has no {http_key}")
        return None
    return next(iter(present.values()))


def string_to_sign(envelope: SnsEnvelope) -> bytes:
    """The bytes AWS signed: "key\\nvalue\\n" for each signed key of the Type, in AWS's order."""
    values = {
        "Message": envelope.message,
        "MessageId": envelope.message_id,
        "Subject": envelope.subject,
        "SubscribeURL": envelope.subscribe_url,
        "Timestamp": envelope.timestamp,
        "Token": envelope.token,
        "TopicArn": envelope.topic_arn,
        "Type": envelope.type,
    }
    lines = [f"{key}\n{values[key]}\n" for key in _SIGNED_KEYS[envelope.type] if values[key] is not None]
    return "".join(lines).encode("utf-8")


# --- URLs ---------------------------------------------------------------------------------------


def _sns_url(url: object) -> SplitResult | None:
    """Split an https URL on an SNS host, or None when anything about it is unusual."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or not url.startswith("https://"):
        return None
    if not _URL_CHARS.fullmatch(url):
        return None
    parts = urlsplit(url)
    # netloc == hostname rules out userinfo ("sns…@evil.com"), ports and upper case at once.
    if parts.netloc != parts.hostname or not _SNS_HOST.fullmatch(parts.netloc):
        return None
    if parts.fragment or "#" in url or urlunsplit(parts) != url:
        return None
    return parts


def signing_cert_url_allowed(url: object) -> bool:
    """True for https://sns.<region>.amazonaws.com[.cn]/<file>.pem with no query or fragment."""
    parts = _sns_url(url)
    return (
        parts is not None
        and not parts.query
        and "?" not in str(url)
        and bool(_CERT_PATH.fullmatch(parts.path))
    )


def confirmation_url_allowed(url: object) -> bool:
    """True for an https SNS-host URL whose query asks for ConfirmSubscription and nothing else."""
    parts = _sns_url(url)
    if parts is None or parts.path not in ("", "/"):
        return False
    return parse_qs(parts.query).get("Action") == ["ConfirmSubscription"]


# --- certificates -----------------------------------------------------------------------------


class CertificateCache:
    """A thread-safe LRU of parsed certificates by URL, each kept at most `ttl_seconds`."""

    def __init__(
        self,
        *,
        max_entries: int = 32,
        ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, x509.Certificate]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, url: str) -> x509.Certificate | None:
        with self._lock:
            entry = self._entries.get(url)
            if entry is None:
                return None
            stored_at, certificate = entry
            if self._clock() - stored_at >= self._ttl:
                del self._entries[url]
                return None
            self._entries.move_to_end(url)
            return certificate

    def put(self, url: str, certificate: x509.Certificate) -> None:
        with self._lock:
            self._entries[url] = (self._clock(), certificate)
            self._entries.move_to_end(url)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_certificates = CertificateCache()


def fetch_certificate(url: str) -> bytes:
    """GET a certificate PEM over verified HTTPS: no redirects, bounded time and size."""
    deadline = time.monotonic() + FETCH_TIMEOUT_SECONDS
    try:
        with httpx.stream("GET", url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as response:
            if response.status_code != 200:
                retryable = response.status_code >= 500 or response.status_code == 429
                raise FetchFailed(f"{url} answered HTTP {response.status_code}", retryable=retryable)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_CERT_BYTES:
                    raise FetchFailed(f"{url} is larger than {MAX_CERT_BYTES} bytes", retryable=False)
                if time.monotonic() > deadline:
                    raise FetchFailed(f"{url} took longer than {FETCH_TIMEOUT_SECONDS:g} s", retryable=True)
            return bytes(body)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"could not fetch {url}: {type(exc).__name__}", retryable=True) from exc


def _certificate(
    url: str, *, cert_dir: str | None, fetch: CertFetcher, cache: CertificateCache
) -> x509.Certificate:
    """Load the signing certificate for an already allowed URL, from cert_dir or the network."""
    if cert_dir:  # "" too means unset: an empty SNS_CERT_DIR must not mean "the working directory"
        return _parse_pem(_read_cert_file(url, cert_dir), source="the certificate file")
    certificate = cache.get(url)
    if certificate is None:
        try:
            pem = fetch(url)
        except FetchFailed as exc:
            status = 503 if exc.retryable else 401
            raise SnsError(status, f"could not fetch the signing certificate: {exc}") from exc
        if len(pem) > MAX_CERT_BYTES:
            raise SnsError(401, f"signing certificate is larger than {MAX_CERT_BYTES} bytes")
        certificate = _parse_pem(pem, source=url)
        cache.put(url, certificate)
    return certificate


def _read_cert_file(url: str, cert_dir: str) -> bytes:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    # _CERT_PATH already keeps separators and dot segments out; this stays true if it changes.
    if Path(name).name != name or name in ("", ".", ".."):
        raise SnsError(401, "SigningCertURL does not name a certificate file")
    path = Path(cert_dir) / name
    try:
        with path.open("rb") as handle:
            pem = handle.read(MAX_CERT_BYTES + 1)
    except FileNotFoundError:
        raise SnsError(
            401, f"signing certificate {name} is not in the SNS certificate directory; download it from {url}"
        ) from None
    except OSError as exc:
        raise SnsError(401, f"signing certificate {name} cannot be read: {exc.strerror}") from None
    if len(pem) > MAX_CERT_BYTES:
        raise SnsError(401, f"signing certificate {name} is larger than {MAX_CERT_BYTES} bytes")
    return pem


def _parse_pem(pem: bytes, *, source: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise SnsError(401, f"{source} is not a PEM X.509 certificate") from None


# --- signatures -------------------------------------------------------------------------------


def verify_signature(
    envelope: SnsEnvelope,
    *,
    cert_dir: str | None = None,
    fetch_cert: CertFetcher = fetch_certificate,
    cache: CertificateCache | None = None,
) -> SnsEnvelope:
    """Check the envelope's RSA signature; return it marked verified, or raise SnsError(401/503).

    With `cert_dir` (None or "" mean unset) the certificate is read from that directory and
    `fetch_cert` is never called; otherwise `fetch_cert(url)` is called on a cache miss
    (`cache` defaults to one shared per process).
    """
    algorithm = _HASHES.get(envelope.signature_version)
    if algorithm is None:
        raise SnsError(
            401,
            f"SignatureVersion {envelope.signature_version[:10]!r} is not supported (expected '1' or '2')",
        )
    if not signing_cert_url_allowed(envelope.signing_cert_url):
        raise SnsError(
            401,
            f"SigningCertURL {envelope.signing_cert_url[:200]!r} is not an Amazon SNS certificate URL "
            "(https://sns.<region>.amazonaws.com/<name>.pem)",
        )
    try:
        signature = base64.b64decode(envelope.signature, validate=True)
    except (binascii.Error, ValueError):
        raise SnsError(401, "Signature is not valid base64") from None
    certificate = _certificate(
        envelope.signing_cert_url,
        cert_dir=cert_dir,
        fetch=fetch_cert,
        cache=_certificates if cache is None else cache,
    )
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SnsError(401, "signing certificate does not hold an RSA key")
    try:
        public_key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise SnsError(
            401, f"Signature does not match the message (SignatureVersion {envelope.signature_version})"
        ) from None
    return dataclasses.replace(envelope, verified=True)


def verify_envelope(
    payload: Any,
    *,
    cert_dir: str | None = None,
    fetch_cert: CertFetcher = fetch_certificate,
    cache: CertificateCache | None = None,
    message_type_header: str | None = None,
) -> SnsEnvelope:
    """parse_envelope then verify_signature: a verified envelope, or SnsError."""
    envelope = parse_envelope(payload, message_type_header=message_type_header)
    return verify_signature(envelope, cert_dir=cert_dir, fetch_cert=fetch_cert, cache=cache)


# --- subscription -----------------------------------------------------------------------------


def get_subscribe_url(url: str) -> int:
    """GET a SubscribeURL and return the HTTP status; the body (an XML receipt) is not read."""
    try:
        with httpx.stream("GET", url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as response:
            return response.status_code
    except httpx.HTTPError as exc:
        raise FetchFailed(f"could not reach SNS: {type(exc).__name__}", retryable=True) from exc


def confirmation_refusal(envelope: SnsEnvelope) -> str | None:
    """Why this envelope's SubscribeURL must never be fetched, or None when it may be."""
    url = envelope.subscribe_url or ""
    if envelope.type != SUBSCRIPTION_CONFIRMATION:
        return f"only {SUBSCRIPTION_CONFIRMATION} messages are confirmed"
    if not envelope.verified:
        return "the envelope's signature has not been verified"
    if not confirmation_url_allowed(url):
        return f"SubscribeURL {url[:200]!r} is not an Amazon SNS confirmation URL"
    return None


def confirm_subscribe_url(
    url: str, *, fetch: SubscribeFetcher = get_subscribe_url, endpoint: str = ""
) -> ConfirmationResult:
    """GET a SubscribeURL taken from a verified confirmation (stored, for a later job or a retry).

    The URL is checked again (REFUSED unless it is an SNS confirmation URL). With `endpoint`
    (an operator's setting: an SNS VPC endpoint, LocalStack) the request goes to that base URL
    with the SubscribeURL's query instead of the SNS host. FAILED results say whether trying
    again can help (`retryable`: no answer, or AWS 5xx/429).
    """
    if not confirmation_url_allowed(url):
        return ConfirmationResult(
            REFUSED, f"SubscribeURL {url[:200]!r} is not an Amazon SNS confirmation URL"
        )
    target = f"{endpoint.rstrip('/')}/?{urlsplit(url).query}" if endpoint else url
    try:
        status = fetch(target)
    except FetchFailed as exc:
        return ConfirmationResult(FAILED, str(exc))
    if 200 <= status < 300:
        return ConfirmationResult(CONFIRMED, "subscription confirmed", status_code=status)
    return ConfirmationResult(FAILED, f"SNS answered HTTP {status}", status_code=status)
