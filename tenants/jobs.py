"""The tenant-aware job pattern: jobs get the schema name and run inside that schema.

    enqueue_in_tenant("default", "investigations.tasks.pipeline_check_run", schema_name, check_id)

The job function itself is decorated with `@tenant_job`; its first argument is the schema name,
and the decorator enters that schema (and leaves it) around the call, so a job can never run in
whatever schema the worker's connection was left in.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import django_rq
from django.db import connection
from django_tenants.utils import schema_context

from tenants.models import Organization
from tenants.side_effects import after_commit_best_effort, run_best_effort

logger = logging.getLogger(__name__)


class TenantGone(Exception):
    """The job's organization no longer exists or is suspended; the job is dropped."""


def tenant_job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run `func(schema_name, *args)` inside `schema_name`, refusing unknown or suspended schemas."""

    @functools.wraps(func)
    def wrapper(schema_name: str, *args: Any, **kwargs: Any) -> Any:
        with schema_context("public"):
            organization = Organization.objects.filter(schema_name=schema_name).first()
        if organization is None or schema_name == "public":
            raise TenantGone(f"no organization with schema {schema_name!r}")
        if not organization.is_active:
            logger.info("tenants.job.skipped_suspended", extra={"schema": schema_name, "job": func.__name__})
            return None
        with schema_context(schema_name):
            return func(schema_name, *args, **kwargs)

    return wrapper


def enqueue_in_tenant(
    queue: str, func: Callable[..., Any] | str, schema_name: str, *args: Any, **kwargs: Any
):
    """Enqueue a `@tenant_job` for `schema_name` after the current transaction commits (now outside one).

    Best effort: if Redis is unavailable the failure is logged with the organization and the job's
    first argument (the object id), never raised; sweepers re-queue what matters. Returns the job
    when it was enqueued at once, else None.
    """
    if schema_name == "public":
        raise ValueError("tenant jobs need an organization schema, not public")

    def enqueue():
        # Already after commit here, so the queue itself must not defer again (django-rq's
        # on_db_commit mode would run the enqueue inside Django's on_commit, where an error raises).
        rq_queue = django_rq.get_queue(queue, commit_mode="auto")
        # rq types `enqueue` with a TypeVar constrained to str or a callable, which rejects the union.
        return rq_queue.enqueue(func, schema_name, *args, **kwargs)  # type: ignore[type-var]

    failure: dict[str, Any] = {
        "event": "tenants.job.enqueue_failed",
        "schema": schema_name,
        "object_id": args[0] if args else None,
        "queue": queue,
        "job": func if isinstance(func, str) else f"{func.__module__}.{func.__name__}",
    }
    if not connection.in_atomic_block:
        return run_best_effort(enqueue, **failure)
    after_commit_best_effort(enqueue, **failure)
    return None


def current_schema() -> str:
    """The schema the current request or job runs in."""
    return connection.schema_name  # type: ignore[attr-defined]  # django-tenants' backend adds it


def active_tenant_schemas() -> list[str]:
    """Schema names of the organizations that are not suspended."""
    with schema_context("public"):
        return list(
            Organization.objects.filter(is_active=True)
            .exclude(schema_name="public")
            .values_list("schema_name", flat=True)
        )


def enqueue_in_every_active_tenant(queue: str, func: Callable[..., Any] | str) -> int:
    """Scheduler fan-out: enqueue `func(schema_name)` once per active organization; returns how many."""
    schemas = active_tenant_schemas()
    for schema in schemas:
        enqueue_in_tenant(queue, func, schema)
    return len(schemas)
