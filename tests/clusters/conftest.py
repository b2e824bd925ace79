"""Fixtures of the cluster gateway tests: clusters with known tokens, agent-side HTTP clients."""

from __future__ import annotations

import pytest


@pytest.fixture
def make_cluster(db, in_schema):
    """make_cluster(org, name="prod") -> (cluster, token)."""
    from clusters.services import cluster_create

    def make(org_fixture, name: str = "prod-eu-1", **kwargs):
        with in_schema(org_fixture):
            made = cluster_create(name=name, created_by="test@example.com", **kwargs)
        return made.cluster, made.token

    return make


@pytest.fixture
def agent_client(db):
    """agent_client(org, token) -> a test client on the org's host sending the bearer token."""
    from django.test import Client

    def make(org_fixture, token: str | None, host: str | None = None):
        headers = {"HTTP_HOST": host or org_fixture.domain}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return Client(**headers)

    return make
