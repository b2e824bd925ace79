"""Writes of the gateway: cluster tokens, what the agent reports, claiming commands, results.

Every function runs inside the organization's schema (the caller entered it). Commands and
results live in PostgreSQL; Redis pub/sub only wakes the waiters (see `wake`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from agent.protocol import PROTOCOL_VERSION, Command, CommandParams, Result
from clusters.gateway import wake
from clusters.models import AgentCommand, Cluster, ClusterTransport, CommandState, agent_heartbeat_seconds
from tenants.quotas import CLUSTERS, quota_check_here
from tenants.secret_box import digest
from tenants.side_effects import after_commit_best_effort

logger = logging.getLogger(__name__)

# Agent error codes that mean "the agent would not run it" (kept apart from API failures).
REFUSAL_CODES = ("refused", "invalid", "protocol")


@dataclasses.dataclass(frozen=True)
class NewClusterToken:
    cluster: Cluster
    token: str  # shown once


def _new_token() -> tuple[str, str, str]:
    token = "owc_" + secrets.token_urlsafe(32)
    return token, digest(token), token[:10]


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("name must not be empty")
    if len(name) > 100:
        raise ValidationError("name must be at most 100 characters")
    return name


def cluster_create(
    *,
    name: str,
    transport: str = ClusterTransport.HTTP,
    sqs_command_queue_url: str = "",
    sqs_result_queue_url: str = "",
    sqs_region: str = "",
    created_by: str = "",
) -> NewClusterToken:
    """Register a cluster and return it with its agent token (the only time the token is known)."""
    name = _clean_name(name)
    quota_check_here(CLUSTERS)
    if transport not in ClusterTransport.values:
        raise ValidationError(f"unknown transport {transport!r}")
    if transport == ClusterTransport.SQS and not (
        sqs_command_queue_url and sqs_result_queue_url and sqs_region
    ):
        raise ValidationError("the SQS transport needs a command queue URL, a result queue URL and a region")
    if Cluster.objects.filter(name=name).exists():
        raise ValidationError(f"a cluster named {name!r} already exists")
    token, token_hash, hint = _new_token()
    cluster = Cluster.objects.create(
        name=name,
        token_hash=token_hash,
        token_hint=hint,
        transport=transport,
        sqs_command_queue_url=sqs_command_queue_url if transport == ClusterTransport.SQS else "",
        sqs_result_queue_url=sqs_result_queue_url if transport == ClusterTransport.SQS else "",
        sqs_region=sqs_region if transport == ClusterTransport.SQS else "",
        created_by=created_by,
    )
    logger.info("agent.cluster.created", extra={"cluster": cluster.pk, "transport": str(transport)})
    return NewClusterToken(cluster, token)


def cluster_set_token(*, cluster: Cluster, token: str) -> Cluster:
    """Use a known token (development tooling: the demo cluster keeps its token in a file)."""
    cluster.token_hash, cluster.token_hint = digest(token), token[:10]
    cluster.save(update_fields=["token_hash", "token_hint"])
    return cluster


def cluster_rotate_token(*, cluster: Cluster) -> NewClusterToken:
    """Replace the agent token; the old one stops working at once (the agent gets 404)."""
    token, token_hash, hint = _new_token()
    cluster.token_hash, cluster.token_hint = token_hash, hint
    cluster.token_rotated_at = timezone.now()
    cluster.save(update_fields=["token_hash", "token_hint", "token_rotated_at"])
    logger.info("agent.cluster.token_rotated", extra={"cluster": cluster.pk})
    return NewClusterToken(cluster, token)


def cluster_delete(*, cluster: Cluster) -> None:
    pk = cluster.pk
    cluster.delete()
    logger.info("agent.cluster.deleted", extra={"cluster": pk})


# --- what the agent reports -------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def cluster_record_hello(*, cluster: Cluster, body: dict[str, Any], protocol: int) -> dict[str, Any]:
    """Store versions and capabilities; answer with the timing the agent should use."""
    now = timezone.now()
    capabilities = body.get("capabilities")
    cluster.agent_version = _text(body.get("agent_version"), 40)
    cluster.kubernetes_version = _text(body.get("kubernetes_version"), 60)
    cluster.protocol_version = protocol
    cluster.capabilities = capabilities if isinstance(capabilities, dict) else {}
    cluster.last_seen_at = cluster.connected_at = now
    cluster.save(
        update_fields=[
            "agent_version",
            "kubernetes_version",
            "protocol_version",
            "capabilities",
            "last_seen_at",
            "connected_at",
        ]
    )
    logger.info("agent.cluster.hello", extra={"cluster": cluster.pk, "agent_version": cluster.agent_version})
    return {
        "protocol": PROTOCOL_VERSION,
        "cluster": {"name": cluster.name},
        "poll_wait_seconds": int(getattr(settings, "AGENT_POLL_WAIT_SECONDS", 20)),
        "heartbeat_seconds": agent_heartbeat_seconds(),
    }


def cluster_record_heartbeat(*, cluster: Cluster, body: dict[str, Any]) -> None:
    stats = body.get("stats")
    fields = {"last_seen_at": timezone.now()}
    if isinstance(stats, dict):
        fields["last_stats"] = {k: v for k, v in stats.items() if isinstance(v, int | float)}
    for key, limit in (("agent_version", 40), ("kubernetes_version", 60)):
        if isinstance(body.get(key), str) and body[key]:
            fields[key] = body[key][:limit]
    Cluster.objects.filter(pk=cluster.pk).update(**fields)


def cluster_touch(*, cluster_id: int) -> None:
    Cluster.objects.filter(pk=cluster_id).update(last_seen_at=timezone.now())


# --- commands ---------------------------------------------------------------------------------


def command_to_wire(row: AgentCommand) -> dict[str, Any]:
    params = CommandParams(
        **{k: v for k, v in (row.params or {}).items() if k in CommandParams.__annotations__}
    )
    command = Command(
        id=row.command_id,
        op=row.op,
        kind=row.kind,
        namespace=row.namespace or None,
        name=row.name or None,
        params=params,
        deadline=row.deadline,
    )
    return command.to_dict()


def commands_enqueue(
    *, cluster: Cluster, commands: list[dict[str, Any]], deadline: datetime
) -> list[AgentCommand]:
    """Store commands (validated dicts: op, kind, namespace, name, params) and wake the poller."""
    import uuid

    schema = connection.schema_name
    with transaction.atomic():
        rows = AgentCommand.objects.bulk_create(
            [
                AgentCommand(
                    cluster=cluster,
                    command_id=f"c-{uuid.uuid4()}",
                    op=spec["op"],
                    kind=spec["kind"],
                    namespace=spec.get("namespace") or "",
                    name=spec.get("name") or "",
                    params={k: v for k, v in (spec.get("params") or {}).items() if v is not None},
                    deadline=deadline,
                )
                for spec in commands
            ]
        )
        if cluster.transport == ClusterTransport.HTTP:
            after_commit_best_effort(
                lambda: wake.wake_pollers(schema, cluster.pk),
                event="agent.wake.publish_failed",
                schema=schema,
                object_id=cluster.pk,
            )
    return rows


def commands_claim(*, cluster_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """Take queued commands (and delivered ones whose lease ran out) for one poll answer."""
    now = timezone.now()
    lease = timedelta(seconds=int(getattr(settings, "AGENT_COMMAND_LEASE_SECONDS", 30)))
    limit = limit or int(getattr(settings, "AGENT_COMMANDS_PER_POLL", 20))
    with transaction.atomic():
        AgentCommand.objects.filter(
            cluster_id=cluster_id, state__in=(CommandState.QUEUED, CommandState.DELIVERED), deadline__lte=now
        ).update(state=CommandState.EXPIRED, error_code="expired", completed_at=now)
        rows = list(
            AgentCommand.objects.select_for_update(skip_locked=True)
            .filter(cluster_id=cluster_id, deadline__gt=now)
            .filter(
                Q(state=CommandState.QUEUED) | Q(state=CommandState.DELIVERED, delivered_at__lt=now - lease)
            )
            .order_by("created_at", "pk")[:limit]
        )
        if rows:
            AgentCommand.objects.filter(pk__in=[row.pk for row in rows]).update(
                state=CommandState.DELIVERED, delivered_at=now, deliveries=F("deliveries") + 1
            )
    return [command_to_wire(row) for row in rows]


@dataclasses.dataclass
class ResultsOutcome:
    stored: int = 0
    duplicate: int = 0
    late: int = 0
    unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _json_safe(value: Any) -> Any:
    """PostgreSQL's jsonb cannot hold NUL characters; logs sometimes do."""
    text = json.dumps(value)
    if "\\u0000" not in text:
        return value
    return json.loads(text.replace("\\u0000", "\\ufffd"))


