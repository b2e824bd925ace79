from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "investigations"
    verbose_name = "Investigations"

    def ready(self) -> None:
        # Imported here, not at the top: models can be imported only once the app registry is ready.
        # Quotas live in tenants, which must not import this app: the counts are registered instead.
        from alerts import handoff
        from investigations import selectors, services
        from tenants import quotas

        # alerts must not import this app either: it opens investigations through the hand-off.
        handoff.investigation_opener_register(services.investigations_open_for_signals)
        quotas.usage_counter_register(quotas.INVESTIGATIONS_PER_DAY, selectors.investigations_count_since)
        quotas.usage_figure_register("investigations", selectors.investigations_count)
        quotas.usage_figure_register("model_cost", selectors.model_cost_since)
