"""OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, LiteLLM…), non-streaming, over httpx.

POST {base_url}/chat/completions   Authorization: Bearer <key>
{"model", "messages", "tools": [{"type": "function", "function": {...}}], "max_tokens", ...}
→ {"choices": [{"message": {"content", "tool_calls"}, "finish_reason"}], "usage": {...}}
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from agent.redaction import Redactor
from investigations.llm.providers.base import ChatTurn, ModelError, ToolCall, sleep_for_retry, snippet


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(self, base_url: str, api_key: str = "", *, transport: httpx.BaseTransport | None = None):
        if not base_url:
            raise ModelError("no base URL is configured for the OpenAI-compatible provider", kind="config")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.transport = transport

    # -- what differs between OpenAI-compatible servers and Azure ----------------------------------

    def url(self, model: str) -> str:
        return f"{self.base_url}/chat/completions"

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def params(self) -> dict[str, str]:
        return {}

    def body(self, messages: list[dict], tools: list[dict], model: str, max_tokens: int) -> dict:
        body: dict[str, Any] = {
            "model": model,
            "messages": [wire_message(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": False,
        }
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t["name"],
                        "description": t["description"],
                        "parameters": t["parameters"],
                    },
                }
                for t in tools
            ]
            body["tool_choice"] = "auto"
        return body

    # -- the call ----------------------------------------------------------------------------------

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        model: str,
        *,
        max_tokens: int = 2048,
        timeout: float = 60.0,
    ) -> ChatTurn:
        body = self.body(messages, tools, model, max_tokens)
        deadline = time.monotonic() + timeout
        response = self._post(body, model, deadline)
        if response.status_code == 429:
            sleep_for_retry(response.headers.get("Retry-After"), deadline=deadline)
            response = self._post(body, model, deadline)
            if response.status_code == 429:
                raise ModelError(
                    "rate limited: the endpoint answered HTTP 429 again after waiting its Retry-After",
                    kind="rate_limited",
                )
        check_status(response, secret=self.api_key)
        return parse_completion(response)

    def _post(self, body: dict, model: str, deadline: float) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModelError("timeout: no time left for the model call", kind="timeout")
        try:
            with httpx.Client(timeout=httpx.Timeout(remaining), transport=self.transport) as client:
                return client.post(self.url(model), params=self.params(), headers=self.headers(), json=body)
        except httpx.TimeoutException:
            raise ModelError(
                f"timeout: the model endpoint did not answer within {remaining:.0f} s", kind="timeout"
            ) from None
        except httpx.HTTPError as error:
            raise ModelError(
                f"cannot reach the model endpoint {self.base_url}: {error.__class__.__name__}: {error}",
                kind="connection",
            ) from None


def wire_message(message: dict[str, Any]) -> dict[str, Any]:
    role = message["role"]
    if role == "tool":
        return {"role": "tool", "tool_call_id": message["tool_call_id"], "content": message["content"]}
    if role == "assistant" and message.get("tool_calls"):
        return {
            "role": "assistant",
            "content": message.get("content") or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in message["tool_calls"]
            ],
        }
    return {"role": role, "content": message.get("content") or ""}


def check_status(response: httpx.Response, *, secret: str = "") -> None:
    status = response.status_code
    if status < 400:
        return
    # Error bodies are shown to admins: never let an endpoint echo a credential onto the page.
    body = Redactor().text(response.text)
    detail = snippet(body.replace(secret, "***") if secret else body)
    if status in (401, 403):
        raise ModelError(
            f"the endpoint rejected the API key (HTTP {status}): check the key in the model settings"
            + (f" — {detail}" if detail else ""),
            kind="auth",
        )
    if status == 404:
        raise ModelError(
            f"not found (HTTP 404) at {response.request.url.copy_with(query=None)}: check the endpoint, "
            f"model or deployment name — {detail}",
            kind="http",
        )
    if status == 429:
        raise ModelError("rate limited (HTTP 429)", kind="rate_limited")
    raise ModelError(f"the model endpoint failed (HTTP {status}): {detail}", kind="http")


def parse_completion(response: httpx.Response) -> ChatTurn:
    try:
        data = response.json()
        choice = data["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelError(
            f"malformed response: not an OpenAI chat completion ({snippet(response.text, 120)})",
            kind="malformed",
        ) from None
    if not isinstance(message, dict):
        raise ModelError("malformed response: choices[0].message is not an object", kind="malformed")
    calls = []
    for index, raw in enumerate(message.get("tool_calls") or []):
        function = (raw or {}).get("function") or {}
        calls.append(
            ToolCall(
                str((raw or {}).get("id") or f"call_{index}"),
                str(function.get("name") or ""),
                _arguments(function.get("arguments")),
            )
        )
    usage = data.get("usage") or {}
    return ChatTurn(
        text=message.get("content") or "",
        tool_calls=calls,
        tokens_in=int(usage.get("prompt_tokens") or 0),
        tokens_out=int(usage.get("completion_tokens") or 0),
        stop_reason=str(choice.get("finish_reason") or ""),
    )


def _arguments(raw: Any) -> dict[str, Any]:
    """Arguments arrive as a JSON string; anything unreadable is kept so the toolbox can refuse it."""
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"__invalid__": str(raw)[:200]}
    return parsed if isinstance(parsed, dict) else {"__invalid__": str(raw)[:200]}
