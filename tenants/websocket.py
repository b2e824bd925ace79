"""The tenant-aware WebSocket pattern.

`SameOriginMiddleware` refuses a socket whose Origin is not the host it connects to (a page on a
sibling organization's host, under the same base domain, must not open a socket here with this
host's cookie), unless the origin is listed in OPSWORKER_WEBSOCKET_ALLOWED_ORIGINS.
`TenantWebsocketMiddleware` resolves the Host header to an organization and puts its schema name
in the scope (unknown hosts are closed before anything else runs). `TenantConsumer` checks on
connect that the session's user is a member of *that* organization with the required capability,
joins groups named by `tenants.realtime`, and only forwards fragments; it is closed when the
organization is suspended or the member removed. Every database call from a
consumer enters the schema itself (`schema_context`) because all consumers of a process share one
sync thread and its connection state (see shared/reference/stack-notes.md §4).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port
from django_tenants.utils import schema_context

from tenants.models import Membership
from tenants.realtime import access_group
from tenants.roles import Capability, role_allows
from tenants.selectors import organization_for_host

logger = logging.getLogger(__name__)

CLOSE_UNKNOWN_HOST = 4404
CLOSE_FORBIDDEN = 4403


_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _origin_host(origin: str) -> str | None:
    """`scheme://host[:port]` → `host:port` with the scheme's default port spelt out; None if garbled."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{parts.hostname}:{port or _DEFAULT_PORTS[parts.scheme]}"


def _request_host(host: str, scheme: str) -> str | None:
    domain, port = split_domain_port(host.strip().lower())
    if not domain:
        return None
    return f"{domain}:{port or _DEFAULT_PORTS.get(scheme, '80')}"


def origin_allowed(origin: str, host: str) -> bool:
    """True when the Origin is this very host (same name and port) or a configured extra origin."""
    extra = {o.strip().lower().rstrip("/") for o in getattr(settings, "WEBSOCKET_ALLOWED_ORIGINS", [])}
    if origin.strip().lower().rstrip("/") in extra:
        return True
    scheme = urlsplit(origin.strip().lower()).scheme
    origin_host = _origin_host(origin)
    # The Host header carries no scheme: compare default ports by the origin's scheme.
    return origin_host is not None and origin_host == _request_host(host, scheme)


class SameOriginMiddleware:
    """Close (4403) a WebSocket whose Origin header is missing or names another host."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin1")
        host = headers.get(b"host", b"").decode("latin1")
        if not origin or not host or not origin_allowed(origin, host):
            logger.info("tenants.ws.origin_refused", extra={"origin": origin[:200], "host": host[:200]})
            await receive()  # the connect message
            await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
            return None
        return await self.inner(scope, receive, send)


def _tenant_for_host(host: str):
    with schema_context("public"):
        return organization_for_host(host)


class TenantWebsocketMiddleware:
    """Host header → organization → `scope["tenant"]`, `scope["schema_name"]`."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        raw_host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin1")
        host, _port = split_domain_port(raw_host.lower())
        tenant = await database_sync_to_async(_tenant_for_host)(host) if host else None
        if tenant is None:
            await receive()  # the connect message
            await send({"type": "websocket.close", "code": CLOSE_UNKNOWN_HOST})
            return None
        scope = dict(scope, tenant=tenant, schema_name=tenant.schema_name)
        return await self.inner(scope, receive, send)


def _role_of(user_id: int, organization_id: int) -> str | None:
    with schema_context("public"):
        membership = Membership.objects.filter(user_id=user_id, organization_id=organization_id).first()
        return membership.role if membership else None


class TenantConsumer(AsyncWebsocketConsumer):
    """Base consumer: authenticate (member of this organization, active, capability), join, forward."""

    required_capability = Capability.VIEW

    def groups_for(self, schema_name: str) -> list[str]:
        """Override: the groups this socket listens to. Called only after authorization."""
        raise NotImplementedError

    async def authorize(self, schema_name: str) -> bool:
        """Override for object-level checks (e.g. the investigation exists in this schema)."""
        return True

    async def connect(self):
        tenant = self.scope.get("tenant")
        user = self.scope.get("user")
        if tenant is None or user is None or not user.is_authenticated or not tenant.is_active:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        role = await database_sync_to_async(_role_of)(user.pk, tenant.pk)
        if not role_allows(role, self.required_capability) or not await self.authorize(tenant.schema_name):
            logger.info("tenants.ws.refused", extra={"schema": tenant.schema_name, "user_id": user.pk})
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Beside its own groups, every socket listens for the end of its access (suspension of the
        # organization, removal of the member), which closes it at once.
        self.joined = [
            *self.groups_for(tenant.schema_name),
            access_group(tenant.schema_name),
            access_group(tenant.schema_name, user.pk),
        ]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Sockets are for server → browser updates only; anything sent up is ignored.
        return

    async def html_fragment(self, event):
        await self.send(text_data=event["html"])

    async def access_revoked(self, event):
        await self.close(code=CLOSE_FORBIDDEN)
