"""An RQ worker that outlives a Redis outage (`RQ["WORKER_CLASS"]`, so every `manage.py rqworker`).

RQ 3's worker quits for good on a Redis error anywhere outside its dequeue call: while it watches a
running job (`monitor_work_horse` → heartbeats, then `job.get_status()` once the horse exits), in
its maintenance, in the suspension check. This subclass waits for Redis instead (backoff up to
`MAX_WAIT_SECONDS`), lets a running job finish meanwhile, and registers itself again when Redis
came back empty. What the outage costs is recovered from PostgreSQL: a job whose outcome could not
be recorded is left to the investigations' lease and sweeper (`investigations.services`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from rq.scheduler import RQScheduler
from rq.worker import Worker

logger = logging.getLogger(__name__)

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
MAX_WAIT_SECONDS = 5.0


class RedisOutage:
    """Backoff bookkeeping for one process's wait for Redis: logs when it is lost and when it is back."""

    def __init__(self, process: str, name: str) -> None:
        self.process, self.name = process, name
        self.wait = 1.0
        self.lost_at: float | None = None

    def lost(self, step: str, error: Exception) -> None:
        """Log the failure and sleep before the caller tries again (1, 2, 4, 5, 5... s)."""
        if self.lost_at is None:
            self.lost_at = time.monotonic()
        logger.warning(
            f"{self.process}.redis_unavailable",
            extra={self.process: self.name, "step": step, "retry_in": self.wait, "error": str(error)[:200]},
        )
        time.sleep(self.wait)
        self.wait = min(self.wait * 2, MAX_WAIT_SECONDS)

    def answered(self, step: str) -> bool:
        """Record success; True when this ends an outage (the caller may need to register again)."""
        if self.lost_at is None:
            return False
        logger.warning(
            f"{self.process}.redis_back",
            extra={
                self.process: self.name,
                "step": step,
                "down_seconds": round(time.monotonic() - self.lost_at, 1),
            },
        )
        self.wait, self.lost_at = 1.0, None
        return True


class ResilientWorker(Worker):
    """A forking worker whose Redis-touching steps wait for Redis instead of ending the process."""

    # RQ's own dequeue retry doubles up to 60 s: after a minute's outage it could sleep half a
    # minute more. Cap it like ours.
    max_connection_wait_time = MAX_WAIT_SECONDS

    def _until_redis_answers(self, step: str, call: Callable[[], Any]) -> Any:
        """Run `call()`; while Redis is unreachable, wait (1, 2, 4, 5, 5... s) and try again."""
        outage = RedisOutage("worker", self.name)
        while True:
            try:
                result = call()
            except REDIS_DOWN as error:
                if self._stop_requested:
                    raise
                outage.lost(step, error)
                continue
            if outage.answered(step):
                self._register_again_if_forgotten()
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

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None) -> None:
        # RQ's own body with our scheduler class (RQ builds RQScheduler directly, no hook): the
        # scheduler child process must wait out Redis too, not die with a traceback and be
        # restarted by the worker's next maintenance pass.
        from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

        self.scheduler = ResilientScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT,
            log_format=log_format or DEFAULT_LOGGING_FORMAT,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()


class ResilientScheduler(RQScheduler):
    """The worker's scheduler process (delayed jobs and retries), waiting for Redis instead of dying."""

    def work(self) -> None:
        # RQ's loop, with each pass guarded: a Redis error waits and tries the pass again.
        self._install_signal_handlers()
        outage = RedisOutage("scheduler", self.name)
        born = False
        while True:
            if self._stop_requested:
                with contextlib.suppress(*REDIS_DOWN):  # its locks expire on their own
                    self.stop()
                break
            try:
                if not born:
                    self.register_birth()
                    born = True
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()
                self.enqueue_scheduled_jobs()
            except REDIS_DOWN as error:
                outage.lost("scheduled_jobs", error)
                continue
            if outage.answered("scheduled_jobs"):
                born = False  # a Redis restarted empty forgot this scheduler: register again next pass
                continue
            time.sleep(self.interval)
