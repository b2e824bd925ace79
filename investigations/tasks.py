"""RQ jobs of the investigations app. Each takes the schema name first (see tenants.jobs)."""

from __future__ import annotations

import logging
import os
import socket

from investigations.retention import investigations_prune
from investigations.runner import run_investigation_now
from investigations.services import investigations_sweep, pipeline_check_record
from tenants.jobs import active_tenant_schemas, enqueue_in_every_active_tenant, tenant_job
from tenants.side_effects import REDIS_DOWN_ERRORS

logger = logging.getLogger(__name__)


@tenant_job
def pipeline_check_report(schema_name: str, check_id: int, queue: str) -> dict:
    """Report that a worker on `queue` ran a job inside `schema_name`."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    check = pipeline_check_record(check_id=check_id, queue=queue, worker=worker)
    return {"schema": schema_name, "check": check.pk if check else None, "queue": queue}


@tenant_job
def run_investigation(schema_name: str, investigation_id: int) -> dict:
    """Run one investigation through the cluster's agent (idempotent: a running one is skipped)."""
    investigation = run_investigation_now(investigation_id)
    if investigation is None:
        return {"investigation": investigation_id, "skipped": "not pending"}
    return {"investigation": investigation.pk, "status": investigation.status}


def sweep_investigations_everywhere() -> dict:
    """Scheduler entry point (every INVESTIGATION_SWEEP_SECONDS): sweep every active organization.

    In this one job rather than one job per organization: a sweep is a few indexed queries, while
    a job per organization every 10 s would fork a work horse per organization per tick. One
    organization's failure is logged and does not stop the others.
    """
    from django.db import DatabaseError
    from django_tenants.utils import schema_context

    totals = {"organizations": 0, "requeued": 0, "failed": 0, "errors": 0}
    for schema in active_tenant_schemas():
        try:
            with schema_context(schema):
                outcome = investigations_sweep()
        except (DatabaseError, *REDIS_DOWN_ERRORS) as error:
            totals["errors"] += 1
            logger.warning("investigations.sweep.failed", extra={"schema": schema, "error": str(error)[:300]})
            continue
        totals["organizations"] += 1
        totals["requeued"] += outcome["requeued"]
        totals["failed"] += outcome["failed"]
    return totals


@tenant_job
def investigations_retention_in(schema_name: str) -> int:
    """Delete this organization's finished investigations past their retention."""
    return investigations_prune()


def investigations_retention_everywhere() -> int:
    """Scheduler entry point: one retention job per active organization."""
    return enqueue_in_every_active_tenant("default", investigations_retention_in)
