from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Slack: the workspace connection, channel routes, result messages, buttons and the daily digest."""

    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Imported here, not at the top: models can be imported only once the app registry is ready.
        # Neither alerts nor investigations import this app; it registers what it reacts to.
        from alerts import handoff
        from investigations import extensions
        from notifications.selectors import deliveries_for_investigation
        from notifications.services import notify_investigation_finished, notify_signals_resolved

        handoff.resolved_listener_register(notify_signals_resolved)
        extensions.finished_listener_register(notify_investigation_finished)
        extensions.detail_section_register(
            extensions.DetailSection(
                template="notifications/partials/_investigation_deliveries.html",
                context=lambda investigation: {"deliveries": deliveries_for_investigation(investigation.pk)},
            )
        )
