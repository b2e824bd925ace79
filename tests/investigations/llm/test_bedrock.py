"""Amazon Bedrock Converse through the real boto3 client, `endpoint_url` pointed at a local server."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import unquote

import pytest

from investigations.llm.config import LLMSettings
from investigations.llm.providers import BedrockProvider, ModelError
from investigations.llm.reasoning import analyze_with_model
from tests.investigations.llm.conftest import OOM_POD, answer
from tests.investigations.llm.servers import Reply, converse_text, converse_tool_use

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def bedrock_settings(url: str, **overrides) -> LLMSettings:
    values = {
        "provider": "bedrock",
        "endpoint": url,
        "region": "eu-west-1",
        "aws_access_key_id": "AKIATESTTESTTESTTEST",
        "api_key": "secret-access-key-for-tests",
        "models": {"analysis": MODEL_ID},
        "price_in_per_1k": Decimal("0.003"),
        "price_out_per_1k": Decimal("0.015"),
    }
    values.update(overrides)
    return LLMSettings(**values)


def test_bedrock_converse_tool_use_round_and_usage(server, oom_case, oom_executor):
    # given: a toolUse for the previous logs, then the final answer
    server.add(
        converse_tool_use(
            "tooluse_1",
            "pod_logs",
            {"namespace": "search", "pod": OOM_POD, "container": "indexer", "previous": True},
        ),
        converse_text(answer()),
    )
    # when
    analysis = analyze_with_model(
        bedrock_settings(server.url),
        evidence_payload=oom_case.payload,
        findings=oom_case.findings,
        reader=oom_case.reader(oom_executor),
    )
    # then: botocore sent Converse requests, signed, to the model's path
    first, second = server.requests
    assert unquote(first.path) == f"/model/{MODEL_ID}/converse"
    assert "AKIATESTTESTTESTTEST" in first.headers["authorization"]
    assert first.body["system"][0]["text"].startswith("You are OpsWorker")
    specs = [t["toolSpec"] for t in first.body["toolConfig"]["tools"]]
    assert {s["name"] for s in specs} == {"get_object", "list_objects", "pod_logs", "events_for"}
    assert "json" in specs[0]["inputSchema"]
    assert first.body["inferenceConfig"]["maxTokens"] > 0
    assistant, results = second.body["messages"][-2:]
    assert assistant["content"][1]["toolUse"]["toolUseId"] == "tooluse_1"
    result_block = results["content"][0]["toolResult"]
    assert result_block["toolUseId"] == "tooluse_1" and result_block["status"] == "success"
    assert "G1 Humongous Allocation" in result_block["content"][0]["text"]
    assert [a.op for a in oom_case.seen] == ["logs"]
    # usage tokens and the estimated cost
    assert (analysis.tokens_in, analysis.tokens_out) == (800 + 1000, 30 + 200)
    assert float(analysis.cost) == pytest.approx(1.8 * 0.003 + 0.23 * 0.015)
    assert analysis.provider == "bedrock" and analysis.model == MODEL_ID
    assert analysis.decision == "agreed"


def test_bedrock_model_path_is_the_model_id(server):
    server.add(converse_text("OK", inp=3, out=1))
    turn = BedrockProvider(
        "eu-west-1", endpoint_url=server.url, access_key_id="AKIAX", secret_access_key="s"
    ).chat(
        [{"role": "system", "content": "check"}, {"role": "user", "content": "ping"}],
        [],
        MODEL_ID,
        max_tokens=8,
    )
    assert unquote(server.requests[0].path) == f"/model/{MODEL_ID}/converse"
    assert "toolConfig" not in server.requests[0].body
    assert (turn.text, turn.tokens_in, turn.tokens_out, turn.stop_reason) == ("OK", 3, 1, "end_turn")


def test_bedrock_throttling_retries_once(server):
    throttled = Reply(
        429,
        {"message": "Too many requests, please wait before trying again."},
        {
            "x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "Retry-After": "0",
        },
    )
    server.add(throttled, converse_text("OK"))
    turn = BedrockProvider(
        "eu-west-1", endpoint_url=server.url, access_key_id="AKIAX", secret_access_key="s"
    ).chat([{"role": "user", "content": "ping"}], [], MODEL_ID)
    assert turn.text == "OK" and len(server.requests) == 2

    server.add(throttled, throttled)
    with pytest.raises(ModelError, match="rate limited") as raised:
        BedrockProvider(
            "eu-west-1", endpoint_url=server.url, access_key_id="AKIAX", secret_access_key="s"
        ).chat([{"role": "user", "content": "ping"}], [], MODEL_ID)
    assert raised.value.kind == "rate_limited" and len(server.requests) == 4


def test_bedrock_bad_credentials_are_named(server):
    server.add(
        Reply(
            403,
            {"message": "The security token included in the request is invalid."},
            {"x-amzn-ErrorType": "UnrecognizedClientException:http://internal.amazon.com/coral/"},
        )
    )
    with pytest.raises(ModelError, match="rejected the credentials") as raised:
        BedrockProvider(
            "eu-west-1", endpoint_url=server.url, access_key_id="AKIAX", secret_access_key="s"
        ).chat([{"role": "user", "content": "ping"}], [], MODEL_ID)
    assert raised.value.kind == "auth"


def test_bedrock_timeout(server):
    server.add(Reply(200, {}, delay=3))
    with pytest.raises(ModelError, match="timeout") as raised:
        BedrockProvider(
            "eu-west-1", endpoint_url=server.url, access_key_id="AKIAX", secret_access_key="s"
        ).chat([{"role": "user", "content": "ping"}], [], MODEL_ID, timeout=1)
    assert raised.value.kind == "timeout"
