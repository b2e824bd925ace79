"""Fixtures of the API tests: tokens, bearer and session clients, rows in an organization's schema."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers(django_db_setup):
    """Rate-limit windows are per token/user id; ids repeat across test runs, so start clean."""
    from opsworker.api.auth import rate_limit_key_prefix
    from opsworker.redis_client import shared_redis

    with contextlib.suppress(Exception):
        client = shared_redis()
        for key in client.scan_iter(f"{rate_limit_key_prefix()}:*", count=1000):
            client.delete(key)
    yield


@pytest.fixture
def make_token(db):
    """make_token(org, user=None, role="", scope="read", expired=False, revoked=False, **create_kwargs)."""
    from django.utils import timezone

    from tenants.api_tokens import ApiToken, api_token_create

    def make(org_fixture, user=None, *, role="", scope="read", expired=False, revoked=False, **kwargs):
        if user is None and not role:
            user = org_fixture.owner
        token, secret = api_token_create(
            organization=org_fixture.organization,
            user=user,
            role=role,
            name=kwargs.pop("name", "test token"),
            scope=scope,
            created_by=(user or org_fixture.owner).email,
            **kwargs,
        )
        if expired:
            ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        if revoked:
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        token.refresh_from_db()
        return secret

    return make


@pytest.fixture
def bearer(db):
    """bearer(org, secret) -> a test client on org's host sending `Authorization: Bearer secret`."""
    from django.test import Client

    def make(org_fixture, secret: str | None, host: str | None = None):
        headers = {"HTTP_HOST": host or org_fixture.domain}
        if secret is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return Client(**headers)

    return make


@pytest.fixture
def owner_api(org, make_token, bearer):
    """A write-scope token of alpha's owner."""
    return bearer(org, make_token(org, scope="write"))


@pytest.fixture
def make_signal(db):
    """make_signal(org, **fields) -> Signal in org's schema (defaults: firing, warning, generic)."""
    import itertools
    import uuid

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from alerts.models import Signal

    counter = itertools.count()

    def make(org_fixture, **fields):
        n = next(counter)
        values = {
            "source": "generic",
            "fingerprint": uuid.uuid4().hex,
            "episode": f"ep-{uuid.uuid4().hex}",
            "status": "firing",
            "alertname": f"Alert{n}",
            "severity": "warning",
            "namespace": "shop",
            "cluster": "prod",
            "last_received_at": timezone.now() - timedelta(seconds=n),
            "first_received_at": timezone.now() - timedelta(seconds=n),
        }
        values.update(fields)
        with schema_context(org_fixture.schema):
            return Signal.objects.create(**values)

    return make


@pytest.fixture
def make_investigation(db):
    from django_tenants.utils import schema_context

    from investigations.models import Investigation

    def make(org_fixture, **fields):
        values = {"status": "completed", "cluster": "prod", "namespace": "shop", "resource_kind": "Pod"}
        values.update(fields)
        with schema_context(org_fixture.schema):
            return Investigation.objects.create(**values)

    return make


@pytest.fixture
def make_rule(db):
    from django_tenants.utils import schema_context

    from alerts.services.rules import rule_create

    def make(org_fixture, name="Investigate payments", **fields):
        data = {
            "name": name,
            "action": "investigate",
            "conditions": [{"field": "namespace", "operator": "equals", "value": "payments"}],
            **fields,
        }
        with schema_context(org_fixture.schema):
            return rule_create(data=data, author="test@example.com")

    return make
