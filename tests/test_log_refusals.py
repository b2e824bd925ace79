"""A refused request is one log line, not a traceback; a server error keeps its traceback."""

from __future__ import annotations

import logging

import pytest

from opsworker.logging import NoTracebackForRefusals
from tests.test_log_scrubbing import captured  # noqa: F401  (the configured stderr handler)

pytestmark = pytest.mark.django_db


def test_refused_page_logs_its_line_without_a_traceback(org, make_member, client_for, captured):  # noqa: F811
    viewer = make_member(org, "viewer")

    response = client_for(viewer, org).get("/settings/notifications/")

    assert response.status_code == 403
    output = captured.getvalue()
    assert "Forbidden" in output and "/settings/notifications/" in output
    assert "Traceback" not in output
    assert "PermissionDenied" not in output


def _record(name: str, status: int) -> logging.LogRecord:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(name, logging.ERROR, __file__, 1, "answer", (), sys.exc_info())
    record.status_code = status
    return record


@pytest.mark.parametrize(
    ("name", "status", "keeps_traceback"),
    [
        ("django.request", 403, False),
        ("django.security.DisallowedHost", 400, False),
        ("django.request", 500, True),
        ("alerts.webhooks", 403, True),  # our own records decide for themselves
    ],
)
def test_only_djangos_4xx_records_lose_their_traceback(name, status, keeps_traceback):
    record = _record(name, status)

    assert NoTracebackForRefusals().filter(record)

    assert (record.exc_info is not None) is keeps_traceback
