"""The one place that names live-update groups and sends to them.

Group names carry the schema, so an organization's events can only reach sockets that joined
from that organization's domain (see `tenants.websocket`).
"""

from __future__ import annotations

import logging
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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
    transaction.on_commit(lambda: _send_event(group, {"type": "access.revoked"}))


def publish_html(group: str, html: str) -> None:
    """Send an htmx out-of-band fragment to every socket in `group` once the transaction commits."""
    transaction.on_commit(lambda: _send(group, html))


def _send(group: str, html: str) -> None:
    _send_event(group, {"type": "html.fragment", "html": html})


def _send_event(group: str, event: dict) -> None:
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(group, event)
    except OSError as error:  # Redis down: live updates are best-effort, the page catches up on load
        logger.warning("realtime.publish_failed", extra={"group": group, "error": str(error)})
