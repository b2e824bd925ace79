"""WebSocket routes of organization hosts."""

from django.urls import path

from investigations import consumers

websocket_urlpatterns = [
    path("ws/org/", consumers.OrganizationConsumer.as_asgi()),
    path("ws/investigations/<int:pk>/", consumers.InvestigationConsumer.as_asgi()),
]
