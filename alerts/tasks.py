"""RQ jobs of the alerts app (schema name first; see tenants.jobs)."""

from __future__ import annotations

from alerts.services.announce import signals_announce_now
from tenants.jobs import tenant_job


@tenant_job
def signals_announce(schema_name: str, signal_ids: list[int]) -> int:
    """Tell open Alerts pages of this organization that new signals arrived."""
    return signals_announce_now(schema_name=schema_name, signal_ids=signal_ids)
