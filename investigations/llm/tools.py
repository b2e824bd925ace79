"""The read-only tools a model may call, executed through the engine's Reader (the agent).

Every call is checked before anything runs: the tool must exist, its arguments must be the
documented ones, and the read it maps to must pass the agent's own allow-list (`agent.allowlist.vet`:
no Secrets, no exec/delete, known kinds only, sane bounds) plus our tighter caps. A refused call is
recorded and answered to the model as a refusal; it never reaches the Reader.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.allowlist import Rejected, vet
from agent.redaction import Redactor
from investigations.engine.collect import Answer, Ask, Reader
from investigations.llm.prompts import untrusted_block
from investigations.llm.providers.base import ToolCall

MAX_TOOL_CALLS = 12  # per analysis
MAX_CALLS_PER_ROUND = 6
MAX_TAIL_LINES = 500  # logs the model may ask for at once (the agent's own bound is far higher)
MAX_LIST_ITEMS = 50
MAX_RESULT_CHARS = 12_000

_KIND = {"type": "string", "description": "Exact Kubernetes kind, e.g. Pod, Deployment, Service, Node."}
_NAMESPACE = {"type": "string", "description": "Namespace; empty for cluster-scoped kinds (Node…)."}
TOOL_SPECS: list[dict[str, Any]] = [
    {
        "name": "get_object",
        "description": "Read one Kubernetes object (as kubectl get -o json). Secrets are never readable.",
        "parameters": {
            "type": "object",
            "properties": {"kind": _KIND, "namespace": _NAMESPACE, "name": {"type": "string"}},
            "required": ["kind", "name"],
        },
    },
    {
        "name": "list_objects",
        "description": f"List objects of a kind in a namespace (at most {MAX_LIST_ITEMS}), optionally "
        "filtered by a label selector such as app=api.",
        "parameters": {
            "type": "object",
            "properties": {
                "kind": _KIND,
                "namespace": _NAMESPACE,
                "label_selector": {"type": "string"},
            },
            "required": ["kind"],
        },
    },
    {
        "name": "pod_logs",
        "description": f"The last lines (at most {MAX_TAIL_LINES}) of a pod container's log; "
        "previous=true for the crashed instance.",
        "parameters": {
            "type": "object",
            "properties": {
                "namespace": {"type": "string"},
                "pod": {"type": "string"},
                "container": {"type": "string"},
                "previous": {"type": "boolean"},
                "tail_lines": {"type": "integer", "minimum": 1, "maximum": MAX_TAIL_LINES},
            },
            "required": ["namespace", "pod"],
        },
    },
    {
        "name": "events_for",
        "description": "The Kubernetes events about one object.",
        "parameters": {
            "type": "object",
            "properties": {"kind": _KIND, "namespace": _NAMESPACE, "name": {"type": "string"}},
            "required": ["kind", "name"],
        },
    },
]
_ARGUMENTS = {spec["name"]: set(spec["parameters"]["properties"]) for spec in TOOL_SPECS}
_REQUIRED = {spec["name"]: set(spec["parameters"]["required"]) for spec in TOOL_SPECS}


class Refused(Exception):
    pass


@dataclasses.dataclass
class ToolRecord:
    """What the model asked, what it mapped to, and what happened (kept in the result)."""

    id: str
    tool: str
    arguments: dict[str, Any]
    status: str  # ok | error | refused
    reason: str = ""
    read: str = ""  # the agent read it became (Ask.describe())
    chars: int = 0
    truncated: bool = False
    evidence_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ToolReply:
    call: ToolCall
    content: str
    is_error: bool
    record: ToolRecord


def ask_for(call: ToolCall) -> Ask:
    """Map a tool call to one agent read, or raise Refused with the reason the model is told."""
    name, args = call.name, call.arguments
    if name not in _ARGUMENTS:
        raise Refused(
            f"there is no tool {name[:60]!r}: only read-only tools exist ({', '.join(_ARGUMENTS)}); "
            "nothing can be executed, changed, deleted or exec'd"
        )
    if "__invalid__" in args:
        raise Refused("the arguments are not a JSON object")
    unknown = sorted(set(args) - _ARGUMENTS[name])
    if unknown:
        raise Refused(f"unexpected argument(s) {unknown} for {name}")
    missing = sorted(k for k in _REQUIRED[name] if args.get(k) in (None, ""))
    if missing:
        raise Refused(f"missing argument(s) {missing} for {name}")
    for key, value in args.items():
        if key in ("previous",):
            if not isinstance(value, bool):
                raise Refused("previous must be true or false")
        elif key == "tail_lines":
            if isinstance(value, bool) or not isinstance(value, int):
                raise Refused("tail_lines must be an integer")
        elif not isinstance(value, str):
            raise Refused(f"{key} must be a string")
    namespace = args.get("namespace") or None
    if name == "get_object":
        return Ask("get", args["kind"], namespace, args["name"])
    if name == "list_objects":
        params: dict[str, Any] = {"limit": MAX_LIST_ITEMS}
        if args.get("label_selector"):
            params["label_selector"] = args["label_selector"]
        return Ask("list", args["kind"], namespace, None, params)
    if name == "events_for":
        return Ask("events", args["kind"], namespace, args["name"], {"limit": MAX_LIST_ITEMS})
    tail = args.get("tail_lines", 200)
    if not 1 <= tail <= MAX_TAIL_LINES:
        raise Refused(f"tail_lines must be between 1 and {MAX_TAIL_LINES}, got {tail}")
    params = {"tail_lines": tail}
    if args.get("container"):
        params["container"] = args["container"]
    if args.get("previous"):
        params["previous"] = True
    return Ask("logs", "Pod", args["namespace"], args["pod"], params)


def vet_ask(ask: Ask) -> None:
    """The agent's allow-list, applied here too so a forbidden read is never even sent."""
    raw = {
        "id": "llm-tool-check",
        "op": ask.op,
        "kind": ask.kind,
        "namespace": ask.namespace,
        "name": ask.name,
        "params": dict(ask.params),
        "deadline": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
    }
    try:
        vet(raw)
    except Rejected as rejected:
        raise Refused(
            f"the agent's allow-list refuses this read ({rejected.code}): {rejected.message}"
        ) from None


