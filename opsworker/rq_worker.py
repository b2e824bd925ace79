"""An RQ worker that outlives a Redis outage (`RQ["WORKER_CLASS"]`, so every `manage.py rqworker`).

RQ 3's worker quits for good on a Redis error anywhere outside its dequeue call: while it watches a
running job (`monitor_work_horse` → heartbeats, then `job.get_status()` once the horse exits), in
its maintenance, in the suspension check. This subclass waits for Redis instead (backoff up to
`MAX_WAIT_SECONDS`), lets a running job finish meanwhile, and registers itself again when Redis
came back empty. What the outage costs is recovered from PostgreSQL: a job whose outcome could not
be recorded is left to the investigations' lease and sweeper (`investigations.services`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from rq.worker import Worker

logger = logging.getLogger(__name__)

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
MAX_WAIT_SECONDS = 5.0


class ResilientWorker(Worker):
    """A forking worker whose Redis-touching steps wait for Redis instead of ending the process."""

    # RQ's own dequeue retry doubles up to 60 s: after a minute's outage it could sleep half a
    # minute more. Cap it like ours.
    max_connection_wait_time = MAX_WAIT_SECONDS

    def _until_redis_answers(self, step: str, call: Callable[[], Any]) -> Any:
        """Run `call()`; while Redis is unreachable, wait (1, 2, 4, 5, 5... s) and try again."""
        wait = 1.0
        lost_at = None
        while True:
            try:
                result = call()
            except REDIS_DOWN as error:
                if lost_at is None:
                    lost_at = time.monotonic()
                logger.warning(
                    "worker.redis_unavailable",
                    extra={"worker": self.name, "step": step, "retry_in": wait, "error": str(error)[:200]},
                )
                if self._stop_requested:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, MAX_WAIT_SECONDS)
                continue
            if lost_at is not None:
                self._register_again_if_forgotten()
                logger.warning(
                    "worker.redis_back",
                    extra={
                        "worker": self.name,
                        "step": step,
                        "down_seconds": round(time.monotonic() - lost_at, 1),
                    },
                )
            return result

    def _register_again_if_forgotten(self) -> None:
        """A Redis restarted without persistence no longer lists this worker: register it again."""
        try:
            if not self.connection.hexists(self.key, "birth"):
                self.connection.delete(self.key)
                self.register_birth()
        except REDIS_DOWN:
            pass  # the next step waits for Redis again

    # -- the steps of RQ's work loop that touch Redis -------------------------------------------

    def check_for_suspension(self, burst: bool) -> None:
        self._until_redis_answers(
            "suspension", lambda: super(ResilientWorker, self).check_for_suspension(burst)
        )

    def run_maintenance_tasks(self) -> None:
        self._until_redis_answers("maintenance", lambda: super(ResilientWorker, self).run_maintenance_tasks())

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        return self._until_redis_answers(
            "dequeue",
            lambda: super(ResilientWorker, self).dequeue_job_and_maintain_ttl(timeout, max_idle_time),
        )

    def heartbeat(self, timeout=None, pipeline=None) -> None:
        if pipeline is not None:  # part of a pipeline the caller executes (and guards)
            return super().heartbeat(timeout, pipeline)
        try:
            super().heartbeat(timeout)
        except REDIS_DOWN as error:
            logger.warning("worker.heartbeat_failed", extra={"worker": self.name, "error": str(error)[:200]})

    def maintain_heartbeats(self, job, execution) -> None:
        # Called every job_monitoring_interval while the horse runs: missing a few is harmless, and
        # raising here would stop watching a horse that is still running.
        try:
            super().maintain_heartbeats(job, execution)
        except REDIS_DOWN as error:
            logger.warning(
                "worker.job_heartbeat_failed",
                extra={"worker": self.name, "job": job.id, "error": str(error)[:200]},
            )

    def execute_job(self, job, queue) -> None:
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as error:
            # The horse has exited (its own writes may have failed too); recording the outcome
            # needs Redis. The database is the truth: leases and the sweeper pick up what is left.
            logger.warning(
                "worker.job_outcome_unrecorded",
                extra={"worker": self.name, "job": job.id, "queue": queue.name, "error": str(error)[:200]},
            )
            self._horse_pid = 0
            self._until_redis_answers("after_job", lambda: self.set_state("idle"))
