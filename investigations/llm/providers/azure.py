"""Azure OpenAI: the OpenAI wire format at a deployment URL, with the `api-key` header.

POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from investigations.llm.providers.base import ModelError
from investigations.llm.providers.openai_compat import OpenAICompatibleProvider

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIProvider(OpenAICompatibleProvider):
    """`model` is the deployment name (one per stage in the model settings)."""

    name = "azure"

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        api_version: str = DEFAULT_API_VERSION,
        *,
        transport: httpx.BaseTransport | None = None,
    ):
        if not endpoint:
            raise ModelError("no Azure OpenAI endpoint is configured", kind="config")
        super().__init__(endpoint, api_key, transport=transport)
        self.api_version = api_version or DEFAULT_API_VERSION

    def url(self, model: str) -> str:
        if not model:
            raise ModelError("no Azure deployment name is configured for this stage", kind="config")
        return f"{self.base_url}/openai/deployments/{quote(model, safe='')}/chat/completions"

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "api-key": self.api_key}

    def params(self) -> dict[str, str]:
        return {"api-version": self.api_version}

    def body(self, messages: list[dict], tools: list[dict], model: str, max_tokens: int) -> dict:
        body = super().body(messages, tools, model, max_tokens)
        body.pop("model", None)  # the deployment in the URL decides
        return body