class Toolbox:
    """Runs a round of tool calls through the Reader, refusing what is not allowed."""

    def __init__(
        self,
        reader: Reader,
        *,
        max_calls: int = MAX_TOOL_CALLS,
        reader_errors: tuple[type[Exception], ...] = (),
    ):
        self.reader = reader
        self.max_calls = max_calls
        self.reader_errors = reader_errors
        self.records: list[ToolRecord] = []
        self.evidence: list[dict[str, Any]] = []  # tool results the model may cite (T1, T2…)
        self.redactions = 0
        self._counter = itertools.count(1)
        self._executed = 0

    @property
    def refused(self) -> list[ToolRecord]:
        return [r for r in self.records if r.status == "refused"]

    def run_round(self, calls: list[ToolCall]) -> list[ToolReply]:
        replies: dict[int, ToolReply] = {}
        allowed: list[tuple[int, ToolCall, Ask]] = []
        for index, call in enumerate(calls):
            try:
                if index >= MAX_CALLS_PER_ROUND or self._executed + len(allowed) >= self.max_calls:
                    raise Refused(
                        f"tool budget exhausted ({self.max_calls} reads per analysis, "
                        f"{MAX_CALLS_PER_ROUND} per round): answer from the evidence you have"
                    )
                ask = ask_for(call)
                vet_ask(ask)
            except Refused as refusal:
                replies[index] = self._refuse(call, str(refusal))
                continue
            allowed.append((index, call, ask))
        if allowed:
            answers = self._read([ask for _, _, ask in allowed])
            self._executed += len(allowed)
            for (index, call, ask), answer in zip(allowed, answers, strict=True):
                replies[index] = self._answer(call, ask, answer)
        return [replies[i] for i in range(len(calls))]

    def _read(self, asks: list[Ask]) -> list[Answer]:
        try:
            return self.reader(asks)
        except self.reader_errors as error:
            return [Answer(ask, False, error=f"the agent could not be reached: {error}") for ask in asks]

    def _refuse(self, call: ToolCall, reason: str) -> ToolReply:
        record = ToolRecord(call.id, call.name, _shown(call.arguments), "refused", reason)
        self.records.append(record)
        content = f"REFUSED: {reason}. Nothing was executed."
        return ToolReply(call, content, True, record)

    def _answer(self, call: ToolCall, ask: Ask, answer: Answer) -> ToolReply:
        record = ToolRecord(call.id, call.name, _shown(call.arguments), "ok", read=ask.describe())
        self.records.append(record)
        if not answer.ok:
            record.status, record.reason = "error", answer.error
            return ToolReply(call, f"ERROR: {answer.error}", True, record)
        redactor = Redactor()
        data = _compact(answer.data)
        text = redactor.text(data) if isinstance(data, str) else json.dumps(redactor.obj(data), default=str)
        self.redactions += redactor.count + answer.redactions
        if len(text) > MAX_RESULT_CHARS:
            text = text[-MAX_RESULT_CHARS:] if ask.op == "logs" else text[:MAX_RESULT_CHARS]
            record.truncated = True
        record.truncated = record.truncated or answer.truncated
        record.chars = len(text)
        record.evidence_id = f"T{next(self._counter)}"
        self.evidence.append(
            {
                "id": record.evidence_id,
                "kind": "tool",
                "read": ask.describe(),
                "resource": {"kind": ask.kind, "namespace": ask.namespace or "", "name": ask.name or ""},
                "excerpt": text[:1500],
                "data": data,
            }
        )
        note = " (truncated)" if record.truncated else ""
        content = f"Result {record.evidence_id} of {ask.describe()}{note}:\n" + untrusted_block(
            f"tool:{call.name}", text
        )
        return ToolReply(call, content, False, record)


def _shown(arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments as recorded: short strings only (a model could send anything)."""
    return {str(k)[:40]: (v if isinstance(v, bool | int) else str(v)[:200]) for k, v in arguments.items()}


def _compact(data: Any) -> Any:
    """Drop bulky fields the model does not need (managedFields, last-applied copies)."""
    if isinstance(data, dict):
        meta = data.get("metadata")
        if isinstance(meta, dict):
            meta = dict(meta)
            meta.pop("managedFields", None)
            annotations = meta.get("annotations")
            if isinstance(annotations, dict):
                meta["annotations"] = {
                    k: v for k, v in annotations.items() if not k.endswith("last-applied-configuration")
                }
            data = {**data, "metadata": meta}
        if isinstance(data.get("items"), list):
            data = {**data, "items": [_compact(item) for item in data["items"]]}
    return data
