"""Run vetted, read-only commands against the Kubernetes API and answer with protocol Results.

`Executor.execute()` is the one entry point: allow-list (`agent.allowlist`), deadline, one read
through `calls.KubeReader` (the table of every call the agent can make), then redaction and
caps (`shaping`). It never raises for a bad command or a failed read: every command gets a
Result.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.allowlist import METRICS_KINDS, AllowedCommand, Limits, Rejected, vet
from agent.executor.calls import (
    CUSTOM_CALLS,
    EVENT_CALLS,
    LOG_CALL,
    READ_CALLS,
    READ_PREFIXES,
    VERSION_CALL,
    KubeFailure,
    KubeReader,
    api_client_from_settings,
)
from agent.executor.shaping import list_result, log_result, object_result
from agent.protocol import Result, command_id_of

__all__ = ["READ_CALLS", "READ_PREFIXES", "Executor", "Stats", "api_client_from_settings"]

logger = logging.getLogger("agent.executor")

METRICS_GROUP, METRICS_VERSION = "metrics.k8s.io", "v1beta1"
_METRICS_CACHE_SECONDS = 300.0
_CUSTOM = CUSTOM_CALLS[0]


@dataclass
class Stats:
    """Counters reported in heartbeats."""

    commands_run: int = 0
    commands_refused: int = 0


class Executor:
    """Executes commands with one shared `kubernetes.client.ApiClient` (thread-safe)."""

    def __init__(
        self, api_client: Any, limits: Limits | None = None, *, request_timeout: float = 30.0
    ) -> None:
        self.kube = KubeReader(api_client)
        self.limits = limits or Limits()
        self.request_timeout = request_timeout
        self.stats = Stats()
        self._lock = threading.Lock()
        self._metrics_checked_at = -_METRICS_CACHE_SECONDS
        self._metrics_available = False

    def execute(self, raw: object) -> Result:
        """Vet and run one raw command (as decoded from JSON)."""
        started = time.monotonic()
        try:
            allowed = vet(raw, self.limits)
        except Rejected as exc:
            return self._rejected(raw, exc)
        cmd = allowed.command
        remaining = (cmd.deadline - datetime.now(UTC)).total_seconds()
        if remaining <= 0:
            return Result.failure(
                cmd.id, "expired", f"deadline {cmd.deadline.isoformat()} passed before execution"
            )
        with self._lock:
            self.stats.commands_run += 1
        try:
            result = self._run(allowed, timeout=max(0.5, min(self.request_timeout, remaining)))
        except KubeFailure as exc:
            result = Result.failure(cmd.id, exc.code, exc.message)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        logger.info(
            "agent.command.done",
            extra={
                "command_id": cmd.id,
                "op": cmd.op,
                "kind": cmd.kind,
                "ok": result.ok,
                "code": result.error.code if result.error else None,
                "truncated": result.truncated,
                "redactions": result.redactions,
                "duration_ms": result.duration_ms,
            },
        )
        return result

    def kubernetes_version(self) -> str:
        """The API server's gitVersion, or "unknown"."""
        try:
            body = self.kube.json(*VERSION_CALL, timeout=self.request_timeout)
        except KubeFailure:
            return "unknown"
        return str(body.get("gitVersion", "unknown")) if isinstance(body, dict) else "unknown"

    def metrics_available(self) -> bool:
        """Whether metrics.k8s.io is served.

        A "yes" is cached for a few minutes; a "no" is not cached, because metrics-server can be
        installed (or become ready) at any time and one discovery request is cheap.
        """
        now = time.monotonic()
        if self._metrics_available and now - self._metrics_checked_at < _METRICS_CACHE_SECONDS:
            return True
        try:
            self.kube.json(
                _CUSTOM, "get_api_resources", METRICS_GROUP, METRICS_VERSION, timeout=self.request_timeout
            )
            available = True
        except KubeFailure:
            available = False
        self._metrics_available, self._metrics_checked_at = available, now
        return available

    def _rejected(self, raw: object, exc: Rejected) -> Result:
        command_id = exc.command_id or command_id_of(raw)
        with self._lock:
            self.stats.commands_refused += 1
        logger.warning(
            "agent.command.rejected",
            extra={"command_id": command_id, "code": exc.code, "reason": exc.message},
        )
        return Result.failure(command_id, exc.code, exc.message)

    def _run(self, allowed: AllowedCommand, *, timeout: float) -> Result:
        if allowed.spec.kind in METRICS_KINDS and not self.metrics_available():
            raise KubeFailure(
                "unavailable",
                "the metrics API (metrics.k8s.io/v1beta1) is not served by this cluster; "
                "install metrics-server to read PodMetrics/NodeMetrics",
            )
        op = allowed.command.op
        if op == "get":
            return self._get(allowed, timeout)
        if op == "list":
            return list_result(allowed, self._list(allowed, timeout), self.limits)
        if op == "events":
            return list_result(allowed, self._events(allowed, timeout), self.limits, item_kind="Event")
        return self._logs(allowed, timeout)

    def _get(self, allowed: AllowedCommand, timeout: float) -> Result:
        cmd, spec = allowed.command, allowed.spec
        if spec.custom and spec.namespaced:
            args: tuple[Any, ...] = (spec.group, spec.version, cmd.namespace, spec.plural, cmd.name)
            body = self.kube.json(_CUSTOM, "get_namespaced_custom_object", *args, timeout=timeout)
        elif spec.custom:
            args = (spec.group, spec.version, spec.plural, cmd.name)
            body = self.kube.json(_CUSTOM, "get_cluster_custom_object", *args, timeout=timeout)
        else:
            call = READ_CALLS[spec.kind]
            args = (cmd.name, cmd.namespace) if spec.namespaced else (cmd.name,)
            body = self.kube.json(call.api, call.read, *args, timeout=timeout)
        if isinstance(body, dict):
            body.setdefault("apiVersion", spec.api_version)
            body.setdefault("kind", spec.kind)
        return object_result(cmd.id, body, self.limits)

    def _list(self, allowed: AllowedCommand, timeout: float) -> Any:
        cmd, spec = allowed.command, allowed.spec
        kwargs: dict[str, Any] = {"limit": allowed.limit, "timeout": timeout}
        if cmd.params.label_selector:
            kwargs["label_selector"] = cmd.params.label_selector
        if cmd.params.field_selector:
            kwargs["field_selector"] = cmd.params.field_selector
        in_namespace = spec.namespaced and cmd.namespace
        if spec.custom:
            if in_namespace:
                args: tuple[Any, ...] = (spec.group, spec.version, cmd.namespace, spec.plural)
                return self.kube.json(_CUSTOM, "list_namespaced_custom_object", *args, **kwargs)
            args = (spec.group, spec.version, spec.plural)
            return self.kube.json(_CUSTOM, "list_cluster_custom_object", *args, **kwargs)
        call = READ_CALLS[spec.kind]
        if in_namespace:
            return self.kube.json(call.api, call.list_namespaced, cmd.namespace, **kwargs)
        return self.kube.json(call.api, call.list_all, **kwargs)

    def _events(self, allowed: AllowedCommand, timeout: float) -> Any:
        cmd, spec = allowed.command, allowed.spec
        api, namespaced_call, all_call = EVENT_CALLS
        kwargs = {
            "field_selector": f"involvedObject.kind={spec.kind},involvedObject.name={cmd.name}",
            "limit": allowed.limit,
            "timeout": timeout,
        }
        if spec.namespaced:
            return self.kube.json(api, namespaced_call, cmd.namespace, **kwargs)
        return self.kube.json(api, all_call, **kwargs)

    def _logs(self, allowed: AllowedCommand, timeout: float) -> Result:
        cmd, params = allowed.command, allowed.command.params
        read_cap = max(4 * self.limits.max_log_bytes, 1024 * 1024)
        kwargs: dict[str, Any] = {"tail_lines": allowed.tail_lines, "limit_bytes": read_cap}
        if params.container:
            kwargs["container"] = params.container
        if params.previous:
            kwargs["previous"] = True
        if params.since_seconds:
            kwargs["since_seconds"] = params.since_seconds
        data = self.kube.raw(*LOG_CALL, cmd.name, cmd.namespace, timeout=timeout, cap=read_cap, **kwargs)
        return log_result(allowed, data, read_cap, self.limits)
