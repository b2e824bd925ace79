"""Side effects after a commit (enqueue a job, publish a live update, wake a poller): best effort.

The data is the promise: once a transaction has committed, the request that wrote it has
succeeded, whatever Redis says. Every Redis-backed side effect goes through
`after_commit_best_effort`, which runs it once the surrounding transaction commits (at once
outside one) and turns a Redis failure into a log line naming the organization and the object,
instead of an exception that would answer 500 for stored data and skip the later on-commit hooks.
What was lost is recovered elsewhere: the sweeper re-queues pending investigations, pages catch
up on load, long polls re-check the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from django.db import transaction

logger = logging.getLogger(__name__)

# What a Redis outage raises: redis-py's errors, and socket errors from clients that do not wrap
# them (builtin TimeoutError, which asyncio's is an alias of, is an OSError).
REDIS_DOWN_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)


def run_best_effort(
    effect: Callable[[], Any], *, event: str, schema: str, object_id: Any = None, **fields: Any
) -> Any:
    """Run `effect()` now; on a Redis failure log `event` (warning) and return None."""
    try:
        return effect()
    except REDIS_DOWN_ERRORS as error:
        logger.warning(
            event,
            extra={
                "schema": schema,
                "object_id": object_id,
                "error_type": type(error).__name__,
                "error": str(error)[:300],
                **fields,
            },
        )
        return None


def after_commit_best_effort(
    effect: Callable[[], Any], *, event: str, schema: str, object_id: Any = None, **fields: Any
) -> None:
    """Run `effect()` once the current transaction commits; a Redis failure is logged, never raised.

    `event` is the dotted log event for the failure; `schema` and `object_id` say whose data the
    lost side effect was about; extra `fields` are added to the log record.
    """
    transaction.on_commit(
        lambda: run_best_effort(effect, event=event, schema=schema, object_id=object_id, **fields)
    )
