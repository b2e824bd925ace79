"""The wait of an empty long poll, shared by the Django view and the ASGI front (`longpoll.py`).

An idle agent costs an `asyncio.Event` on the process's Redis wake-up hub (`wake.WakeHub`), not a
worker thread or a database connection: commands are claimed in short steps that give their
connection back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django_tenants.utils import schema_context

from agent.protocol import commands_message, dumps
from clusters import services
from clusters.gateway import wake
from clusters.models import Cluster

logger = logging.getLogger(__name__)


def release_connection() -> None:
    """Give the database connection back now, not when the long poll ends.

    With CONN_MAX_AGE=0 Django closes it at request_finished, i.e. after the whole wait: a
    thousand idle agents would hold a thousand PostgreSQL connections. (Inside a test's
    transaction the connection is the test's own and stays.)
    """
    if not connection.in_atomic_block:
        connection.close()


def _claim(schema: str, cluster_id: int) -> list[dict[str, Any]]:
    try:
        with schema_context(schema):
            if not Cluster.objects.filter(pk=cluster_id).exists():  # removed while polling
                return []
            return services.commands_claim(cluster_id=cluster_id)
    finally:
        release_connection()


async def wait_for_commands(
    schema: str, cluster_id: int, wait: int, *, thread_sensitive: bool = True
) -> AsyncIterator[bytes]:
    """The streamed body of an empty poll: sleep on Redis until commands arrive or `wait` ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    recheck = float(getattr(settings, "AGENT_POLL_RECHECK_SECONDS", 10))
    channel = wake.commands_channel(schema, cluster_id)
    hub = await wake.hub()
    event = hub.register(channel)
    commands: list[dict[str, Any]] = []
    try:
        while True:
            # Registered first, then checked: a command committed in between is seen either way.
            event.clear()
            try:
                commands = await sync_to_async(_claim, thread_sensitive=thread_sensitive)(schema, cluster_id)
            except DatabaseError as error:
                logger.warning("agent.poll.database_error", extra={"error": str(error)[:200]})
                commands = []
                break
            remaining = deadline - loop.time()
            if commands or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(remaining, recheck))
    finally:
        hub.unregister(channel, event)
    yield dumps(commands_message(commands)).encode()
