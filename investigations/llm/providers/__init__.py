"""Model providers behind one interface (`ChatProvider.chat`), chosen by an organization's settings."""

from __future__ import annotations

from investigations.llm.providers.azure import AzureOpenAIProvider
from investigations.llm.providers.base import ChatProvider, ChatTurn, ModelError, ToolCall
from investigations.llm.providers.bedrock import BedrockProvider
from investigations.llm.providers.openai_compat import OpenAICompatibleProvider

__all__ = [
    "AzureOpenAIProvider",
    "BedrockProvider",
    "ChatProvider",
    "ChatTurn",
    "ModelError",
    "OpenAICompatibleProvider",
    "ToolCall",
    "provider_for",
]


def provider_for(config) -> ChatProvider:
    """The provider an `LLMSettings` names; ModelError when it is `builtin` or incomplete."""
    if config.provider == "openai":
        return OpenAICompatibleProvider(config.endpoint, config.api_key)
    if config.provider == "azure":
        return AzureOpenAIProvider(config.endpoint, config.api_key, config.azure_api_version)
    if config.provider == "bedrock":
        return BedrockProvider(
            config.region,
            endpoint_url=config.endpoint,
            access_key_id=config.aws_access_key_id,
            secret_access_key=config.api_key if config.aws_access_key_id else "",
        )
    raise ModelError(f"provider {config.provider!r} does not use a model", kind="config")
