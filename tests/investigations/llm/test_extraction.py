"""The extraction model is asked only when the alert's labels and text leave the target unknown."""

import json
from datetime import date

import pytest

from investigations.engine.pipeline import Pipeline
from investigations.llm.extraction import extract_with_model
from tests.investigations.llm.conftest import openai_settings
from tests.investigations.llm.servers import openai_text

pytestmark = pytest.mark.django_db

VAGUE = {
    "alertname": "CheckoutErrors",
    "labels": {"team": "shop"},
    "namespace": "",
    "summary": "the checkout backend keeps failing",
    "description": "see the shop namespace's api deployment",
}


def test_extraction_model_names_the_resource(server, org, in_schema):
    server.add(openai_text(json.dumps({"namespace": "shop", "kind": "Deployment", "name": "api"})))
    with in_schema(org):
        extracted = extract_with_model(VAGUE, today=date(2026, 11, 27), settings=openai_settings(server.url))
    assert (extracted.namespace, extracted.kind, extracted.name) == ("shop", "Deployment", "api")
    sent = server.requests[0].body
    assert "<untrusted-data" in json.dumps(sent) and "checkout backend" in json.dumps(sent)


@pytest.mark.parametrize(
    "answer",
    [
        '{"kind": "Secret", "name": "db", "namespace": "shop"}',
        '{"kind": "Pod", "name": "../etc", "namespace": "shop"}',
        "I think it is the api",
    ],
)
def test_extraction_model_unusable_answers_are_ignored(server, org, in_schema, answer):
    server.add(openai_text(answer))
    with in_schema(org):
        assert (
            extract_with_model(VAGUE, today=date(2026, 11, 27), settings=openai_settings(server.url)) is None
        )


def test_pipeline_asks_the_extraction_model_only_when_unsure():
    asked = []

    def hook(fields):
        asked.append(fields["alertname"])
        return None

    known = {
        "alertname": "KubePodCrashLooping",
        "labels": {"pod": "api-1", "namespace": "shop"},
        "namespace": "shop",
    }
    pipeline = Pipeline(lambda asks: [], known, extract_hook=hook)
    pipeline._stage("extract", pipeline._extract)
    assert asked == []
    vague = dict(VAGUE, namespace="shop")
    pipeline = Pipeline(lambda asks: [], vague, extract_hook=hook)
    pipeline._stage("extract", pipeline._extract)
    assert asked == ["CheckoutErrors"]
