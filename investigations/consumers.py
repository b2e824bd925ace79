"""WebSocket consumers: they authenticate, join groups and forward; nothing else."""

from __future__ import annotations

from tenants.realtime import org_group
from tenants.roles import Capability
from tenants.websocket import TenantConsumer


class OrganizationConsumer(TenantConsumer):
    """Organization-wide live updates (lists, settings checks) for any member."""

    required_capability = Capability.VIEW

    def groups_for(self, schema_name: str) -> list[str]:
        return [org_group(schema_name)]
