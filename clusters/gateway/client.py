"""What the investigation engine calls: run read operations on a cluster and wait for the answers.

    from clusters.gateway.client import CommandSpec, run_commands
    results = run_commands(cluster, [CommandSpec("get", "Pod", "shop", "api-7d9f")], wait_seconds=30)
    pod = results[0].unwrap()          # raises CommandRefused / ObjectNotFound / CommandTimeout ...

Call it inside the organization's schema (an RQ job under `@tenant_job`) and outside any
transaction: the commands must be committed before the agent can see them. It blocks until every
command is answered or the deadline passes; commands still unanswered then come back as
`timeout` results and are withdrawn (a late answer is dropped).
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from agent.protocol import COMMAND_FIELDS, ProtocolError, validate_command
from clusters import services
from clusters.gateway import sqs, wake
from clusters.models import AgentCommand, Cluster, ClusterTransport, CommandState
from clusters.selectors import commands_by_id

MAX_WAIT_SECONDS = 600
RECHECK_SECONDS = 1.0


class GatewayError(Exception):
    """Base of every typed failure the engine may catch."""

    code = "gateway"

    def __init__(self, message: str, *, command_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.command_id = command_id


class AgentOffline(GatewayError):
    """The cluster's agent is not connected (never was, or stopped heartbeating)."""

    code = "offline"


class CommandTimeout(GatewayError):
    """No answer before the deadline."""

    code = "timeout"


class CommandFailed(GatewayError):
    """The agent answered with an error; `code` is the protocol's error code."""

    def __init__(self, code: str, message: str, *, command_id: str = "") -> None:
        super().__init__(f"{code}: {message}", command_id=command_id)
        self.code = code
        self.agent_message = message


class CommandRefused(CommandFailed):
    """Not on the agent's allow-list (or malformed): nothing was read."""


class ObjectNotFound(CommandFailed):
    pass


class AccessForbidden(CommandFailed):
    """The agent's RBAC does not allow the read."""


class CommandExpired(CommandFailed):
    """The agent got the command after its deadline, or its answer came too late."""


_ERRORS: dict[str, type[CommandFailed]] = {
    "refused": CommandRefused,
    "invalid": CommandRefused,
    "protocol": CommandRefused,
    "not_found": ObjectNotFound,
    "forbidden": AccessForbidden,
    "expired": CommandExpired,
}


@dataclasses.dataclass(frozen=True)
class CommandSpec:
    """One read: op get|list|logs|events, a kind from the agent's allow-list, and its params."""

    op: str
    kind: str
    namespace: str | None = None
    name: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "params": {k: v for k, v in self.params.items() if v is not None},
        }


@dataclasses.dataclass
class CommandResult:
    spec: CommandSpec
    command_id: str
    ok: bool
    data: Any = None
    error_code: str = ""
    error_message: str = ""
    truncated: bool = False
    truncation: str = ""
    redactions: int = 0
    duration_ms: int | None = None

    @property
    def error(self) -> GatewayError | None:
        if self.ok:
            return None
        if self.error_code == "timeout":
            message = self.error_message or "no answer from the agent before the deadline"
            return CommandTimeout(message, command_id=self.command_id)
        cls = _ERRORS.get(self.error_code, CommandFailed)
        return cls(self.error_code or "api_error", self.error_message, command_id=self.command_id)

    def unwrap(self) -> Any:
        """The data, or raise the typed error."""
        error = self.error
        if error is not None:
            raise error
        return self.data


def _result_of(spec: CommandSpec, row: AgentCommand | None, command_id: str) -> CommandResult:
    if row is None or not row.finished:
        return CommandResult(spec, command_id, ok=False, error_code="timeout")
    if row.state == CommandState.EXPIRED and row.error_code in ("timeout", "expired") and row.result is None:
        code = "timeout" if row.error_code == "timeout" else "expired"
        message = "" if code == "timeout" else (row.error_message or "the deadline passed")
        return CommandResult(spec, command_id, ok=False, error_code=code, error_message=message)
    return CommandResult(
        spec,
        command_id,
        ok=row.state == CommandState.DONE and not row.error_code,
        data=row.result,
        error_code=row.error_code,
        error_message=row.error_message,
        truncated=row.truncated,
        truncation=row.truncation,
        redactions=row.redactions,
        duration_ms=row.duration_ms,
    )


def _validated(spec: CommandSpec) -> dict[str, Any]:
    raw = dict(spec.as_dict(), id="check", deadline="2000-01-01T00:00:00Z")
    try:
        validate_command({k: raw[k] for k in COMMAND_FIELDS})
    except ProtocolError as error:
        raise ValueError(f"malformed command {spec}: {error.message}") from None
    return spec.as_dict()


def run_commands(cluster: Cluster, specs: list[CommandSpec], wait_seconds: float = 30) -> list[CommandResult]:
    """Queue `specs` for the cluster's agent and wait up to `wait_seconds` for the results.

    Raises AgentOffline at once when the agent is not connected. Returns one result per spec,
    in order; an unanswered command is a `timeout` result (`.unwrap()` raises CommandTimeout).
    """
    if not specs:
        return []
    cluster.refresh_from_db()
    if not cluster.is_connected:
        raise AgentOffline(f"the agent of cluster {cluster.name!r} is {cluster.status}")
    if connection.in_atomic_block:
        raise RuntimeError("run_commands must run outside a transaction (the agent reads committed rows)")
    dicts = [_validated(spec) for spec in specs]
    wait_seconds = max(1.0, min(float(wait_seconds), MAX_WAIT_SECONDS))
    deadline = timezone.now() + timedelta(seconds=wait_seconds)
    schema = connection.schema_name
    with wake.ResultWaiter(schema, cluster.pk) as waiter:  # subscribed before anything can answer
        rows = services.commands_enqueue(cluster=cluster, commands=dicts, deadline=deadline)
        ids = [row.command_id for row in rows]
        sqs_client = None
        if cluster.transport == ClusterTransport.SQS:
            sqs_client = sqs.client_for(cluster)
            sqs.send_commands(cluster, rows, client=sqs_client)
        ends = time.monotonic() + wait_seconds
        found: dict[str, AgentCommand] = {}
        while True:
            found = commands_by_id(cluster, ids)
            if all(row.finished for row in found.values()) and len(found) == len(ids):
                break
            remaining = ends - time.monotonic()
            if remaining <= 0:
                break
            if sqs_client is not None:  # read the result queue ourselves (any reader may record)
                sqs.drain(cluster, wait_seconds=int(min(remaining, 2)), client=sqs_client)
            else:
                waiter.wait(min(remaining, RECHECK_SECONDS))
    unanswered = [cid for cid in ids if cid not in found or not found[cid].finished]
    if unanswered:
        services.commands_expire(command_ids=unanswered)
        found = commands_by_id(cluster, ids)
    return [_result_of(spec, found.get(cid), cid) for spec, cid in zip(specs, ids, strict=True)]


def run_command(cluster: Cluster, spec: CommandSpec, wait_seconds: float = 30) -> Any:
    """One command; its data, or the typed error raised."""
    return run_commands(cluster, [spec], wait_seconds)[0].unwrap()
