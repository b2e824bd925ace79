"""Amazon Bedrock through boto3's `bedrock-runtime` Converse API (non-streaming).

Credentials come from the configured access key pair when set, else from boto3's usual chain
(environment, instance or pod role). `endpoint_url` is configurable (VPC endpoints, tests).
"""

from __future__ import annotations

import time
from typing import Any

from investigations.llm.providers.base import (
    ChatTurn,
    ModelError,
    ToolCall,
    sleep_for_retry,
)

_AUTH_CODES = {
    "UnrecognizedClientException",
    "AccessDeniedException",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
}


class BedrockProvider:
    name = "bedrock"

    def __init__(
        self,
        region: str,
        *,
        endpoint_url: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ):
        if not region:
            raise ModelError("no AWS region is configured for Bedrock", kind="config")
        self.region = region
        self.endpoint_url = endpoint_url or None
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    def _client(self, timeout: float):
        import boto3
        from botocore.config import Config

        config = Config(
            read_timeout=max(1, int(timeout + 0.999)),
            connect_timeout=min(10, max(1, int(timeout))),
            retries={"total_max_attempts": 1, "mode": "standard"},  # we retry a throttle ourselves, once
        )
        credentials = {}
        if self.access_key_id:
            credentials = {
                "aws_access_key_id": self.access_key_id,
                "aws_secret_access_key": self.secret_access_key,
            }
        return boto3.client(
            "bedrock-runtime",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=config,
            **credentials,
        )

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        model: str,
        *,
        max_tokens: int = 2048,
        timeout: float = 60.0,
    ) -> ChatTurn:
        if not model:
            raise ModelError("no Bedrock model id is configured for this stage", kind="config")
        system, conversation = to_converse(messages)
        request: dict[str, Any] = {
            "modelId": model,
            "messages": conversation,
            "inferenceConfig": {"maxTokens": max_tokens, "temperature": 0},
        }
        if system:
            request["system"] = [{"text": system}]
        if tools:
            request["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": t["name"],
                            "description": t["description"],
                            "inputSchema": {"json": t["parameters"]},
                        }
                    }
                    for t in tools
                ]
            }
        deadline = time.monotonic() + timeout
        client = self._client(timeout)
        try:
            response = self._converse(client, request)
        except _Throttled as throttled:
            sleep_for_retry(throttled.retry_after, deadline=deadline)
            try:
                response = self._converse(client, request)
            except _Throttled:
                raise ModelError(
                    "rate limited: Bedrock throttled the request again after waiting (ThrottlingException)",
                    kind="rate_limited",
                ) from None
        return parse_converse(response)

    def _converse(self, client, request: dict) -> dict:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        try:
            return client.converse(**request)
        except (ReadTimeoutError, ConnectTimeoutError):
            raise ModelError("timeout: Bedrock did not answer in time", kind="timeout") from None
        except NoCredentialsError:
            raise ModelError(
                "no AWS credentials: set an access key in the model settings or give the portal an IAM role",
                kind="auth",
            ) from None
        except EndpointConnectionError as error:
            raise ModelError(f"cannot reach Bedrock: {error}", kind="connection") from None
        except ClientError as error:
            info = error.response.get("Error") or {}
            code = info.get("Code", "")
            message = info.get("Message", "")
            meta = error.response.get("ResponseMetadata") or {}
            if (
                code in ("ThrottlingException", "TooManyRequestsException")
                or meta.get("HTTPStatusCode") == 429
            ):
                raise _Throttled((meta.get("HTTPHeaders") or {}).get("retry-after")) from None
            if code in _AUTH_CODES or meta.get("HTTPStatusCode") in (401, 403):
                raise ModelError(
                    f"Bedrock rejected the credentials ({code}): {message}", kind="auth"
                ) from None
            raise ModelError(f"Bedrock refused the request ({code}): {message}", kind="http") from None
        except BotoCoreError as error:
            raise ModelError(
                f"malformed response from Bedrock: {error.__class__.__name__}: {error}", kind="malformed"
            ) from None


class _Throttled(Exception):
    def __init__(self, retry_after: str | None):
        super().__init__("throttled")
        self.retry_after = retry_after


def to_converse(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Neutral messages → (system text, Converse messages); consecutive tool results share one turn."""
    system_parts: list[str] = []
    conversation: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role == "system":
            system_parts.append(message["content"])
            continue
        if role == "tool":
            block = {
                "toolResult": {
                    "toolUseId": message["tool_call_id"],
                    "content": [{"text": message["content"] or "(empty)"}],
                    "status": "error" if message.get("is_error") else "success",
                }
            }
            if conversation and conversation[-1]["role"] == "user" and _is_tool_results(conversation[-1]):
                conversation[-1]["content"].append(block)
            else:
                conversation.append({"role": "user", "content": [block]})
            continue
        content: list[dict[str, Any]] = []
        if message.get("content"):
            content.append({"text": message["content"]})
        for call in message.get("tool_calls") or []:
            content.append({"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}})
        conversation.append({"role": "assistant" if role == "assistant" else "user", "content": content})
    return "\n\n".join(system_parts), conversation


def _is_tool_results(message: dict) -> bool:
    return all("toolResult" in block for block in message["content"])


def parse_converse(response: dict) -> ChatTurn:
    try:
        content = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        raise ModelError(
            "malformed response: Bedrock's answer has no output.message.content", kind="malformed"
        ) from None
    texts, calls = [], []
    for block in content or []:
        if "text" in block:
            texts.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = use.get("input")
            calls.append(
                ToolCall(
                    str(use.get("toolUseId") or f"tool_{len(calls)}"),
                    str(use.get("name") or ""),
                    arguments if isinstance(arguments, dict) else {"__invalid__": str(arguments)[:200]},
                )
            )
    usage = response.get("usage") or {}
    return ChatTurn(
        text="".join(texts),
        tool_calls=calls,
        tokens_in=int(usage.get("inputTokens") or 0),
        tokens_out=int(usage.get("outputTokens") or 0),
        stop_reason=str(response.get("stopReason") or ""),
    )
