"""Per-organization model settings and daily usage (tenant data: one row set per schema)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from investigations.llm.llm_settings import LLMSettings
from tenants.secret_box import decrypt


def validate_endpoint(value: str) -> None:
    """http(s) URL with a host; short in-cluster names (http://ollama:11434/v1) are fine."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL.")


class ModelProvider(models.TextChoices):
    BUILTIN = "builtin", "Built-in analyzers (no model)"
    OPENAI = "openai", "OpenAI-compatible (OpenAI, vLLM, Ollama, LiteLLM…)"
    AZURE = "azure", "Azure OpenAI"
    BEDROCK = "bedrock", "Amazon Bedrock"


class ModelConfig(models.Model):
    """The organization's model provider; the API key is stored encrypted, never shown again."""

    provider = models.CharField(max_length=10, choices=ModelProvider.choices, default=ModelProvider.BUILTIN)
    endpoint = models.CharField(
        max_length=500,
        validators=[validate_endpoint],
        blank=True,
        help_text="OpenAI-compatible base URL (…/v1), Azure endpoint, or an optional Bedrock endpoint URL.",
    )
    region = models.CharField(max_length=40, blank=True, help_text="AWS region (Bedrock).")
    api_key_encrypted = models.TextField(blank=True)
    aws_access_key_id = models.CharField(
        max_length=128, blank=True, help_text="Bedrock only; empty uses the portal's IAM role."
    )
    azure_api_version = models.CharField(max_length=40, blank=True)
    model_extraction = models.CharField(max_length=200, blank=True)
    model_analysis = models.CharField(max_length=200, blank=True)
    model_chat = models.CharField(max_length=200, blank=True)
    daily_budget_usd = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    price_in_per_1k = models.DecimalField(
        max_digits=10, decimal_places=6, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    price_out_per_1k = models.DecimalField(
        max_digits=10, decimal_places=6, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.EmailField(blank=True)

    class Meta:
        app_label = "investigations"
        verbose_name = "model configuration"

    def __str__(self) -> str:
        return f"model config [{self.provider}]"

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    @property
    def has_key(self) -> bool:
        return bool(self.api_key_encrypted)

    def clean(self) -> None:
        errors = {}
        if self.provider in (ModelProvider.OPENAI, ModelProvider.AZURE) and not self.endpoint:
            errors["endpoint"] = "This provider needs an endpoint URL."
        if self.provider == ModelProvider.BEDROCK and not self.region:
            errors["region"] = "Bedrock needs an AWS region."
        if self.provider != ModelProvider.BUILTIN and not self.model_analysis:
            errors["model_analysis"] = "Name the model (Azure: the deployment) used for analysis."
        if errors:
            raise ValidationError(errors)

    def resolved(self) -> LLMSettings:
        """Decrypted settings for one use (SecretUnreadable if the encryption key was removed)."""
        return LLMSettings(
            provider=self.provider,
            endpoint=self.endpoint,
            region=self.region,
            api_key=decrypt(self.api_key_encrypted),
            aws_access_key_id=self.aws_access_key_id,
            azure_api_version=self.azure_api_version,
            models={
                "extraction": self.model_extraction,
                "analysis": self.model_analysis,
                "chat": self.model_chat,
            },
            daily_budget_usd=self.daily_budget_usd,
            price_in_per_1k=self.price_in_per_1k or Decimal("0"),
            price_out_per_1k=self.price_out_per_1k or Decimal("0"),
        )


class ModelUsage(models.Model):
    """Tokens and estimated cost per day, across the organization's investigations and chats."""

    day = models.DateField(unique=True)
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "investigations"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"model usage {self.day}: {self.tokens_in}+{self.tokens_out} tokens, ${self.cost_usd}"
