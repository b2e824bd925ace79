"""Response headers at the edge: a Content-Security-Policy on pages, no-store on private answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_security_headers_csp_on_pages_allows_only_own_scripts(org, client_for):
    response = client_for(org.owner, org).get("/settings/")
    assert response.status_code == 200
    csp = _directives(response)
    assert csp["script-src"] == "script-src 'self'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"


def test_security_headers_csp_on_the_sign_in_page(org):
    response = Client(HTTP_HOST=org.domain).get("/accounts/login/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_security_headers_no_store_on_authenticated_page(org, client_for):
    response = client_for(org.owner, org).get("/settings/")
    assert "no-store" in response["Cache-Control"]


def test_security_headers_no_store_on_api_answer(org, client_for):
    response = client_for(org.owner, org).get("/api/v1/signals/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_security_headers_no_store_on_api_refusal(org):
    response = Client(HTTP_HOST=org.domain).get("/api/v1/signals/")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_security_headers_static_files_and_healthz_stay_cacheable(org, client_for):
    client = client_for(org.owner, org)
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    health = client.get("/healthz")
    assert health.status_code == 200
    assert "no-store" not in health.get("Cache-Control", "")


def test_security_headers_templates_have_no_inline_script():
    # script-src 'self' blocks inline scripts and event-handler attributes: none may exist.
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\s(on[a-z]+|hx-on[:a-z-]*)\s*=", re.IGNORECASE)
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for pattern in (inline_script, handler):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0).strip()}" for m in pattern.finditer(text)]
    assert offenders == []
