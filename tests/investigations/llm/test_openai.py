"""OpenAI-compatible provider through a local server speaking chat completions, with the real loop."""

from __future__ import annotations

import pytest

from investigations.engine.analysis import Analysis
from investigations.engine.result import build_result
from investigations.llm.providers import ModelError
from investigations.llm.reasoning import analyze_with_model, apply_to_result
from tests.investigations.llm.conftest import OOM_POD, SET_MEMORY, answer, openai_settings
from tests.investigations.llm.servers import Reply, openai_text, openai_tool_calls


def test_openai_tool_round_then_answer_is_validated(server, oom_case, oom_executor):
    # given: the model asks for the crashed container's previous logs, then answers
    server.add(
        openai_tool_calls(
            (
                "call_1",
                "pod_logs",
                {
                    "namespace": "search",
                    "pod": OOM_POD,
                    "container": "indexer",
                    "previous": True,
                    "tail_lines": 50,
                },
            )
        ),
        openai_text(answer()),
    )
    # when
    analysis = analyze_with_model(
        openai_settings(server.url),
        evidence_payload=oom_case.payload,
        findings=oom_case.findings,
        reader=oom_case.reader(oom_executor),
    )
    # then: two chat completions, the second carrying the real log through the agent path
    first, second = server.requests
    assert first.path == "/v1/chat/completions"
    assert first.headers["authorization"] == "Bearer sk-test-key-123456"
    assert first.body["model"] == "qwen2.5-72b-instruct"
    assert {t["function"]["name"] for t in first.body["tools"]} == {
        "get_object",
        "list_objects",
        "pod_logs",
        "events_for",
    }
    assert all(t["type"] == "function" for t in first.body["tools"])
    assert first.body["stream"] is False
    tool_message = second.body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    assert "G1 Humongous Allocation" in tool_message["content"]  # from the scenario's previous log
    assert second.body["messages"][-2]["tool_calls"][0]["function"]["name"] == "pod_logs"
    [read] = oom_case.seen
    assert (read.op, read.kind, read.name, read.params) == (
        "logs",
        "Pod",
        OOM_POD,
        {"tail_lines": 50, "container": "indexer", "previous": True},
    )
    assert analysis.decision == "agreed"
    assert analysis.root_cause["category"] == "oom-killed"
    assert analysis.recommendations[0]["commands"] == [SET_MEMORY]
    assert (analysis.tokens_in, analysis.tokens_out) == (900 + 1200, 40 + 300)
    assert analysis.tool_calls[0]["status"] == "ok" and analysis.tool_calls[0]["evidence_id"] == "T1"
    assert analysis.refused_calls == [] and analysis.dropped == []


def test_openai_result_says_which_parts_came_from_where(server, oom_case, oom_executor):
    server.add(openai_text(answer()))
    analysis = analyze_with_model(
        openai_settings(server.url),
        evidence_payload=oom_case.payload,
        findings=oom_case.findings,
        reader=oom_case.reader(oom_executor),
    )
    best = oom_case.findings[0]
    result = build_result(oom_case.ctx, Analysis(best, oom_case.findings, [], []), timings={})

    merged = apply_to_result(result, analysis)

    assert merged["root_cause"]["source"] == "analyzers+model"
    assert merged["root_cause"]["analyzer"] == best.analyzer
    assert merged["sources"] == {"root_cause": "analyzers+model", "recommendations": ["analyzers", "model"]}
    assert merged["llm"]["provider"] == "openai" and merged["llm"]["tokens"] == 1500
    assert [r["source"] for r in merged["recommendations"]][-1] == "model"


def test_openai_malformed_answer_raises_model_error(server, oom_case, oom_executor):
    server.add(openai_text("The pod is probably out of memory, I would raise the limit."))
    with pytest.raises(ModelError, match="model answered outside the result schema") as raised:
        analyze_with_model(
            openai_settings(server.url),
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
        )
    assert raised.value.kind == "schema"
    assert raised.value.tokens_in == 1200  # still counted against the budget by the caller


def test_openai_category_outside_taxonomy_is_outside_the_schema(server, oom_case, oom_executor):
    server.add(openai_text(answer(category="cosmic-rays")))
    with pytest.raises(ModelError, match="not in the taxonomy"):
        analyze_with_model(
            openai_settings(server.url),
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
        )


def test_openai_non_completion_body_is_malformed(server):
    from investigations.llm.providers import OpenAICompatibleProvider

    server.add(Reply(200, {"unexpected": True}))
    with pytest.raises(ModelError, match="malformed response") as raised:
        OpenAICompatibleProvider(f"{server.url}/v1", "k").chat([{"role": "user", "content": "hi"}], [], "m")
    assert raised.value.kind == "malformed"


