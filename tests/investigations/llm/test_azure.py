"""Azure OpenAI: deployment URL, `api-key` header, api-version query, through a local server."""

from __future__ import annotations

from investigations.llm.config import LLMSettings
from investigations.llm.reasoning import analyze_with_model
from tests.investigations.llm.conftest import answer
from tests.investigations.llm.servers import openai_text


def test_azure_uses_deployment_url_api_key_and_api_version(server, oom_case, oom_executor):
    server.add(openai_text(answer()))
    settings = LLMSettings(
        provider="azure",
        endpoint=server.url,
        api_key="azure-key-abcdef",
        azure_api_version="2024-10-21",
        models={"analysis": "gpt4o-analysis"},
    )

    analysis = analyze_with_model(
        settings,
        evidence_payload=oom_case.payload,
        findings=oom_case.findings,
        reader=oom_case.reader(oom_executor),
    )

    [request] = server.requests
    assert request.path == "/openai/deployments/gpt4o-analysis/chat/completions"
    assert request.query == {"api-version": ["2024-10-21"]}
    assert request.headers["api-key"] == "azure-key-abcdef"
    assert "authorization" not in request.headers
    assert "model" not in request.body  # the deployment in the URL decides
    assert request.body["tools"][0]["type"] == "function"
    assert analysis.provider == "azure" and analysis.model == "gpt4o-analysis"
    assert analysis.decision == "agreed"


def test_azure_stage_model_picks_the_deployment(server):
    from investigations.llm.providers import AzureOpenAIProvider

    server.add(openai_text("OK", prompt=5, completion=1))
    turn = AzureOpenAIProvider(server.url, "k", "2025-01-01-preview").chat(
        [{"role": "user", "content": "ping"}], [], "extract-mini", max_tokens=8
    )
    assert server.requests[0].path == "/openai/deployments/extract-mini/chat/completions"
    assert server.requests[0].query == {"api-version": ["2025-01-01-preview"]}
    assert (turn.text, turn.tokens_in, turn.tokens_out) == ("OK", 5, 1)
