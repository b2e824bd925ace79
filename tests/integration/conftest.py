"""Integration fixtures: committed data and a real `rqworker` process on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def committed(_orgs, django_db_blocker):
    """Database access without the per-test transaction, so other processes see the rows.

    Tests clean up what they create (the session's organizations stay).
    """
    with django_db_blocker.unblock():
        yield _orgs
        from django.db import connection

        connection.set_schema_to_public()


@pytest.fixture
def clean_queues(settings):
    """Empty the test Redis DB's queues before and after, so a burst worker runs only our jobs."""
    import django_rq

    def empty():
        for name in settings.RQ_QUEUES:
            queue = django_rq.get_queue(name)
            queue.empty()

    empty()
    yield
    empty()


@pytest.fixture
def run_worker(committed):
    """run_worker() runs a real `manage.py rqworker --burst` on all queues against the test DB."""
    from django.db import connection

    def run(
        queues=("investigations", "notifications", "default"), timeout=120
    ) -> subprocess.CompletedProcess:
        db = connection.settings_dict
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="opsworker.settings.test",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        )
        return subprocess.run(
            [sys.executable, "manage.py", "rqworker", *queues, "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
