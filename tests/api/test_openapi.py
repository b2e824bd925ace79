"""The OpenAPI description: valid 3.1, served by the app, describes every route and the real responses."""

from __future__ import annotations

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from opsworker.api import urls as api_urls
from opsworker.api.openapi import ROUTES, openapi_spec

pytestmark = pytest.mark.django_db


def test_description_validates():
    validate(openapi_spec())  # raises on any structural error


def test_served_description_validates_and_names_this_host(org, owner_api):
    response = owner_api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": f"http://{org.domain}/api/v1"}]


def _pattern_path(pattern) -> str:
    """Django route `signals/<int:pk>/` -> OpenAPI path `/signals/{id}/`."""
    return "/" + re.sub(r"<(?:\w+:)?\w+>", "{id}", str(pattern.pattern))


def test_every_api_route_is_described_and_nothing_else():
    spec = openapi_spec()
    routed = {
        pattern.name: _pattern_path(pattern) for pattern in api_urls.urlpatterns if pattern.name != "unknown"
    }
    described = {(route["name"], route["path"]) for route in ROUTES}
    assert set(routed.items()) == described
    # Each view's methods are exactly the documented operations, with the same capability.
    by_name = {pattern.name: pattern.callback for pattern in api_urls.urlpatterns}
    for name, path in routed.items():
        operations = {method.upper(): op["x-capability"] for method, op in spec["paths"][path].items()}
        assert operations == by_name[name].api_capabilities, name
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def _conforms(spec, path, method, status, body):
    """Validate `body` against the documented response schema (its $refs resolve in the spec)."""
    schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": spec["components"]})


def test_real_responses_match_their_schemas(
    org, owner_api, make_signal, make_investigation, make_rule, in_schema
):
    from alerts.services.integrations import integration_create
    from investigations.gateway.services import cluster_create

    spec = openapi_spec()
    signal = make_signal(org, labels={"a": "b"})
    investigation = make_investigation(org, result={"root_cause": {}}, confidence=0.5)
    rule = make_rule(org)
    with in_schema(org):
        cluster = cluster_create(name="prod", created_by="x@alpha.test").cluster
        integration = integration_create(name="AM", source="alertmanager").integration
    checks = [
        ("/", "/api/v1/"),
        ("/signals/", "/api/v1/signals/?limit=1"),
        ("/signals/{id}/", f"/api/v1/signals/{signal.pk}/"),
        ("/investigations/", "/api/v1/investigations/"),
        ("/investigations/{id}/", f"/api/v1/investigations/{investigation.pk}/"),
        ("/rules/", "/api/v1/rules/"),
        ("/rules/{id}/", f"/api/v1/rules/{rule.pk}/"),
        ("/clusters/", "/api/v1/clusters/"),
        ("/clusters/{id}/", f"/api/v1/clusters/{cluster.pk}/"),
        ("/integrations/", "/api/v1/integrations/"),
        ("/integrations/{id}/", f"/api/v1/integrations/{integration.pk}/"),
    ]
    for path, url in checks:
        response = owner_api.get(url)
        assert response.status_code == 200, url
        _conforms(spec, path, "get", "200", response.json())
    error = owner_api.get("/api/v1/signals/999999/").json()
    _conforms(spec, "/signals/{id}/", "get", "404", error)
