from django.apps import AppConfig


class ClustersConfig(AppConfig):
    """Registered clusters, their tokens, and the gateway their in-cluster agents talk to."""

    name = "clusters"
    verbose_name = "Clusters"

    def ready(self) -> None:
        # Imported here, not at the top: models can be imported only once the app registry is ready.
        # tenants must not import this app, so the cluster count behind the quota is registered.
        from clusters import selectors
        from tenants import quotas

        quotas.usage_counter_register(quotas.CLUSTERS, selectors.clusters_count)
        quotas.usage_figure_register("clusters", selectors.clusters_count)
