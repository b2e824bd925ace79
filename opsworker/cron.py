"""The scheduler's periodic jobs (`manage.py rqcron opsworker.cron`).

Later features register theirs here: lost-job sweeps, retention, daily digests.
"""

from rq import cron

from opsworker.scheduler_heartbeat import beat

# Record that the scheduler is alive; /readyz and the Settings page can show it.
cron.register(beat, queue_name="default", interval=60, name="scheduler-heartbeat")
