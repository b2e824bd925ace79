"""OpsWorker agent protocol, version 1: the messages the agent and the portal exchange.

This module is shared: the agent uses it and the portal imports it to implement the other
side, so it depends on the standard library only.

Overview
========
The agent runs inside the customer's cluster and only ever *connects out*: it never opens a
listening port. Every message is a JSON object carrying ``"protocol": 1`` and (on SQS, where
there is no URL to tell messages apart) a ``"type"``. Versions are negotiated at hello: an
agent speaks ``MIN_SUPPORTED..MAX_SUPPORTED``; the portal answers 426 when the ranges do not
overlap and the agent exits with a clear error instead of retrying.

HTTP transport (agent → portal, HTTPS, ``Authorization: Bearer <cluster token>``)
--------------------------------------------------------------------------------
Request bodies also carry ``"type"`` (``hello``/``heartbeat``/``results``) so that HTTP and SQS
messages are identical; the portal may ignore it over HTTP. Unknown fields must be ignored by
both sides (that is how version 1 grows without a bump).

``POST /agent/v1/hello``
    request  ``{"protocol": 1, "type": "hello", "agent_version": "0.1.0",
    "kubernetes_version": "v1.29.8", "min_protocol": 1, "max_protocol": 1,
    "capabilities": {"ops": [...], "kinds": [...], "metrics": bool,
    "limits": {"max_log_lines": n, "max_log_bytes": n, "max_list_items": n,
    "max_result_bytes": n}}}``

    200 ``{"protocol": 1, "cluster": {"name": "prod-eu-1"}, "poll_wait_seconds": 20,
    "heartbeat_seconds": 30}`` (both numbers optional: the agent keeps its configured ones)

    426 ``{"error": "...", "min_protocol": 1, "max_protocol": 1}``: the agent logs
    ``agent.protocol.unsupported`` and exits with status 2.

    401 / 404 (unknown or revoked token): the agent logs and retries with backoff.

``POST /agent/v1/heartbeat``
    ``{"protocol": 1, "agent_version": ..., "kubernetes_version": ...,
    "stats": {"commands_run": int, "commands_refused": int, "rss_bytes": int,
    "uptime_seconds": int}}`` → 200 (body ignored).

``GET /agent/v1/commands?wait=<seconds>``
    long poll; 200 ``{"protocol": 1, "commands": [Command, ...]}``, an empty list when the wait
    expires. The portal should answer within ``wait`` seconds (the agent's read timeout is
    ``wait + 15``).

``POST /agent/v1/results``
    ``{"protocol": 1, "results": [Result, ...]}`` → 200 ``{"accepted": n}``. The agent batches
    results and retries a batch (with backoff) until accepted; the portal must treat a
    repeated ``command_id`` as idempotent.

Any 5xx, connection error or timeout: the agent backs off exponentially with jitter
(1 s doubling to 60 s) and then reconnects starting with hello.

SQS transport (one command queue and one result queue per cluster)
------------------------------------------------------------------
Same objects, one JSON message each:

* command queue (portal → agent): ``{"protocol": 1, "type": "commands", "commands": [...]}``
* result queue (agent → portal): ``{"protocol": 1, "type": "hello", ...hello body...}``,
  ``{"protocol": 1, "type": "heartbeat", ...}``, ``{"protocol": 1, "type": "results",
  "results": [...]}`` (one result per message, so each stays under the SQS size limit).

The agent long-polls the command queue (``WaitTimeSeconds``) and deletes a message after its
commands' results were sent. To refuse an agent's protocol version over SQS (there is no 426),
the portal puts ``{"protocol": <its version>, "type": "error", "error": "...", "min_protocol": n,
"max_protocol": m}`` on the command queue; an agent whose range does not overlap exits with
status 2. A message that is not valid JSON or has an unsupported
``protocol`` is answered with ``protocol`` error results where command ids can be read, then
deleted.

Command
=======
::

    {"id": "c-81f2",                        # 1-128 chars of [A-Za-z0-9._:-]
     "op": "get" | "list" | "logs" | "events",
     "kind": "Pod",                         # one of allowlist.KINDS (exact spelling)
     "namespace": "shop" | null,            # required for namespaced get/logs/events
     "name": "api-7d9f" | null,             # required for get/logs/events, forbidden for list
     "params": {                            # every key optional; null means absent
         "label_selector": "app=api",       # list only
         "field_selector": "status.phase=Running",  # list only
         "limit": 100,                      # list and events; 1..100000, capped by the agent
         "container": "api",                # logs only
         "previous": true,                  # logs only
         "tail_lines": 200,                 # logs only; 1..100000, capped by the agent
         "since_seconds": 3600},            # logs only; 1..2592000 (30 days)
     "deadline": "2025-03-15T10:36:00Z"}    # ISO 8601 with a timezone

Semantics: ``get`` one object; ``list`` objects of a kind (all namespaces when
``namespace`` is null); ``logs`` of a Pod's container (``previous`` for the crashed
instance); ``events`` the core/v1 Events whose ``involvedObject`` is the named object.
Unknown keys, wrong types or a missing field make the command ``invalid``; a kind, op or
parameter the allow-list does not permit makes it ``refused``. Either way nothing is read.

Result
======
::

    {"command_id": "c-81f2",
     "ok": true,
     "data": ...,             # get: the object; list/events: {"apiVersion": "v1", "kind": "List",
                              # "metadata": {...}, "items": [...]}; logs: the log text (str)
     "error": null | {"code": "...", "message": "..."},
     "truncated": false,      # true when a cap cut the data ...
     "truncation": null,      # ... and then a sentence saying which cap and how much
     "redactions": 0,         # how many values were masked before leaving the cluster
     "duration_ms": 12}

Objects look as ``kubectl get -o json`` shows them. Masked values read ``***`` (or keep a
recognisable prefix, e.g. ``AKIA***``); keys and structure are kept.

Error codes: ``refused`` (not on the allow-list), ``invalid`` (malformed command),
``not_found`` (404), ``forbidden`` (403: the agent's RBAC does not allow it), ``timeout``
(the API did not answer before the deadline), ``api_error`` (any other API failure),
``expired`` (the deadline had passed before the agent got to it: not executed),
``protocol`` (unsupported protocol version or unreadable message),
``unavailable`` (an optional API, e.g. metrics.k8s.io, is not served by this cluster).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

PROTOCOL_VERSION = 1
MIN_SUPPORTED = 1
MAX_SUPPORTED = 1

OPS = ("get", "list", "logs", "events")
PARAM_NAMES = (
    "label_selector",
    "field_selector",
    "limit",
    "container",
    "previous",
    "tail_lines",
    "since_seconds",
)
COMMAND_FIELDS = ("id", "op", "kind", "namespace", "name", "params", "deadline")

ERROR_CODES = (
    "refused",
    "not_found",
    "forbidden",
    "invalid",
    "timeout",
    "api_error",
    "expired",
    "protocol",
    "unavailable",
)

# Paths on the portal, relative to OPSWORKER_PORTAL_URL.
PATH_HELLO = "/agent/v1/hello"
PATH_HEARTBEAT = "/agent/v1/heartbeat"
PATH_COMMANDS = "/agent/v1/commands"
PATH_RESULTS = "/agent/v1/results"

MAX_COMMAND_ID_LENGTH = 128
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


class ProtocolError(ValueError):
    """A message or command that does not follow the protocol; `code` is a Result error code."""

    def __init__(self, message: str, *, code: str = "invalid", command_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.command_id = command_id


@dataclass(frozen=True)
class CommandParams:
    """Optional parameters of a command; None means absent."""

    label_selector: str | None = None
    field_selector: str | None = None
    limit: int | None = None
    container: str | None = None
    previous: bool | None = None
    tail_lines: int | None = None
    since_seconds: int | None = None

    def present(self) -> dict[str, Any]:
        """The parameters that were given (not None)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Command:
    """One read-only request from the portal."""

    id: str
    op: str
    kind: str
    namespace: str | None
    name: str | None
    params: CommandParams
    deadline: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op": self.op,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "params": asdict(self.params),
            "deadline": self.deadline.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class ResultError:
    code: str
    message: str


