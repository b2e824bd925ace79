"""The engine's `ClusterReader`, bound to a cluster's agent through the gateway (never a direct API call).

The engine itself imports no Django; this adapter is the one place its reads meet the clusters app.
"""

from __future__ import annotations

from clusters.gateway.client import AgentOffline, CommandSpec, GatewayError, run_commands
from investigations.engine.collect import Answer, Ask


def agent_reader(cluster, *, wait_seconds: float = 20):
    """A Reader for the pipeline; raises AgentOffline (typed) when the agent is not connected."""

    def read(asks: list[Ask]) -> list[Answer]:
        specs = [CommandSpec(a.op, a.kind, a.namespace, a.name, dict(a.params)) for a in asks]
        results = run_commands(cluster, specs, wait_seconds=wait_seconds)
        answers = []
        for ask, result in zip(asks, results, strict=True):
            error = "" if result.ok else f"{result.error_code}: {result.error_message}"
            answers.append(Answer(ask, result.ok, result.data, error, result.truncated, result.redactions))
        return answers

    return read


def reader_errors() -> tuple[type[Exception], ...]:
    return (AgentOffline, GatewayError)
