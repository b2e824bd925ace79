"""The webhook endpoint: `/hooks/<source>/<token>/` on an organization's domain.

Machine-facing and thin: find the integration by token, authenticate, rate-limit, decode the body
within limits, let the source's adapter normalize it, and hand the alerts to the ingest service.
Every refusal is a 4xx with a JSON body a person can act on; nothing a sender controls yields a 5xx.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import Counter

from alerts import sns
from alerts.models import Integration, Source
from alerts.rate_limits import check_rate, check_unknown_token_rate
from alerts.selectors import integration_for_token
from alerts.services.ingest import IngestResult, RequestRecord, signals_ingest, text
from alerts.services.integrations import sns_subscription_request
from alerts.sources import PayloadError, get_adapter
from alerts.webhook_auth import AuthFailed, authenticate
from opsworker.metrics import REGISTRY
from opsworker.payload_guard import PayloadRejected, decode_body

logger = logging.getLogger(__name__)

WEBHOOK_RESPONSES = Counter(
    "opsworker_webhook_responses",
    "Webhook answers by source and status.",
    ["source", "status"],
    registry=REGISTRY,
)
SIGNALS_INGESTED = Counter(
    "opsworker_signals_ingested",
    "Alerts accepted, by source and outcome.",
    ["source", "outcome"],
    registry=REGISTRY,
)

# Never stored with the raw payload: they carry credentials.
_SECRET_HEADERS = {"authorization", "cookie", "x-webhook-token", "proxy-authorization"}
_MAX_STORED_HEADERS = 60

NOT_FOUND = (
    "unknown webhook URL: check the token in the URL, or ask an admin whether the integration is enabled"
)


def _answer(source: str, status: int, body: dict, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    # Django logs 4xx with the request path, which holds the secret token: we log our own events.
    response._has_been_logged = True
    WEBHOOK_RESPONSES.labels(source if source in Source.values else "unknown", str(status)).inc()
    return response


def _error(source: str, status: int, message: str, headers: dict | None = None) -> JsonResponse:
    return _answer(source, status, {"error": message, "status": status}, headers)


def _reject(integration: Integration, source: str, status: int, message: str, headers=None) -> JsonResponse:
    from django.db.models import F
    from django.utils import timezone

    Integration.objects.filter(pk=integration.pk).update(
        rejected_total=F("rejected_total") + 1,
        last_error=text(f"{status}: {message}", 500),
        last_error_at=timezone.now(),
    )
    logger.info(
        "alerts.webhook.rejected",
        extra={"integration": integration.pk, "source": source, "status": status, "reason": message[:200]},
    )
    return _error(source, status, message, headers)


def _stored_headers(request: HttpRequest, integration: Integration) -> dict[str, str]:
    secret = set(_SECRET_HEADERS)
    for name in (integration.auth_header, integration.auth_timestamp_header):
        if name:
            secret.add(name.lower())
    stored = {}
    for name, value in request.headers.items():
        if name.lower() in secret or len(stored) >= _MAX_STORED_HEADERS:
            continue
        stored[name] = value[:500]
    return stored


@csrf_exempt
def webhook(request: HttpRequest, source: str, token: str) -> JsonResponse:
    if request.method not in ("POST", "PUT"):
        return _error(source, 405, "send alerts with POST (or PUT)", {"Allow": "POST, PUT"})
    tenant = getattr(request, "tenant", None)
    integration = integration_for_token(token, source) if tenant is not None and tenant.is_active else None
    if integration is None:
        client = request.META.get("REMOTE_ADDR") or ""
        logger.info(
            "alerts.webhook.unknown_token",
            extra={"source": source, "tenant": getattr(tenant, "schema_name", ""), "client": client},
        )
        wait = check_unknown_token_rate(client)
        if wait is not None:
            logger.warning(
                "alerts.webhook.unknown_token_throttled",
                extra={"source": source, "tenant": getattr(tenant, "schema_name", ""), "client": client},
            )
            return _error(
                source,
                429,
                f"too many requests with unknown webhook URLs from your address; retry in {wait} s "
                "(check the webhook URL: an integration's URL is shown once, when it is created or rotated)",
                {"Retry-After": str(wait)},
            )
        return _error(source, 404, NOT_FOUND)

    limit = settings.WEBHOOK_MAX_BYTES
    if source == Source.CLOUDWATCH:
        limit = min(limit, 256 * 1024)  # SNS messages never exceed 256 KiB
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return _reject(
            integration,
            source,
            413,
            f"body is {int(declared)} bytes; the limit is {limit} bytes for this source",
        )
    body = request.body
    if len(body) > limit:
        return _reject(
            integration, source, 413, f"body is {len(body)} bytes; the limit is {limit} bytes for this source"
        )

    try:
        authenticate(integration, request.headers, body)
    except AuthFailed as failure:
        challenge = {"WWW-Authenticate": failure.challenge} if failure.challenge else None
        return _reject(integration, source, 401, failure.message, challenge)

    wait = check_rate(tenant.schema_name, integration.pk, integration.rate_limit_per_minute)
    if wait is not None:
        return _reject(
            integration,
            source,
            429,
            f"too many requests for this integration; retry in {wait} s",
            {"Retry-After": str(wait)},
        )

    try:
        payload = decode_body(
            body,
            request.headers.get("Content-Type", ""),
            max_bytes=limit,
            max_depth=settings.WEBHOOK_MAX_DEPTH,
            allow_form=source in (Source.DATADOG, Source.GENERIC),
        )
    except PayloadRejected as rejected:
        return _reject(integration, source, rejected.status, rejected.message)

    note = ""
    if source == Source.CLOUDWATCH:
        outcome = _sns_preamble(request, integration, payload)
        if isinstance(outcome, JsonResponse):
            return outcome
        payload, note = outcome

    try:
        parsed = get_adapter(source).parse_partial(payload, headers=request.headers)
    except PayloadError as error:
        return _reject(integration, source, 400, str(error))
    if parsed.nothing_usable:
        return _reject(integration, source, 400, parsed.refusal())
    if parsed.rejected:
        logger.warning(
            "alerts.webhook.alerts_rejected",
            extra={
                "integration": integration.pk,
                "source": source,
                "stored": len(parsed.alerts),
                "rejected": len(parsed.rejected),
                "reason": parsed.rejected[0].reason[:200],
            },
        )

    record = RequestRecord(
        method=request.method,
        content_type=request.headers.get("Content-Type", ""),
        headers=_stored_headers(request, integration),
        body=body.decode("utf-8", "replace"),
        size_bytes=len(body),
        remote_addr=request.META.get("REMOTE_ADDR") or None,
        note=note,
    )
    result = signals_ingest(
        integration=integration, request=record, alerts=parsed.alerts, rejected=parsed.rejected
    )
    for _signal, outcome in result.signals:
        SIGNALS_INGESTED.labels(source, outcome).inc()
    logger.info(
        "alerts.webhook.accepted",
        extra={
            "integration": integration.pk,
            "source": source,
            "alerts": len(result.signals),
            "investigations": len(result.investigations),
        },
    )
    return _answer(source, 202, result.response_body())


def _sns_preamble(request: HttpRequest, integration: Integration, payload):
    """Verify an SNS delivery; answer confirmations here. Returns (payload, note) for notifications."""
    raw_delivery = request.headers.get("x-amz-sns-rawdelivery", "").lower() == "true"
    if raw_delivery or (isinstance(payload, dict) and "Type" not in payload and "AlarmName" in payload):
        if not integration.allow_raw_delivery:
            return _reject(
                integration,
                Source.CLOUDWATCH,
                401,
                "SNS raw message delivery carries no signature; turn raw delivery off on the subscription, "
                "or allow raw delivery on this integration",
            )
        return payload, "SNS raw message delivery (unsigned, allowed by the integration)"
    try:
        envelope = sns.verify_envelope(
            payload,
            cert_dir=settings.SNS_CERT_DIR or None,
            message_type_header=request.headers.get("x-amz-sns-message-type"),
        )
    except sns.SnsError as error:
        return _reject(integration, Source.CLOUDWATCH, error.status, error.message)

    if envelope.type == sns.SUBSCRIPTION_CONFIRMATION:
        refusal = sns.confirmation_refusal(envelope)
        if refusal is not None:
            logger.warning(
                "alerts.sns.subscribe_url_refused", extra={"integration": integration.pk, "detail": refusal}
            )
            return _reject(integration, Source.CLOUDWATCH, 400, f"subscription not confirmed: {refusal}")
        # Stored first, confirmed by a job with retries: the SNS host may be out of reach right
        # now (air-gapped install, network blip), and a 5xx here only made SNS give up sooner.
        with transaction.atomic():
            stored = _record_notice(
                request, integration, "SNS subscription confirmation: waiting for confirmation"
            )
            subscription = sns_subscription_request(
                integration=integration, envelope=envelope, payload=stored.payload
            )
        return _answer(
            Source.CLOUDWATCH,
            202,
            {
                "confirmed": False,
                "status": subscription.status,
                "detail": "signature verified; the subscription is being confirmed in the background "
                "(its state is on the integration's page)",
            },
        )
    if envelope.type == sns.UNSUBSCRIBE_CONFIRMATION:
        _record_notice(request, integration, f"SNS unsubscribe confirmation for {envelope.topic_arn}")
        return _answer(Source.CLOUDWATCH, 200, {"recorded": True})
    return payload, ""


def _record_notice(request: HttpRequest, integration: Integration, note: str) -> IngestResult:
    record = RequestRecord(
        method=request.method,
        content_type=request.headers.get("Content-Type", ""),
        headers=_stored_headers(request, integration),
        body=request.body.decode("utf-8", "replace"),
        size_bytes=len(request.body),
        remote_addr=request.META.get("REMOTE_ADDR") or None,
        note=note,
    )
    return signals_ingest(integration=integration, request=record, alerts=[])