@dataclass
class Result:
    """What the agent sends back for one command."""

    command_id: str
    ok: bool
    data: Any = None
    error: ResultError | None = None
    truncated: bool = False
    truncation: str | None = None
    redactions: int = 0
    duration_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "ok": self.ok,
            "data": self.data,
            "error": asdict(self.error) if self.error else None,
            "truncated": self.truncated,
            "truncation": self.truncation,
            "redactions": self.redactions,
            "duration_ms": self.duration_ms,
        }

    @classmethod
    def failure(cls, command_id: str, code: str, message: str, *, duration_ms: int = 0) -> Result:
        """A result for a command that was not (or could not be) executed."""
        return cls(
            command_id=command_id,
            ok=False,
            error=ResultError(code=code, message=message),
            duration_ms=duration_ms,
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        err = raw.get("error")
        return cls(
            command_id=str(raw["command_id"]),
            ok=bool(raw["ok"]),
            data=raw.get("data"),
            error=ResultError(code=err["code"], message=err["message"]) if err else None,
            truncated=bool(raw.get("truncated", False)),
            truncation=raw.get("truncation"),
            redactions=int(raw.get("redactions", 0)),
            duration_ms=int(raw.get("duration_ms", 0)),
        )


@dataclass(frozen=True)
class HelloReply:
    """The portal's answer to hello."""

    cluster_name: str
    poll_wait_seconds: int | None = None
    heartbeat_seconds: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def versions_overlap(min_protocol: int, max_protocol: int) -> bool:
    """Whether a peer speaking min..max can talk to this module's version range."""
    return min_protocol <= MAX_SUPPORTED and max_protocol >= MIN_SUPPORTED


def command_id_of(raw: object) -> str:
    """The command id if it can be read safely, else ""; used to answer malformed commands."""
    if isinstance(raw, dict):
        cid = raw.get("id")
        if _is_valid_id(cid):
            return cid  # type: ignore[return-value]
    return ""


def _is_valid_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_COMMAND_ID_LENGTH
        and all(ch in _ID_CHARS for ch in value)
    )


