"""RQ jobs of the gateway (first argument: the schema name, see tenants.jobs)."""

from __future__ import annotations

from typing import Any

from clusters.gateway.client import CommandSpec, GatewayError, run_commands
from clusters.selectors import cluster_get
from tenants.jobs import tenant_job


@tenant_job
def cluster_run_commands(
    schema_name: str, cluster_id: int, specs: list[dict[str, Any]], wait_seconds: float = 30
) -> dict[str, Any]:
    """Run read commands on a cluster from a worker; returns plain data (for tests and probes)."""
    cluster = cluster_get(cluster_id)
    try:
        results = run_commands(cluster, [CommandSpec(**spec) for spec in specs], wait_seconds)
    except GatewayError as error:
        return {"error": error.code, "message": error.message, "results": []}
    return {
        "error": None,
        "results": [
            {
                "command_id": r.command_id,
                "ok": r.ok,
                "data": r.data,
                "error_code": r.error_code,
                "error_message": r.error_message,
                "truncated": r.truncated,
                "redactions": r.redactions,
            }
            for r in results
        ],
    }
