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
