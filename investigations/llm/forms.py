"""The model settings form: the API key is write-only (never rendered back)."""

from __future__ import annotations

from django import forms

from investigations.models import ModelConfig

EDITABLE = (
    "provider",
    "endpoint",
    "region",
    "aws_access_key_id",
    "azure_api_version",
    "model_extraction",
    "model_analysis",
    "model_chat",
    "daily_budget_usd",
    "price_in_per_1k",
    "price_out_per_1k",
)


class ModelConfigForm(forms.ModelForm):
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: leave empty to keep the stored key. Bedrock: the secret access key.",
    )
    clear_key = forms.BooleanField(label="Remove the stored key", required=False)

    class Meta:
        model = ModelConfig
        fields = EDITABLE
        labels = {
            "endpoint": "Endpoint / base URL",
            "aws_access_key_id": "AWS access key id",
            "azure_api_version": "Azure API version",
            "model_extraction": "Model for extraction",
            "model_analysis": "Model for analysis",
            "model_chat": "Model for chat",
            "daily_budget_usd": "Daily budget (USD)",
            "price_in_per_1k": "Price per 1k input tokens (USD)",
            "price_out_per_1k": "Price per 1k output tokens (USD)",
        }
        help_texts = {
            "model_analysis": "Model id (OpenAI-compatible, Bedrock) or deployment name (Azure).",
            "daily_budget_usd": "Empty: no limit. Once reached, investigations use the built-in analyzers.",
            "azure_api_version": "e.g. 2024-10-21",
        }
