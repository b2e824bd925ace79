"""Reads of notification data (inside the organization's schema)."""

from __future__ import annotations

from notifications.models import NotificationRoute, SlackDelivery


def routes_list() -> list[NotificationRoute]:
    return list(NotificationRoute.objects.all())


def deliveries_recent(limit: int = 100, status: str = "") -> list[SlackDelivery]:
    queryset = SlackDelivery.objects.select_related("investigation")
    if status:
        queryset = queryset.filter(status=status)
    return list(queryset[:limit])


def route_get(pk: int) -> NotificationRoute | None:
    return NotificationRoute.objects.filter(pk=pk).first()


def deliveries_for_investigation(investigation_id: int) -> list[SlackDelivery]:
    """For the investigation page: where its result was posted, or why not."""
    return list(SlackDelivery.objects.filter(investigation_id=investigation_id).order_by("created_at", "pk"))
