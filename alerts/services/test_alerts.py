"""Sending a test alert through an integration: the same adapter and ingest path as the webhook."""

from __future__ import annotations

import json
import logging
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import Integration, Signal
from alerts.sample_alerts import TEST_LABEL, sample_payload
from alerts.services.ingest import RequestRecord, signals_ingest
from alerts.sources import PayloadError, get_adapter

logger = logging.getLogger(__name__)


def integration_send_test_alert(*, integration: Integration, sent_by: str) -> Signal:
    """Run a sample payload of the integration's source through its adapter and `signals_ingest`.

    The alert is labelled `opsworker_test: "true"` and flagged as being about the alerting
    pipeline, so it is recorded and never starts an investigation of the made-up pod it names.
    Works on a disabled integration too: it tests the parsing and storage, not the URL.
    """
    now = timezone.now()
    test_id = secrets.token_hex(4)
    payload = sample_payload(
        integration.source, test_id=test_id, sent_at=now, cluster=integration.cluster_name
    )
    body = json.dumps(payload)
    try:
        alerts = get_adapter(integration.source).parse(payload, headers={})
    except PayloadError as error:  # a sample the adapter refuses is our bug; say so plainly
        raise ValidationError(
            f"the sample {integration.source} alert was refused by its adapter: {error}"
        ) from error
    for alert in alerts:
        alert.labels = {**alert.labels, TEST_LABEL: "true"}
        alert.pipeline = True
    record = RequestRecord(
        method="POST",
        content_type="application/json",
        headers={"Content-Type": "application/json", "X-OpsWorker-Test": "true"},
        body=body,
        size_bytes=len(body.encode()),
        remote_addr=None,
        note=f"test alert sent from the portal by {sent_by}"[:300],
    )
    result = signals_ingest(integration=integration, request=record, alerts=alerts)
    logger.info(
        "alerts.integration.test_alert", extra={"integration": integration.pk, "signals": len(result.signals)}
    )
    signal, _outcome = result.signals[0]
    return signal
