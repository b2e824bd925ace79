"""The one place that names live-update groups and sends to them.

Group names carry the schema, so an organization's events can only reach sockets that joined
from that organization's domain (see `tenants.websocket`).
"""

from __future__ import annotations

import logging
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tenants.side_effects import after_commit_best_effort

logger = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def org_group(schema_name: str) -> str:
    """Everything list-like of one organization (new alerts, investigation status changes)."""
    return f"org.{_SAFE.sub('-', schema_name)}"


def object_group(schema_name: str, kind: str, object_id: int | str) -> str:
    """One object's live page, e.g. one investigation."""
    return f"{kind}.{_SAFE.sub('-', schema_name)}.{_SAFE.sub('-', str(object_id))}"


def access_group(schema_name: str, user_id: int | None = None) -> str:
    """Every socket of one organization, or of one member in it: told to close when access ends."""
    base = f"access.{_SAFE.sub('-', schema_name)}"
    return base if user_id is None else f"{base}.user-{int(user_id)}"


def publish_access_revoked(group: str) -> None:
    """Close every socket in `group` once the transaction that ended the access commits.

    Sockets authenticate only on connect; without this, a suspended organization's or a removed
    member's open pages would keep receiving updates until they reconnect.
    """
    _after_commit(group, {"type": "access.revoked"})


def publish_html(group: str, html: str) -> None:
    """Send an htmx out-of-band fragment to every socket in `group` once the transaction commits.

    Best effort: with Redis down the failure is logged (group, organization, object) and the
    page catches up on its next load or reconnect.
    """
    _after_commit(group, {"type": "html.fragment", "html": html})


def _after_commit(group: str, event: dict) -> None:
    _kind, _, rest = group.partition(".")
    schema, _, object_id = rest.partition(".")
    after_commit_best_effort(
        lambda: _send_event(group, event),
        event="realtime.publish_failed",
        schema=schema,
        object_id=object_id or None,
        group=group,
    )


def _send_event(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer: settings.CHANNEL_LAYERS is not configured")
    async_to_sync(layer.group_send)(group, event)