def results_record(*, cluster: Cluster, results: list[Result]) -> ResultsOutcome:
    """Store results; repeated ids are no-ops and a result after its deadline is dropped."""
    outcome = ResultsOutcome()
    if not results:
        return outcome
    schema = connection.schema_name
    now = timezone.now()
    with transaction.atomic():
        rows = {
            row.command_id: row
            for row in AgentCommand.objects.select_for_update().filter(
                cluster=cluster, command_id__in=[r.command_id for r in results]
            )
        }
        for result in results:
            row = rows.get(result.command_id)
            if row is None:
                outcome.unknown += 1
            elif row.state == CommandState.EXPIRED:
                outcome.late += 1
            elif row.finished:
                outcome.duplicate += 1
            elif now > row.deadline:
                row.state, row.error_code, row.completed_at = CommandState.EXPIRED, "expired", now
                row.error_message = "the result arrived after the command's deadline and was dropped"
                row.save(update_fields=["state", "error_code", "error_message", "completed_at"])
                outcome.late += 1
            else:
                _store_result(row, result, now)
                outcome.stored += 1
        if outcome.stored or outcome.late:
            after_commit_best_effort(
                lambda: wake.wake_clients(schema, cluster.pk),
                event="agent.wake.publish_failed",
                schema=schema,
                object_id=cluster.pk,
            )
    if outcome.late or outcome.unknown:
        logger.info("agent.results.dropped", extra={"cluster": cluster.pk, **outcome.as_dict()})
    return outcome