def _optional_str(raw: dict[str, Any], key: str, cid: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"'{key}' must be a string or null", command_id=cid)
    return value


def _validate_params(raw: object, cid: str) -> CommandParams:
    if raw is None:
        return CommandParams()
    if not isinstance(raw, dict):
        raise ProtocolError("'params' must be an object", command_id=cid)
    unknown = sorted(set(raw) - set(PARAM_NAMES))
    if unknown:
        raise ProtocolError(
            f"unknown params {unknown}; allowed: {list(PARAM_NAMES)}", code="refused", command_id=cid
        )
    for key in ("label_selector", "field_selector", "container"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ProtocolError(f"params.{key} must be a string", command_id=cid)
    for key in ("limit", "tail_lines", "since_seconds"):
        value = raw.get(key)
        # bool is an int in Python: reject it explicitly.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ProtocolError(f"params.{key} must be an integer", command_id=cid)
    if raw.get("previous") is not None and not isinstance(raw["previous"], bool):
        raise ProtocolError("params.previous must be true or false", command_id=cid)
    return CommandParams(**{k: raw.get(k) for k in PARAM_NAMES})


def parse_deadline(value: object, cid: str = "") -> datetime:
    """An ISO 8601 timestamp with a timezone, as a timezone-aware datetime."""
    if not isinstance(value, str) or len(value) > 64:
        raise ProtocolError("'deadline' must be an ISO 8601 timestamp string", command_id=cid)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ProtocolError(f"'deadline' is not ISO 8601: {value!r}", command_id=cid) from None
    if parsed.tzinfo is None:
        raise ProtocolError("'deadline' must include a timezone (e.g. 'Z')", command_id=cid)
    return parsed


def validate_command(raw: object) -> Command:
    """Check a command's shape and types (not its policy: see `agent.allowlist`).

    Raises ProtocolError with code `invalid` (or `refused` for unknown params).
    """
    if not isinstance(raw, dict):
        raise ProtocolError("a command must be a JSON object")
    cid = command_id_of(raw)
    if not _is_valid_id(raw.get("id")):
        raise ProtocolError(f"'id' must be 1-{MAX_COMMAND_ID_LENGTH} characters of letters, digits and ._:-")
    unknown = sorted(set(raw) - set(COMMAND_FIELDS))
    if unknown:
        raise ProtocolError(f"unknown command fields {unknown}", command_id=cid)
    for key in ("op", "kind", "deadline"):
        if key not in raw:
            raise ProtocolError(f"missing required field '{key}'", command_id=cid)
    op = raw["op"]
    if not isinstance(op, str):
        raise ProtocolError("'op' must be a string", command_id=cid)
    kind = raw["kind"]
    if not isinstance(kind, str):
        raise ProtocolError("'kind' must be a string", command_id=cid)
    return Command(
        id=cid,
        op=op,
        kind=kind,
        namespace=_optional_str(raw, "namespace", cid),
        name=_optional_str(raw, "name", cid),
        params=_validate_params(raw.get("params"), cid),
        deadline=parse_deadline(raw["deadline"], cid),
    )


def check_envelope(message: object, *, expected_key: str) -> list[Any]:
    """The list under `expected_key` of a versioned message; ProtocolError(code=protocol) otherwise."""
    if not isinstance(message, dict):
        raise ProtocolError("message must be a JSON object", code="protocol")
    version = message.get("protocol")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProtocolError("message has no integer 'protocol' field", code="protocol")
    if not MIN_SUPPORTED <= version <= MAX_SUPPORTED:
        raise ProtocolError(
            f"protocol {version} not supported (agent speaks {MIN_SUPPORTED}..{MAX_SUPPORTED})",
            code="protocol",
        )
    items = message.get(expected_key)
    if not isinstance(items, list):
        raise ProtocolError(f"message has no '{expected_key}' list", code="protocol")
    return items


def dumps(message: dict[str, Any]) -> str:
    """Compact JSON, as sent on the wire."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def hello_message(
    *, agent_version: str, kubernetes_version: str, capabilities: dict[str, Any]
) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL_VERSION,
        "type": "hello",
        "agent_version": agent_version,
        "kubernetes_version": kubernetes_version,
        "capabilities": capabilities,
        "min_protocol": MIN_SUPPORTED,
        "max_protocol": MAX_SUPPORTED,
    }


def heartbeat_message(
    *, agent_version: str, kubernetes_version: str, stats: dict[str, int]
) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL_VERSION,
        "type": "heartbeat",
        "agent_version": agent_version,
        "kubernetes_version": kubernetes_version,
        "stats": stats,
    }


def results_message(results: list[Result]) -> dict[str, Any]:
    return {"protocol": PROTOCOL_VERSION, "type": "results", "results": [r.to_dict() for r in results]}


def commands_message(commands: list[dict[str, Any]]) -> dict[str, Any]:
    """What the portal sends (HTTP poll answer or SQS command message)."""
    return {"protocol": PROTOCOL_VERSION, "type": "commands", "commands": commands}


def parse_hello_reply(body: object) -> HelloReply:
    """Read the portal's 200 answer to hello."""
    if not isinstance(body, dict):
        raise ProtocolError("hello reply must be a JSON object", code="protocol")
    version = body.get("protocol")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not versions_overlap(version, version)
    ):
        raise ProtocolError(f"portal answered with unsupported protocol {version!r}", code="protocol")
    cluster = body.get("cluster") if isinstance(body.get("cluster"), dict) else {}
    name = cluster.get("name") if isinstance(cluster.get("name"), str) else ""

    def _positive_int(key: str) -> int | None:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return None

    return HelloReply(
        cluster_name=name,
        poll_wait_seconds=_positive_int("poll_wait_seconds"),
        heartbeat_seconds=_positive_int("heartbeat_seconds"),
        extra={
            k: v for k, v in body.items() if k not in {"cluster", "poll_wait_seconds", "heartbeat_seconds"}
        },
    )
