"""The gateway over a cluster's SQS queue pair (protocol: `agent/protocol.py`, "SQS transport").

Portal → agent: `send_commands` puts command messages on the cluster's command queue.
Agent → portal: `drain` reads the result queue (hello, heartbeat, results), records each message
with the same services as the HTTP endpoints, and deletes it. Any process may drain: recording is
idempotent, so the long-running consumer (`manage.py agent_sqs_results`) and a client waiting
for its own results (`client.run_commands`) can both do it.

AWS credentials come from the usual chain; `AGENT_SQS_ENDPOINT_URL` points at an SQS-compatible
endpoint (tests use moto's server).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from agent.protocol import (
    MAX_SUPPORTED,
    MIN_SUPPORTED,
    PROTOCOL_VERSION,
    commands_message,
    dumps,
    versions_overlap,
)
from clusters import services
from clusters.gateway.wire import parse_result
from clusters.models import AgentCommand, Cluster, CommandState

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 250_000
MAX_COMMANDS_PER_MESSAGE = 50


def client_for(cluster: Cluster) -> Any:
    import boto3

    return boto3.client(
        "sqs",
        region_name=cluster.sqs_region or None,
        endpoint_url=getattr(settings, "AGENT_SQS_ENDPOINT_URL", None) or None,
    )


def send_commands(cluster: Cluster, rows: list[AgentCommand], client: Any = None) -> None:
    """Put the commands on the cluster's command queue and mark them delivered."""
    client = client or client_for(cluster)
    wire = [services.command_to_wire(row) for row in rows]
    for start in range(0, len(wire), MAX_COMMANDS_PER_MESSAGE):
        chunk = wire[start : start + MAX_COMMANDS_PER_MESSAGE]
        client.send_message(
            QueueUrl=cluster.sqs_command_queue_url, MessageBody=dumps(commands_message(chunk))
        )
    AgentCommand.objects.filter(pk__in=[row.pk for row in rows]).update(
        state=CommandState.DELIVERED, delivered_at=timezone.now(), deliveries=F("deliveries") + 1
    )


def _refuse_version(cluster: Cluster, client: Any) -> None:
    body = {
        "protocol": PROTOCOL_VERSION,
        "type": "error",
        "error": f"this portal speaks agent protocol {MIN_SUPPORTED}..{MAX_SUPPORTED}",
        "min_protocol": MIN_SUPPORTED,
        "max_protocol": MAX_SUPPORTED,
    }
    client.send_message(QueueUrl=cluster.sqs_command_queue_url, MessageBody=dumps(body))


def record_message(cluster: Cluster, body: Any, client: Any = None) -> str:
    """Record one result-queue message; returns what it was (for logs and tests)."""
    if not isinstance(body, dict):
        return "unreadable"
    kind = body.get("type")
    version = body.get("protocol")
    if kind == "hello":
        low = body.get("min_protocol", version)
        high = body.get("max_protocol", version)
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)):
            return "unreadable"
        if not versions_overlap(low, high):
            _refuse_version(cluster, client or client_for(cluster))
            return "refused-version"
        services.cluster_record_hello(cluster=cluster, body=body, protocol=min(high, MAX_SUPPORTED))
        return "hello"
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not MIN_SUPPORTED <= version <= MAX_SUPPORTED
    ):
        return "unsupported"
    if kind == "heartbeat":
        services.cluster_record_heartbeat(cluster=cluster, body=body)
        return "heartbeat"
    if kind == "results" and isinstance(body.get("results"), list):
        results = [r for r in (parse_result(item) for item in body["results"]) if r is not None]
        services.results_record(cluster=cluster, results=results)
        services.cluster_touch(cluster_id=cluster.pk)
        return "results"
    return "unknown"


def drain(cluster: Cluster, *, wait_seconds: int = 0, client: Any = None, max_batches: int = 10) -> int:
    """Read and record what the agent sent (inside the cluster's organization schema)."""
    client = client or client_for(cluster)
    handled = 0
    for batch in range(max_batches):
        response = client.receive_message(
            QueueUrl=cluster.sqs_result_queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=max(0, min(20, wait_seconds)) if batch == 0 else 0,
        )
        messages = response.get("Messages", [])
        for message in messages:
            try:
                body = json.loads(message.get("Body", ""))
            except ValueError:
                body = None
            outcome = record_message(cluster, body, client)
            if outcome in ("unreadable", "unsupported", "unknown"):
                logger.warning("agent.sqs.message_ignored", extra={"cluster": cluster.pk, "outcome": outcome})
            client.delete_message(
                QueueUrl=cluster.sqs_result_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
            handled += 1
        if len(messages) < 10:
            break
    return handled
