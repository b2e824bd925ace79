"""The long poll served at the ASGI layer, in front of Django: no thread per waiting agent.

Django runs a request through its middleware in a worker thread whenever one middleware is
sync-only (here: health, metrics, organization access), and that thread stays with the request
until the response is finished. For a long poll that is one parked thread per idle agent. This
wrapper answers `GET /agent/v1/commands` itself, with the same rules as the Django view
(`views.commands`): tenant from the Host header's Domain, bearer token looked up in that schema
only, 401/404 JSON refusals, then the same claim / wait-on-Redis loop. Short database steps run
in the shared executor (`thread_sensitive=False`) and give their connection back at once.
Everything else goes to the wrapped application unchanged. `opsworker/asgi.py` wraps Django's
application with it, after `get_asgi_application()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection
from django_tenants.utils import remove_www, schema_context

from agent.protocol import PATH_COMMANDS, commands_message, dumps
from clusters import services
from clusters.gateway.polling import wait_for_commands
from clusters.gateway.wire import MAX_POLL_WAIT_SECONDS, NOT_FOUND, UNAUTHORIZED, bearer_token
from clusters.selectors import cluster_for_token
from tenants.models import Domain

logger = logging.getLogger(__name__)


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""


def _host(scope: dict) -> str:
    host = _header(scope, b"host").strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return remove_www(host.rsplit(":", 1)[0] if ":" in host else host)


def _start(host: str, token: str) -> tuple[int, dict[str, Any]] | tuple[str, int, list[dict[str, Any]]]:
    """Sync, in the shared executor: (status, error body) or (schema, cluster id, commands)."""
    try:
        with schema_context("public"):
            domain = Domain.objects.select_related("tenant").filter(domain=host).first()
        tenant = domain.tenant if domain else None
        if tenant is None or tenant.schema_name == "public" or not tenant.is_active:
            return 404, {"error": NOT_FOUND, "status": 404}
        with schema_context(tenant.schema_name):
            cluster = cluster_for_token(token)
            if cluster is None:
                logger.info("agent.gateway.unknown_token", extra={"schema": tenant.schema_name})
                return 404, {"error": NOT_FOUND, "status": 404}
            services.cluster_touch(cluster_id=cluster.pk)
            return tenant.schema_name, cluster.pk, services.commands_claim(cluster_id=cluster.pk)
    finally:
        connection.close()  # this executor thread serves other requests next


async def _send_json(send, status: int, body: dict[str, Any] | bytes, extra: list | None = None) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _until_disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class AgentLongPollMiddleware:
    """Serve the agents' long poll in the event loop; pass everything else through."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("path") != PATH_COMMANDS or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        text = (query.get("wait") or ["20"])[0]
        if not text.isdigit() or len(text) > 6:
            return await _send_json(
                send, 400, {"error": "'wait' must be a whole number of seconds", "status": 400}
            )
        wait = min(int(text), MAX_POLL_WAIT_SECONDS)
        token = bearer_token(_header(scope, b"authorization"))
        if token is None:
            challenge = [(b"www-authenticate", b'Bearer realm="opsworker-agent"')]
            return await _send_json(send, 401, {"error": UNAUTHORIZED, "status": 401}, challenge)
        try:
            started = await sync_to_async(_start, thread_sensitive=False)(_host(scope), token)
        except DatabaseError as error:
            logger.warning("agent.poll.database_error", extra={"error": str(error)[:200]})
            return await _send_json(
                send, 503, {"error": "the portal's database is unavailable", "status": 503}
            )
        if isinstance(started[0], int):
            return await _send_json(send, started[0], started[1])
        schema, cluster_id, found = started
        if found or wait == 0:
            return await _send_json(send, 200, dumps(commands_message(found)).encode())

        async def body() -> bytes:
            chunks = [c async for c in wait_for_commands(schema, cluster_id, wait, thread_sensitive=False)]
            return b"".join(chunks)

        waiting = asyncio.ensure_future(body())
        gone = asyncio.ensure_future(_until_disconnect(receive))
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():  # the agent went away: stop waiting (a claimed command is re-leased)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            return None
        gone.cancel()
        await _send_json(send, 200, waiting.result())
