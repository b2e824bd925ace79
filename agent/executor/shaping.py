"""Turn raw API answers into Results: redact, apply the caps, say what was cut.

Redaction happens before any cut, so a cut can never split a credential out of a pattern's
reach (except where the API itself cut a log, which `redaction` also handles).
"""

from __future__ import annotations

import json
from typing import Any

from agent.allowlist import AllowedCommand, Limits
from agent.executor.calls import KubeFailure
from agent.protocol import Result
from agent.redaction import Redactor

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _result(command_id: str, data: Any, notes: list[str], redactor: Redactor) -> Result:
    return Result(
        command_id=command_id,
        ok=True,
        data=data,
        truncated=bool(notes),
        truncation="; ".join(notes) or None,
        redactions=redactor.count,
    )


def object_result(command_id: str, body: Any, limits: Limits) -> Result:
    """One object, redacted and shrunk to `max_result_bytes` if needed."""
    redactor = Redactor()
    body = redactor.obj(body)
    notes = []
    if isinstance(body, dict) and json_size(body) > limits.max_result_bytes:
        notes.append(shrink_object(body, limits.max_result_bytes))
    return _result(command_id, body, notes, redactor)


def list_result(
    allowed: AllowedCommand, body: Any, limits: Limits, *, item_kind: str | None = None
) -> Result:
    """A `kubectl get -o json`-style List, capped in items and bytes."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise KubeFailure("api_error", "the API answered a list request without an 'items' list")
    spec = allowed.spec
    kind = item_kind or spec.kind
    api_version = "v1" if item_kind == "Event" else spec.api_version
    items: list[Any] = body["items"]
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    notes: list[str] = []
    limit = allowed.limit or limits.max_list_items
    remaining = meta.get("remainingItemCount")
    if len(items) > limit:  # an API that ignored `limit`
        remaining = (remaining or 0) + len(items) - limit
        items = items[:limit]
    if remaining or meta.get("continue"):
        more = f"{remaining} more" if remaining else "more"
        cap = f" (agent max_list_items={limits.max_list_items})" if allowed.limit_capped else ""
        notes.append(f"returned the first {len(items)} items, {more} exist{cap}")
    for item in items:
        if isinstance(item, dict):  # list items come without kind/apiVersion; kubectl adds them
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
    redactor = Redactor()
    items = redactor.obj(items)
    kept = fit_items(items, limits.max_result_bytes)
    if kept < len(items):
        notes.append(
            f"kept {kept} of {len(items)} items to stay under {limits.max_result_bytes} bytes "
            "(agent max_result_bytes)"
        )
        items = items[:kept]
    data = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": str(meta.get("resourceVersion", ""))},
        "items": items,
    }
    return _result(allowed.id, data, notes, redactor)


def log_result(allowed: AllowedCommand, data: bytes, read_cap: int, limits: Limits) -> Result:
    """The most recent lines of a log, redacted, within the line and byte caps."""
    notes: list[str] = []
    if len(data) >= read_cap:
        notes.append(f"log output reached the {read_cap}-byte read cap")
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    tail = allowed.tail_lines or limits.max_log_lines
    if len(lines) > tail:  # an API that ignored tailLines
        lines = lines[-tail:]
    if allowed.tail_capped and len(lines) >= tail:
        notes.append(f"only the last {tail} lines were read (agent max_log_lines={limits.max_log_lines})")
    redactor = Redactor()
    text = redactor.text("".join(lines))
    encoded = text.encode("utf-8")
    budget = min(limits.max_log_bytes, limits.max_result_bytes)
    if len(encoded) > budget:
        cut = encoded[-budget:]
        newline = cut.find(b"\n")
        if 0 <= newline < len(cut) - 1:  # start at a whole line
            cut = cut[newline + 1 :]
        text = cut.decode("utf-8", errors="ignore")
        notes.append(f"kept the last {len(cut)} of {len(encoded)} bytes (agent max_log_bytes={budget})")
    return _result(allowed.id, text, notes, redactor)


def fit_items(items: list[Any], budget: int) -> int:
    """How many leading items fit in `budget` bytes of JSON (with list overhead)."""
    total = 200
    for index, item in enumerate(items):
        total += json_size(item) + 1
        if total > budget:
            return index
    return len(items)


def shrink_object(body: dict[str, Any], budget: int) -> str:
    """Drop the bulkiest, least useful parts of one object until it fits; say what went."""
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    dropped = []
    if meta.pop("managedFields", None) is not None:
        dropped.append("metadata.managedFields")
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    if json_size(body) > budget and annotations.pop(LAST_APPLIED, None) is not None:
        dropped.append("the last-applied-configuration annotation")
    for key in ("data", "binaryData", "spec", "status"):
        if key in body and json_size(body) > budget:
            body.pop(key)
            dropped.append(key)
    return f"object larger than {budget} bytes (agent max_result_bytes): dropped {', '.join(dropped)}"
