from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # Imported here, not at the top: models can be imported only once the app registry is ready.
        # tenants must not import this app: it gets the default action and the signal count registered.
        from alerts import selectors
        from alerts.models import Decision
        from alerts.rules.loader import rule_settings
        from alerts.services.rules import default_action_set
        from tenants import org_settings, quotas

        org_settings.default_action_provider_register(
            org_settings.DefaultActionProvider(
                choices=list(Decision.choices),
                get=lambda: rule_settings().default_action,
                set=default_action_set,
            )
        )
        quotas.usage_figure_register("signals", selectors.signals_count)
