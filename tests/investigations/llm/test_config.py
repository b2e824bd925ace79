"""Per-organization model settings: encrypted key, rotation, budget, cost, usage; tenant isolation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from investigations.llm.config import (
    LLMSettings,
    budget_allows,
    cost_for,
    model_config_get,
    model_config_save,
    model_keys_rotate,
    settings_for_org,
    usage_record,
)
from investigations.llm.stage import model_stage
from tenants import secret_box
from tests.investigations.llm.conftest import answer
from tests.investigations.llm.servers import Reply, openai_text

KEY = "sk-live-do-not-store-me-in-clear-42"
TODAY = date(2026, 11, 27)


def _save_openai(url: str = "http://127.0.0.1:9/v1", **changes):
    values = {
        "provider": "openai",
        "endpoint": url,
        "model_analysis": "qwen2.5",
        "daily_budget_usd": Decimal("1.00"),
        "price_in_per_1k": Decimal("0.5"),
        "price_out_per_1k": Decimal("1.5"),
    }
    values.update(changes)
    return model_config_save(changes=values, api_key=KEY)


def test_config_key_is_encrypted_at_rest(org, in_schema):
    with in_schema(org):
        config = _save_openai()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT api_key_encrypted FROM investigations_modelconfig WHERE id = %s", [config.pk]
            )
            [raw] = cursor.fetchone()
        assert KEY not in raw and raw.startswith("gAAAA")  # a Fernet token
        assert settings_for_org().api_key == KEY
        assert KEY not in repr(settings_for_org())


def test_config_save_without_key_keeps_the_stored_one(org, in_schema):
    with in_schema(org):
        _save_openai()
        model_config_save(changes={"model_analysis": "bigger"}, api_key=None)
        assert settings_for_org().api_key == KEY
        assert settings_for_org().model_for("analysis") == "bigger"
        model_config_save(changes={}, clear_key=True)
        assert model_config_get().has_key is False


def test_config_key_rotation_reencrypts_with_the_first_key(org, in_schema, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    secret_box._box.cache_clear()
    try:
        with in_schema(org):
            _save_openai()
            settings.ENCRYPTION_KEYS = [new, old]
            secret_box._box.cache_clear()
            assert model_keys_rotate() == 1
            settings.ENCRYPTION_KEYS = [new]  # the old key is gone: still readable
            secret_box._box.cache_clear()
            assert settings_for_org().api_key == KEY
    finally:
        secret_box._box.cache_clear()


def test_config_is_per_organization(org, other_org, in_schema):
    with in_schema(org):
        _save_openai()
        usage_record(day=TODAY, tokens_in=1000, tokens_out=100, cost=Decimal("0.65"))
    with in_schema(other_org):
        assert model_config_get().pk is None
        assert settings_for_org().provider == "builtin"
        assert budget_allows(LLMSettings(daily_budget_usd=Decimal("0.01")), TODAY)


def test_config_validation_requires_endpoint_and_model(org, in_schema):
    from django.core.exceptions import ValidationError

    with in_schema(org), pytest.raises(ValidationError) as raised:
        model_config_save(changes={"provider": "azure"})
    assert {"endpoint", "model_analysis"} <= set(raised.value.message_dict)


def test_cost_is_computed_from_tokens_and_prices():
    settings = LLMSettings(price_in_per_1k=Decimal("0.003"), price_out_per_1k=Decimal("0.015"))
    assert cost_for(settings, 2000, 500) == Decimal("0.013500")


def test_budget_allows_until_the_daily_budget_is_spent(org, in_schema):
    with in_schema(org):
        settings = _save_openai().resolved()
        assert budget_allows(settings, TODAY)
        usage_record(day=TODAY, tokens_in=1000, tokens_out=200, cost=cost_for(settings, 1000, 200))  # $0.80
        assert budget_allows(settings, TODAY)
        usage_record(day=TODAY, tokens_in=400, tokens_out=0, cost=cost_for(settings, 400, 0))  # +$0.20
        assert not budget_allows(settings, TODAY)
        assert budget_allows(settings, date(2026, 11, 28))  # a new day


def test_model_stage_falls_back_when_the_budget_is_spent(org, in_schema, server, oom_case, oom_executor):
    with in_schema(org):
        _save_openai(f"{server.url}/v1")
        usage_record(day=TODAY, tokens_in=0, tokens_out=0, cost=Decimal("5"))
        outcome = model_stage(
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
            today=TODAY,
        )
    assert outcome.analysis is None
    assert "daily model budget" in outcome.fallback
    assert outcome.llm["provider"] == "builtin" and outcome.llm["configured_provider"] == "openai"
    assert server.requests == []  # the model was never called


def test_model_stage_records_usage_and_falls_back_on_model_error(
    org, in_schema, server, oom_case, oom_executor
):
    from investigations.models import ModelUsage

    server.add(openai_text("not json at all", prompt=1000, completion=100), Reply(200, {}))
    with in_schema(org):
        _save_openai(f"{server.url}/v1")
        outcome = model_stage(
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
            today=TODAY,
        )
        usage = ModelUsage.objects.get(day=TODAY)
    assert outcome.analysis is None and "outside the result schema" in outcome.fallback
    assert (usage.tokens_in, usage.tokens_out, usage.calls) == (1000, 100, 1)
    assert usage.cost_usd == Decimal("0.65")


def test_model_stage_uses_the_model_and_totals_the_day(org, in_schema, server, oom_case, oom_executor):
    from investigations.models import ModelUsage

    server.add(
        openai_text(answer(), prompt=1000, completion=200), openai_text(answer(), prompt=1000, completion=200)
    )
    with in_schema(org):
        _save_openai(f"{server.url}/v1")
        for _ in range(2):
            outcome = model_stage(
                evidence_payload=oom_case.payload,
                findings=oom_case.findings,
                reader=oom_case.reader(oom_executor),
                today=TODAY,
            )
        usage = ModelUsage.objects.get(day=TODAY)
    assert outcome.analysis is not None and outcome.llm["provider"] == "openai"
    assert outcome.tokens == 1200
    assert (usage.tokens_in, usage.tokens_out, usage.calls) == (2000, 400, 2)
    assert usage.cost_usd == Decimal("1.6")
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_model_stage_with_builtin_does_nothing(org, in_schema, oom_case, oom_executor):
    with in_schema(org):
        outcome = model_stage(
            evidence_payload=oom_case.payload,
            findings=oom_case.findings,
            reader=oom_case.reader(oom_executor),
            today=TODAY,
        )
    assert (outcome.analysis, outcome.llm) == (None, None)
    result = {"llm": {"provider": "builtin"}}
    assert outcome.apply(result) == {"llm": {"provider": "builtin"}}
