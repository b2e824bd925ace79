"""The resolved model settings the reasoning loop uses, and what a call costs. Pure: no Django.

`LLMSettings` is the plain, decrypted view of an organization's `ModelConfig`
(`investigations/llm/config.py` reads and writes those rows).
"""

from __future__ import annotations

import dataclasses
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
