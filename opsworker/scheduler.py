"""The periodic-jobs scheduler: `python -m opsworker.scheduler` (jobs registered in opsworker.cron).

django-rq's `rqcron` runs RQ's cron scheduler, which exits with a traceback on the first Redis
error; without it no sweeper, retention or digest runs until something restarts it. This one
waits for Redis instead (the same backoff as the workers, `opsworker.rq_worker.RedisOutage`) and
carries on: a job that came due during the outage is enqueued on the first pass after it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import time


def _scheduler_class():
    # Imported after django.setup(): django-rq's scheduler reads the settings.
    from django_rq.cron import DjangoCronScheduler
    from rq.exceptions import StopRequested

    from opsworker.rq_worker import REDIS_DOWN, RedisOutage

    class ResilientCronScheduler(DjangoCronScheduler):
        """RQ's cron loop with each pass guarded: a Redis error waits and tries the pass again."""

        def start(self) -> None:
            self.log.info("CronScheduler %s: starting...", self.name)
            self._install_signal_handlers()
            outage = RedisOutage("scheduler", self.name)
            born = False
            try:
                while True:
                    try:
                        if not born:
                            self.register_birth()
                            born = True
                        if self.enqueue_jobs():
                            self.save()  # the jobs' next run times
                        self.heartbeat()
                    except REDIS_DOWN as error:
                        outage.lost("cron", error)
                        continue
                    if outage.answered("cron"):
                        born = False  # a Redis restarted empty forgot this scheduler
                        continue
                    sleep_for = self.calculate_sleep_interval()
                    if sleep_for > 0:
                        time.sleep(sleep_for)
            except (KeyboardInterrupt, StopRequested):
                self.log.info("CronScheduler %s: stop requested", self.name)
            finally:
                with contextlib.suppress(*REDIS_DOWN):
                    self.register_death()
                self.log.info("CronScheduler %s: shutdown complete", self.name)

    return ResilientCronScheduler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m opsworker.scheduler", description=__doc__.splitlines()[0]
    )
    parser.add_argument("config", nargs="?", default="opsworker.cron", help="module that registers the jobs")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsworker.settings.dev")
    import django

    django.setup()
    scheduler = _scheduler_class()(logging_level=logging.INFO)
    scheduler.load_config_from_file(args.config)
    scheduler.start()


if __name__ == "__main__":
    main()
