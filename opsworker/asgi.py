"""ASGI entry point: HTTP through Django (TenantMainMiddleware), WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsworker.settings.prod")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from clusters.gateway.longpoll import AgentLongPollMiddleware  # noqa: E402
from opsworker.body_limit import BodyLimitMiddleware  # noqa: E402
from opsworker.websocket_urls import websocket_urlpatterns  # noqa: E402
from tenants.websocket import SameOriginMiddleware, TenantWebsocketMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Agents' long polls are answered in front of Django's sync middleware, so an idle agent
        # costs a coroutine, not a thread (docs/performance.md, "Agent gateway").
        "http": BodyLimitMiddleware(AgentLongPollMiddleware(django_asgi_app), settings.MAX_REQUEST_BYTES),
        # Users and sessions live in the public schema, so Channels' own session and auth
        # middleware look them up correctly; the tenant comes from the Host header.
        # Origin must be the very host the socket connects to (not any allowed host: a sibling
        # organization's page would pass that), before the host is resolved to an organization.
        "websocket": SameOriginMiddleware(
            TenantWebsocketMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
