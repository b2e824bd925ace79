"""RQ jobs of the investigations app. Each takes the schema name first (see tenants.jobs)."""

from __future__ import annotations

import os
import socket

from investigations.services import pipeline_check_record
from tenants.jobs import tenant_job


@tenant_job
def pipeline_check_report(schema_name: str, check_id: int, queue: str) -> dict:
    """Report that a worker on `queue` ran a job inside `schema_name`."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    check = pipeline_check_record(check_id=check_id, queue=queue, worker=worker)
    return {"schema": schema_name, "check": check.pk if check else None, "queue": queue}


@tenant_job
def run_investigation(schema_name: str, investigation_id: int) -> dict:
    """Run one investigation through the cluster's agent (idempotent: a running one is skipped)."""
    from investigations.runner import run_investigation_now

    investigation = run_investigation_now(investigation_id)
    if investigation is None:
        return {"investigation": investigation_id, "skipped": "not pending"}
    return {"investigation": investigation.pk, "status": investigation.status}


@tenant_job
def sweep_investigations_in(schema_name: str) -> dict:
    from investigations.services import investigations_sweep

    return investigations_sweep()


def sweep_investigations_everywhere() -> int:
    """Scheduler entry point: one sweep job per active organization."""
    from tenants.jobs import enqueue_in_every_active_tenant

    return enqueue_in_every_active_tenant("default", sweep_investigations_in)


@tenant_job
def investigations_retention_in(schema_name: str) -> int:
    """Delete this organization's finished investigations past their retention."""
    from investigations.retention import investigations_prune

    return investigations_prune()


def investigations_retention_everywhere() -> int:
    """Scheduler entry point: one retention job per active organization."""
    from tenants.jobs import enqueue_in_every_active_tenant

    return enqueue_in_every_active_tenant("default", investigations_retention_in)
