"""RQ jobs of the alerts app (schema name first; see tenants.jobs)."""

from __future__ import annotations

from alerts.retention import raw_payloads_prune
from alerts.services.announce import signals_announce_now
from tenants.jobs import enqueue_in_tenant, tenant_job
from tenants.models import Organization


@tenant_job
def signals_announce(schema_name: str) -> int:
    """Tell open Alerts pages of this organization that new signals arrived."""
    return signals_announce_now(schema_name=schema_name)


@tenant_job
def raw_payloads_prune_in(schema_name: str) -> int:
    return raw_payloads_prune()


def raw_payloads_prune_everywhere() -> int:
    """Scheduler entry point: one pruning job per active organization."""
    schemas = list(
        Organization.objects.filter(is_active=True)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        enqueue_in_tenant("default", raw_payloads_prune_in, schema)
    return len(schemas)
