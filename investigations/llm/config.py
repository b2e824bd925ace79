"""An organization's model settings, resolved for use, and what they cost.

`LLMSettings` is the plain, decrypted view the reasoning loop uses (no Django in it); the
functions below read and write the tenant's `ModelConfig` / `ModelUsage` rows (call them inside the
organization's schema). Keys are encrypted at rest with `tenants.secret_box`; rotating the
encryption key re-encrypts them with the first configured key (`model_keys_rotate`).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

PROVIDERS = ("builtin", "openai", "azure", "bedrock")
STAGES = ("extraction", "analysis", "chat")
_CENT_FRACTION = Decimal("0.000001")


@dataclasses.dataclass(frozen=True)
class LLMSettings:
    provider: str = "builtin"
    endpoint: str = ""  # OpenAI base URL, Azure endpoint, or Bedrock endpoint_url (optional)
    region: str = ""
    api_key: str = dataclasses.field(default="", repr=False)  # decrypted; Bedrock: secret access key
    aws_access_key_id: str = ""
    azure_api_version: str = ""
    models: dict[str, str] = dataclasses.field(default_factory=dict)  # stage → model id / deployment
    daily_budget_usd: Decimal | None = None
    price_in_per_1k: Decimal = Decimal("0")
    price_out_per_1k: Decimal = Decimal("0")
    max_rounds: int = 4
    call_timeout_seconds: float = 60.0
    overall_timeout_seconds: float = 120.0
    max_tokens: int = 2048

    @property
    def uses_model(self) -> bool:
        return self.provider != "builtin"

    def model_for(self, stage: str) -> str:
        return self.models.get(stage) or self.models.get("analysis") or ""


def cost_for(settings: LLMSettings, tokens_in: int, tokens_out: int) -> Decimal:
    """Estimated USD from token counts and the configured prices per 1000 tokens."""
    cost = Decimal(tokens_in) / 1000 * settings.price_in_per_1k
    cost += Decimal(tokens_out) / 1000 * settings.price_out_per_1k
    return cost.quantize(_CENT_FRACTION, rounding=ROUND_HALF_UP)


# -- tenant data (inside the organization's schema) --------------------------------------------------


def model_config_get():
    """The organization's ModelConfig, or an unsaved default (`builtin`) when never configured."""
    from investigations.llm.models import ModelConfig

    return ModelConfig.objects.order_by("pk").first() or ModelConfig()


def settings_for_org() -> LLMSettings:
    return model_config_get().resolved()


def model_config_save(*, changes: dict, api_key: str | None = None, clear_key: bool = False):
    """Update the organization's settings; `api_key` None keeps the stored key (write-only field)."""
    from django.db import transaction

    from investigations.llm.models import ModelConfig
    from tenants.secret_box import encrypt

    with transaction.atomic():
        config = ModelConfig.objects.select_for_update().order_by("pk").first() or ModelConfig()
        for field, value in changes.items():
            setattr(config, field, value)
        if clear_key:
            config.api_key_encrypted = ""
        elif api_key:
            config.api_key_encrypted = encrypt(api_key)
        config.full_clean()
        config.save()
    return config


def model_keys_rotate() -> int:
    """Re-encrypt stored keys with the first configured encryption key; returns rows rewritten."""
    from investigations.llm.models import ModelConfig
    from tenants.secret_box import decrypt, encrypt

    count = 0
    for config in ModelConfig.objects.exclude(api_key_encrypted=""):
        config.api_key_encrypted = encrypt(decrypt(config.api_key_encrypted))
        config.save(update_fields=["api_key_encrypted", "updated_at"])
        count += 1
    return count


def spent_on(day: date) -> Decimal:
    from investigations.llm.models import ModelUsage

    usage = ModelUsage.objects.filter(day=day).first()
    return usage.cost_usd if usage else Decimal("0")


def budget_allows(settings: LLMSettings, today: date) -> bool:
    """False once today's estimated spend reached the daily budget (no budget: always True)."""
    if settings.daily_budget_usd is None:
        return True
    return spent_on(today) < settings.daily_budget_usd


def usage_record(*, day: date, tokens_in: int, tokens_out: int, cost: Decimal) -> None:
    """Add one model use to the day's totals (atomic increments: concurrent workers add up)."""
    from django.db import transaction
    from django.db.models import F

    from investigations.llm.models import ModelUsage

    with transaction.atomic():
        usage, _ = ModelUsage.objects.select_for_update().get_or_create(day=day)
        ModelUsage.objects.filter(pk=usage.pk).update(
            tokens_in=F("tokens_in") + tokens_in,
            tokens_out=F("tokens_out") + tokens_out,
            cost_usd=F("cost_usd") + cost,
            calls=F("calls") + 1,
        )


def model_usage_recent(days: int = 7) -> list:
    """The organization's last `days` days of model usage, newest first."""
    from investigations.llm.models import ModelUsage

    return list(ModelUsage.objects.order_by("-day")[:days])
