"""The sweeper and running investigations' leases: a lost worker's investigation is resumed once,
a second loss fails it with the reason, and a pending one whose job vanished from Redis is queued
again (only then)."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from investigations.models import Investigation, InvestigationStep
from investigations.services import investigation_job_id, investigations_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    queue = django_rq.get_queue("investigations")
    queue.empty()
    yield queue
    queue.empty()


def _running(*, attempts: int, lease_seconds: int) -> Investigation:
    now = timezone.now()
    return Investigation.objects.create(
        cluster="c",
        namespace="shop",
        status="running",
        started_at=now - timedelta(seconds=60),
        attempts=attempts,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
    )


def test_sweeper_resumes_a_running_investigation_whose_lease_lapsed(
    org, other_org, queue, django_capture_on_commit_callbacks
):
    with schema_context(org.schema):
        # given a running investigation whose worker stopped renewing its lease
        lost = _running(attempts=1, lease_seconds=-5)
        alive = _running(attempts=1, lease_seconds=20)
        # when the sweeper runs
        with django_capture_on_commit_callbacks(execute=True):
            outcome = investigations_sweep()
        # then it is pending again, with a note in its step log, and its second attempt is queued
        assert outcome == {"requeued": 1, "failed": 0}
        lost.refresh_from_db()
        assert lost.status == "pending" and lost.lease_expires_at is None and lost.attempts == 1
        note = InvestigationStep.objects.get(investigation=lost, stage="resumed")
        assert note.summary.startswith("Resumed after a lost worker")
        assert "attempt 2 of 2" in note.summary
        # and the one whose lease is current is left to its worker
        assert Investigation.objects.get(pk=alive.pk).status == "running"
    jobs = queue.get_jobs()
    assert [(job.id, job.args) for job in jobs] == [
        (investigation_job_id(org.schema, lost.pk, 2), (org.schema, lost.pk))
    ]
    with schema_context(other_org.schema):
        assert not Investigation.objects.exists()
        assert not InvestigationStep.objects.exists()


def test_sweeper_fails_an_investigation_on_the_second_lost_worker(
    org, queue, django_capture_on_commit_callbacks
):
    with schema_context(org.schema):
        twice = _running(attempts=2, lease_seconds=-5)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = investigations_sweep()
        assert outcome == {"requeued": 0, "failed": 1}
        twice.refresh_from_db()
        assert twice.status == "failed" and twice.finished_at is not None
        assert "stopped before finishing 2 time(s)" in twice.failure_reason
        assert "re-run it" in twice.failure_reason
    assert queue.count == 0


def test_sweeper_requeues_a_pending_investigation_only_when_its_job_is_gone(
    org, queue, django_capture_on_commit_callbacks
):
    with schema_context(org.schema):
        # given a pending investigation whose job is still waiting in Redis
        with django_capture_on_commit_callbacks(execute=True):
            from investigations.services import investigation_enqueue

            waiting = Investigation.objects.create(cluster="c", namespace="shop")
            investigation_enqueue(waiting)
        Investigation.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(minutes=5))
        assert queue.count == 1
        # when the sweeper runs, it leaves it alone
        with django_capture_on_commit_callbacks(execute=True):
            assert investigations_sweep() == {"requeued": 0, "failed": 0}
        assert queue.count == 1
        # when Redis loses the job (restarted empty), the next sweep queues it again
        django_rq.get_connection("investigations").flushdb()
        with django_capture_on_commit_callbacks(execute=True):
            assert investigations_sweep() == {"requeued": 1, "failed": 0}
    assert [job.args for job in queue.get_jobs()] == [(org.schema, waiting.pk)]


def test_sweeper_everywhere_sweeps_every_active_organization_in_one_job(
    org, other_org, queue, django_capture_on_commit_callbacks
):
    from investigations.tasks import sweep_investigations_everywhere

    # given a pending investigation in each organization whose job never reached Redis
    old = timezone.now() - timedelta(minutes=5)
    lost = {}
    for fixture in (org, other_org):
        with schema_context(fixture.schema):
            lost[fixture.schema] = Investigation.objects.create(cluster="c", namespace="shop")
            Investigation.objects.filter(pk=lost[fixture.schema].pk).update(created_at=old)
    # when the scheduler's entry point runs
    with django_capture_on_commit_callbacks(execute=True):
        totals = sweep_investigations_everywhere()
    # then both are queued again, each in its own organization, by this one job
    assert totals["requeued"] >= 2 and totals["errors"] == 0
    queued = {job.args for job in queue.get_jobs()}
    assert {(schema, item.pk) for schema, item in lost.items()} <= queued


def test_sweeper_requeues_ahead_of_a_backlog(org, queue, django_capture_on_commit_callbacks):
    from investigations.services import investigation_enqueue

    with schema_context(org.schema):
        # given a lost run, and a newer backlog already waiting in the queue
        lost = _running(attempts=1, lease_seconds=-5)
        backlog = [Investigation.objects.create(cluster="c", namespace="shop") for _ in range(3)]
        with django_capture_on_commit_callbacks(execute=True):
            for waiting in backlog:
                investigation_enqueue(waiting)
        # when the sweeper resumes the lost run
        with django_capture_on_commit_callbacks(execute=True):
            investigations_sweep()
    # then it runs next, not after the backlog
    assert queue.get_jobs()[0].id == investigation_job_id(org.schema, lost.pk, 2)
    assert len(queue.get_jobs()) == 4


def test_sweeper_leaves_a_lease_renewed_after_it_listed_it(org, queue):
    from investigations.services import _worker_lost

    with schema_context(org.schema):
        # given a run the sweeper listed as lapsed, whose worker renewed the lease just after
        listed_at = timezone.now()
        renewed = _running(attempts=1, lease_seconds=20)
        # when the sweeper handles it under the row lock (the race the listing cannot see)
        outcome = _worker_lost(renewed.pk, listed_at)
        # then it is left to its live worker: not re-queued, not failed
        assert outcome is None
        renewed.refresh_from_db()
        assert renewed.status == "running" and renewed.attempts == 1
    assert queue.get_jobs() == []
