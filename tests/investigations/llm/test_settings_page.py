"""The model settings page: admins only, write-only key, test connection against a local server."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.investigations.llm.servers import Reply, openai_text

URL = "/settings/models/"
TEST_URL = "/settings/models/test/"
KEY = "sk-page-secret-key-0987654321"


def _form(url: str, **overrides) -> dict:
    data = {
        "provider": "openai",
        "endpoint": url,
        "api_key": KEY,
        "model_extraction": "small",
        "model_analysis": "qwen2.5-72b",
        "model_chat": "qwen2.5-72b",
        "azure_api_version": "",
        "region": "",
        "aws_access_key_id": "",
        "daily_budget_usd": "5.00",
        "price_in_per_1k": "0.0005",
        "price_out_per_1k": "0.0015",
    }
    data.update(overrides)
    return data


def test_settings_page_admin_saves_and_key_is_never_echoed(org, client_for, in_schema):
    client = client_for(org.owner, org)

    response = client.post(URL, _form("http://vllm.ai.svc:8000/v1"), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert KEY not in page
    assert "Model settings saved." in page
    assert 'data-testid="key-status">Stored key: <strong>set</strong>' in page
    assert 'value="qwen2.5-72b"' in page
    assert "no-store" in response["Cache-Control"]
    with in_schema(org):
        with connection.cursor() as cursor:
            cursor.execute("SELECT api_key_encrypted, updated_by FROM investigations_modelconfig")
            [(raw, updated_by)] = cursor.fetchall()
        assert KEY not in raw and updated_by == org.owner.email


def test_settings_page_empty_key_keeps_the_stored_one(org, client_for, in_schema):
    from investigations.llm.config import settings_for_org

    client = client_for(org.owner, org)
    client.post(URL, _form("http://ollama:11434/v1"))
    client.post(URL, _form("http://ollama:11434/v1", api_key="", model_analysis="llama3.1"))
    with in_schema(org):
        settings = settings_for_org()
    assert (settings.api_key, settings.model_for("analysis")) == (KEY, "llama3.1")


def test_settings_page_shows_form_errors(org, client_for):
    response = client_for(org.owner, org).post(URL, _form("", provider="azure"))
    assert response.status_code == 400
    assert "This provider needs an endpoint URL." in response.content.decode()


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_settings_page_is_forbidden_below_admin(org, client_for, make_member, role):
    client = client_for(make_member(org, role), org)
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form("http://x.example/v1")).status_code == 403
    assert client.post(TEST_URL).status_code == 403


def test_settings_page_admin_role_may_configure(org, client_for, make_member):
    assert client_for(make_member(org, "admin"), org).get(URL).status_code == 200


def test_settings_page_is_per_organization(org, other_org, client_for):
    client_for(org.owner, org).post(URL, _form("http://vllm.ai.svc:8000/v1"))
    page = client_for(other_org.owner, other_org).get(URL).content.decode()
    assert "vllm.ai.svc" not in page
    assert "<strong>not set</strong>" in page


def test_test_connection_reaches_the_configured_server(org, client_for, server):
    server.add(openai_text("OK", prompt=12, completion=1))
    client = client_for(org.owner, org)
    client.post(URL, _form(f"{server.url}/v1"))

    response = client.post(TEST_URL, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Connected: qwen2.5-72b answered “OK”" in response.content.decode()
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["max_tokens"] == 8


def test_test_connection_shows_the_reason_of_a_failure(org, client_for, server):
    server.add(Reply(401, {"error": {"message": "Incorrect API key provided"}}))
    client = client_for(org.owner, org)
    client.post(URL, _form(f"{server.url}/v1"))

    page = client.post(TEST_URL).content.decode()  # without htmx: the whole page

    assert "Connection failed" in page
    assert "rejected the API key (HTTP 401)" in page
    assert KEY not in page


def test_test_connection_with_builtin_explains(org, client_for):
    page = client_for(org.owner, org).post(TEST_URL, HTTP_HX_REQUEST="true").content.decode()
    assert "no model to test" in page


def test_model_views_all_require_configure():
    from investigations.llm.urls import urlpatterns
    from tenants.roles import Capability

    assert {p.callback.required_capability for p in urlpatterns} == {Capability.CONFIGURE}
