"""RQ jobs of the alerts app (schema name first; see tenants.jobs)."""

from __future__ import annotations

from alerts.retention import raw_payloads_prune, signals_prune
from alerts.services.announce import signals_announce_now
from alerts.services.integrations import sns_subscription_confirm_attempt
from tenants.jobs import enqueue_in_every_active_tenant, tenant_job


@tenant_job
def signals_announce(schema_name: str) -> int:
    """Tell open Alerts pages of this organization that new signals arrived."""
    return signals_announce_now(schema_name=schema_name)


@tenant_job
def sns_subscription_confirm(schema_name: str, subscription_id: int) -> str:
    """Confirm an SNS subscription; raises while SNS cannot be reached, so RQ retries with backoff."""
    return sns_subscription_confirm_attempt(subscription_id=subscription_id)


@tenant_job
def alerts_retention_in(schema_name: str) -> dict:
    """Delete this organization's raw payloads and resolved signals past their retention."""
    return {"raw_payloads": raw_payloads_prune(), "signals": signals_prune()}


def alerts_retention_everywhere() -> int:
    """Scheduler entry point: one retention job per active organization."""
    return enqueue_in_every_active_tenant("default", alerts_retention_in)
