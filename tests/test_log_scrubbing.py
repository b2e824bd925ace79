"""Secrets in URLs (webhook tokens, invitation links, OAuth codes) never reach logs, reports, metrics."""

from __future__ import annotations

import io
import logging
import re
import sys

import pytest
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.debug import get_exception_reporter_class
from pythonjsonlogger.json import JsonFormatter

from opsworker.logging import ConsoleFormatter, scrub_secrets
from opsworker.metrics import render_metrics

pytestmark = pytest.mark.django_db

TOKEN = "Zq7secretTOKENvalue0123456789abcdefXYZ"


@pytest.fixture(params=["console", "json"])
def captured(request):
    """The configured stderr handler (with its filters) writing into a buffer, in either format."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "stderr")
    formatter = ConsoleFormatter() if request.param == "console" else JsonFormatter()
    old_formatter, buffer = handler.formatter, io.StringIO()
    old_stream = handler.setStream(buffer)
    handler.setFormatter(formatter)
    yield buffer
    handler.setStream(old_stream)
    handler.setFormatter(old_formatter)


def test_log_scrubbing_webhook_500_never_logs_the_token(org, captured, monkeypatch):
    # Given a dependency of the webhook that fails with the token in its message
    def broken(token, source):
        raise RuntimeError(f"lookup failed for {token}")

    monkeypatch.setattr("alerts.webhooks.integration_for_token", broken)
    client = Client(HTTP_HOST=org.domain, raise_request_exception=False)
    # When a sender posts to its webhook URL
    response = client.post(f"/hooks/alertmanager/{TOKEN}/", data="{}", content_type="application/json")
    # Then the 500 is logged, with the path, the traceback and the request, but not the token
    assert response.status_code == 500
    output = captured.getvalue()
    assert "/hooks/alertmanager/" in output
    assert "RuntimeError" in output
    assert TOKEN not in output
    # and the metrics' labels do not carry it either
    assert TOKEN.encode() not in render_metrics()[0]


def test_log_scrubbing_django_request_warning_never_logs_the_token(org, captured):
    # The call Django's log_response makes for a 4xx the view did not mark as logged.
    request = RequestFactory().get(f"/accounts/login/invitation/{TOKEN}/", HTTP_HOST=org.domain)
    logging.getLogger("django.request").warning(
        "Not Found: %s", request.path, extra={"status_code": 404, "request": request}
    )
    output = captured.getvalue()
    assert "Not Found: /accounts/login/invitation/" in output
    assert TOKEN not in output


def test_log_scrubbing_query_string_secrets_are_removed():
    line = f"GET /settings/notifications/slack/oauth/callback/?code={TOKEN}&state={TOKEN}x&ok=1"
    scrubbed = scrub_secrets(line)
    assert TOKEN not in scrubbed
    assert "ok=1" in scrubbed


def test_log_scrubbing_bearer_and_prefixed_tokens_are_removed():
    scrubbed = scrub_secrets(f"Authorization: Bearer {TOKEN} cluster owc_{TOKEN} api owk_{TOKEN}")
    assert TOKEN not in scrubbed


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


@pytest.mark.parametrize("urlconf", ["opsworker.urls", "opsworker.urls_public"])
def test_log_scrubbing_covers_every_url_with_a_secret_in_its_path(urlconf):
    # Any route whose path carries a token-like argument must be scrubbed (a new one fails here).
    secret_names = ("token", "secret", "key", "code", "signature")
    found = 0
    for route, entry in _patterns(get_resolver(urlconf)):
        if route.startswith("admin/"):
            continue  # django-rq's worker keys are names, not credentials
        names = [name for name in entry.pattern.converters if any(s in name for s in secret_names)]
        if not names:
            continue
        found += 1
        path = "/" + route
        for name in entry.pattern.converters:
            value = TOKEN if name in names else "1" if f"<int:{name}>" in route else "alertmanager"
            path = re.sub(rf"<(?:\w+:)?{name}>", value, path)
        assert TOKEN in path, route
        assert TOKEN not in scrub_secrets(f"Internal Server Error: {path}"), route
    assert found or urlconf == "opsworker.urls_public"


def test_log_scrubbing_error_report_hides_the_token(org):
    request = RequestFactory().post(
        f"/hooks/alertmanager/{TOKEN}/?token={TOKEN}", HTTP_HOST=org.domain, HTTP_REFERER=f"/hooks/x/{TOKEN}/"
    )

    def view(request, source, token):
        raise RuntimeError(f"failed for {token}")

    try:
        view(request, "alertmanager", TOKEN)
    except RuntimeError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
    assert TOKEN not in reporter.get_traceback_text()
    assert TOKEN not in reporter.get_traceback_html()


@pytest.mark.parametrize(
    "name", ["django.request", "django.server", "uvicorn.error", "uvicorn.access", "alerts"]
)
def test_log_scrubbing_every_handler_a_record_reaches_scrubs(name):
    logger, handlers = logging.getLogger(name), []
    while logger:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    handlers = [h for h in handlers if not type(h).__module__.startswith("_pytest")]
    assert handlers
    for handler in handlers:
        assert any(type(f).__name__ == "SecretScrubbingFilter" for f in handler.filters), (name, handler)
