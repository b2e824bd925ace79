"""WebSocket consumers: they authenticate, join groups and forward; nothing else.

The investigation consumer also sends the page's current state once on connect, so a socket
that reconnects after missing events catches up (every fragment replaces an element by id).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from investigations.chat.realtime import render_log
from investigations.models import Investigation
from investigations.presentation import render_live_state
from tenants.realtime import object_group, org_group
from tenants.roles import Capability
from tenants.websocket import TenantConsumer


class OrganizationConsumer(TenantConsumer):
    """Organization-wide live updates (lists, settings checks) for any member."""

    required_capability = Capability.VIEW

    def groups_for(self, schema_name: str) -> list[str]:
        return [org_group(schema_name)]


def _investigation_exists(schema_name: str, pk: int) -> bool:
    with schema_context(schema_name):
        return Investigation.objects.filter(pk=pk).exists()


def _live_state(schema_name: str, pk: int) -> str | None:
    with schema_context(schema_name):
        investigation = Investigation.objects.select_related("signal", "rerun_of").filter(pk=pk).first()
        if investigation is None:
            return None

        # The conversation too, so a reconnected page catches up on answers streamed meanwhile.
        return render_live_state(investigation) + render_log(investigation, oob=True)


class InvestigationConsumer(TenantConsumer):
    """One investigation's page: its steps and sections as they happen, after a full catch-up."""

    required_capability = Capability.VIEW

    @property
    def investigation_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["pk"])

    async def authorize(self, schema_name: str) -> bool:
        return await database_sync_to_async(_investigation_exists)(schema_name, self.investigation_id)

    def groups_for(self, schema_name: str) -> list[str]:
        return [object_group(schema_name, "investigation", self.investigation_id)]

    async def connect(self):
        await super().connect()
        if not getattr(self, "joined", None):
            return  # refused and closed
        # Joined before reading: anything published from here on arrives after this state.
        state = await database_sync_to_async(_live_state)(self.scope["schema_name"], self.investigation_id)
        if state:
            await self.send(text_data=state)
