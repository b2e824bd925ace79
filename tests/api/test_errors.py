"""The error contract: one JSON shape, the right status, never a 5xx for client input."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert isinstance(error["details"], dict)
    return error


def test_wrong_method_is_405_with_allow(owner_api):
    error = _error(owner_api.delete("/api/v1/signals/"), 405)
    assert error["code"] == "method_not_allowed"
    assert owner_api.delete("/api/v1/signals/")["Allow"] == "GET"
    assert owner_api.put("/api/v1/rules/")["Allow"] == "GET, POST"


def test_unknown_path_is_json_404(owner_api):
    assert _error(owner_api.get("/api/v1/widgets/"), 404)["code"] == "not_found"
    assert _error(owner_api.get("/api/v1/signals/abc/"), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("text/plain", "name=x", 415, "unsupported_media_type"),
        ("application/x-www-form-urlencoded", "name=x", 415, "unsupported_media_type"),
        ("application/json", "{not json", 400, "invalid_json"),
        ("application/json", "[1, 2]", 400, "invalid_json"),
        ("application/json", '{"name": NaN}', 400, "invalid_json"),
        ("application/json", "[" * 100000, 400, "invalid_json"),
        ("application/json", b"\xff\xfe", 400, "invalid_json"),
    ],
)
def test_bad_bodies(owner_api, content_type, body, status, code):
    response = owner_api.post("/api/v1/rules/", body, content_type=content_type)
    assert _error(response, status)["code"] == code


def test_json_with_charset_is_accepted(owner_api):
    response = owner_api.post(
        "/api/v1/rules/", '{"name": "x", "action": "record"}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_rate_limit_is_429_with_retry_after(org, owner_api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    statuses = [owner_api.get("/api/v1/signals/").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    response = owner_api.get("/api/v1/signals/")
    error = _error(response, 429)
    assert error["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 61


def test_index_links_resources(org, owner_api):
    body = owner_api.get("/api/v1/").json()
    assert body["version"] == "v1"
    assert body["resources"]["signals"] == f"http://{org.domain}/api/v1/signals/"


def test_api_answers_are_never_cached(org, owner_api, bearer):
    """`opsworker/security_headers.py` marks every API answer no-store, errors included."""
    for response in (
        owner_api.get("/api/v1/signals/"),
        owner_api.get("/api/v1/openapi.json"),
        owner_api.get("/api/v1/signals/999999/"),
        bearer(org, None).get("/api/v1/signals/"),
    ):
        assert "no-store" in response["Cache-Control"], response.status_code