def test_openai_timeout_raises_model_error(server, oom_case, oom_executor):
    server.add(Reply(200, {}, delay=3))
    with pytest.raises(ModelError, match="timeout") as raised:
        analyze_with_model(
            openai_settings(server.url, call_timeout_seconds=0.5),
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
        )
    assert raised.value.kind == "timeout"


def test_openai_429_retries_once_after_retry_after_then_succeeds(server, oom_case, oom_executor):
    server.add(
        Reply(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"}), openai_text(answer())
    )
    analysis = analyze_with_model(
        openai_settings(server.url),
        evidence_payload=oom_case.payload,
        findings=oom_case.findings,
        reader=oom_case.reader(oom_executor),
    )
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body
    assert analysis.decision == "agreed"


def test_openai_429_twice_is_a_rate_limit_error_after_one_retry(server):
    from investigations.llm.providers import OpenAICompatibleProvider

    limited = Reply(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"})
    server.add(limited, limited, openai_text("never reached"))
    with pytest.raises(ModelError, match="rate limited") as raised:
        OpenAICompatibleProvider(f"{server.url}/v1", "k").chat([{"role": "user", "content": "hi"}], [], "m")
    assert raised.value.kind == "rate_limited"
    assert len(server.requests) == 2


def test_openai_401_says_the_key_is_wrong(server):
    from investigations.llm.providers import OpenAICompatibleProvider

    server.add(Reply(401, {"error": {"message": "Incorrect API key provided"}}))
    with pytest.raises(ModelError, match="rejected the API key") as raised:
        OpenAICompatibleProvider(f"{server.url}/v1", "wrong").chat(
            [{"role": "user", "content": "hi"}], [], "m"
        )
    assert raised.value.kind == "auth"


def test_openai_unreachable_endpoint_is_a_connection_error():
    from investigations.llm.providers import OpenAICompatibleProvider

    with pytest.raises(ModelError, match="cannot reach") as raised:
        OpenAICompatibleProvider("http://127.0.0.1:9/v1", "k").chat(
            [{"role": "user", "content": "hi"}], [], "m", timeout=2
        )
    assert raised.value.kind == "connection"


def test_openai_endless_tool_requests_are_cut_off(server, oom_case, oom_executor):
    call = ("c", "get_object", {"kind": "Deployment", "namespace": "search", "name": "search-indexer"})
    server.add(*[openai_tool_calls(call) for _ in range(4)])
    with pytest.raises(ModelError, match="kept requesting tools"):
        analyze_with_model(
            openai_settings(server.url, max_rounds=2),
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
        )
    assert len(server.requests) == 3
    assert "tool budget for this analysis is spent" in server.requests[2].body["messages"][-1]["content"]


def test_openai_error_body_never_shows_the_key(server):
    from investigations.llm.providers import OpenAICompatibleProvider

    server.add(
        Reply(
            500, {"error": "upstream failed for key sk-test-key-123456 (Authorization: Bearer abcdefghijkl)"}
        )
    )
    with pytest.raises(ModelError) as raised:
        OpenAICompatibleProvider(f"{server.url}/v1", "sk-test-key-123456").chat(
            [{"role": "user", "content": "hi"}], [], "m"
        )
    assert "HTTP 500" in str(raised.value)
    assert "sk-test-key-123456" not in str(raised.value) and "abcdefghijkl" not in str(raised.value)


def test_openai_model_conclusion_is_used_when_no_analyzer_is_confident(server, oom_case, oom_executor):
    server.add(openai_text(answer()))
    analysis = analyze_with_model(
        openai_settings(server.url),
        evidence_payload=oom_case.payload,
        findings=[],  # the analyzers found nothing
        reader=oom_case.reader(oom_executor),
    )
    result = build_result(oom_case.ctx, Analysis(None, [], [], ["oom-killed"]), timings={})
    assert result["root_cause"]["category"] == "unknown"

    merged = apply_to_result(result, analysis)

    assert analysis.decision == "model"
    assert merged["root_cause"]["category"] == "oom-killed"
    assert merged["root_cause"]["source"] == "model"
    assert merged["recommendations"][0] == {**analysis.recommendations[0], "source": "model"}
    assert merged["sources"]["root_cause"] == "model"
    assert "analyzers" in merged["sources"]["recommendations"]  # the diagnostics stay
