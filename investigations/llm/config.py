"""An organization's model settings, resolved for use, and what they cost.

`LLMSettings` (`llm_settings.py`) is the plain, decrypted view the reasoning loop uses; the
functions below read and write the tenant's `ModelConfig` / `ModelUsage` rows (call them inside the
organization's schema). Keys are encrypted at rest with `tenants.secret_box`; rotating the
encryption key re-encrypts them with the first configured key (`model_keys_rotate`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from investigations.llm.llm_settings import LLMSettings, cost_for
from investigations.models import ModelConfig, ModelUsage
from tenants.secret_box import decrypt, encrypt

__all__ = ["LLMSettings", "cost_for"]  # re-exported: callers read settings and costs from here

# -- tenant data (inside the organization's schema) --------------------------------------------------


def model_config_get():
    """The organization's ModelConfig, or an unsaved default (`builtin`) when never configured."""
    return ModelConfig.objects.order_by("pk").first() or ModelConfig()


def settings_for_org() -> LLMSettings:
    return model_config_get().resolved()


def model_config_save(*, changes: dict, api_key: str | None = None, clear_key: bool = False):
    """Update the organization's settings; `api_key` None keeps the stored key (write-only field)."""
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
    count = 0
    for config in ModelConfig.objects.exclude(api_key_encrypted=""):
        config.api_key_encrypted = encrypt(decrypt(config.api_key_encrypted))
        config.save(update_fields=["api_key_encrypted", "updated_at"])
        count += 1
    return count


def spent_on(day: date) -> Decimal:

    usage = ModelUsage.objects.filter(day=day).first()
    return usage.cost_usd if usage else Decimal("0")


def budget_allows(settings: LLMSettings, today: date) -> bool:
    """False once today's estimated spend reached the daily budget (no budget: always True)."""
    if settings.daily_budget_usd is None:
        return True
    return spent_on(today) < settings.daily_budget_usd


def usage_record(*, day: date, tokens_in: int, tokens_out: int, cost: Decimal) -> None:
    """Add one model use to the day's totals (atomic increments: concurrent workers add up)."""
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
    return list(ModelUsage.objects.order_by("-day")[:days])