def _store_result(row: AgentCommand, result: Result, now: datetime) -> None:
    code = result.error.code[:20] if result.error else ""
    if not result.ok and not code:  # a failure must never read as success
        code = "api_error"
    if result.ok:
        row.state = CommandState.DONE
    elif code in REFUSAL_CODES:
        row.state = CommandState.REFUSED
    elif code == "expired":
        row.state = CommandState.EXPIRED
    else:
        row.state = CommandState.DONE
    row.result = _json_safe(result.data)
    row.error_code = code
    row.error_message = (result.error.message if result.error else "")[:2000].replace("\x00", "")
    row.truncated = bool(result.truncated)
    row.truncation = (result.truncation or "")[:1000].replace("\x00", "")
    row.redactions = max(0, result.redactions)
    row.duration_ms = max(0, min(result.duration_ms, 2**31 - 1))
    row.completed_at = now
    row.save(
        update_fields=[
            "state",
            "result",
            "error_code",
            "error_message",
            "truncated",
            "truncation",
            "redactions",
            "duration_ms",
            "completed_at",
        ]
    )


def commands_expire(*, command_ids: list[str]) -> int:
    """The client gave up waiting: unanswered commands will not be delivered any more."""
    now = timezone.now()
    return AgentCommand.objects.filter(
        command_id__in=command_ids, state__in=(CommandState.QUEUED, CommandState.DELIVERED)
    ).update(state=CommandState.EXPIRED, error_code="timeout", completed_at=now)
