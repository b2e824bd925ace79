"""Fixtures for webhook tests: integrations in the session's organizations, posting helpers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "sources" / "fixtures"


def fixture_bytes(source: str, name: str) -> bytes:
    return (FIXTURES / source / f"{name}.json").read_bytes()


@dataclasses.dataclass
class Hook:
    integration: object
    token: str
    org: object  # tests.conftest.OrgFixture

    @property
    def path(self) -> str:
        return f"/hooks/{self.integration.source}/{self.token}/"

    def post(self, body, *, content_type="application/json", host=None, method="post", **headers):
        from django.test import Client

        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        client = Client(HTTP_HOST=host or self.org.domain)
        return getattr(client, method)(self.path, data=body, content_type=content_type, **headers)


@pytest.fixture
def make_hook(db):
    """make_hook(org, source, auth=AuthConfig(...), **options) -> Hook with the integration's token."""
    from django_tenants.utils import schema_context

    from alerts.services.integrations import integration_create

    def make(org_fixture, source, auth=None, **options) -> Hook:
        with schema_context(org_fixture.schema):
            made = integration_create(name=f"{source} test", source=source, auth=auth, **options)
        return Hook(made.integration, made.token, org_fixture)

    return make


@pytest.fixture
def make_rule(db):
    """make_rule(org, name, conditions, action="investigate", **options) -> Rule (in that org's schema)."""
    from django_tenants.utils import schema_context

    from alerts.services.rules import rule_create

    def make(org_fixture, name="investigate namespaced", conditions=None, action="investigate", **options):
        if conditions is None:
            conditions = [{"field": "namespace", "operator": "exists"}]
        with schema_context(org_fixture.schema):
            return rule_create(
                data={"name": name, "conditions": conditions, "action": action, **options},
                author="test@example.com",
            )

    return make
