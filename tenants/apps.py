from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organizations and accounts"

    def ready(self) -> None:
        # Connect the sign-in receivers (audit records it, security tags the session with its host).
        # Imported here, not at the top: models can be imported only once the app registry is ready.
        from tenants import audit, security  # noqa: F401
