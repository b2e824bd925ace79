"""Running investigations: failure reasons a person understands, the sweeper, re-runs, isolation."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from investigations.models import Investigation, InvestigationStep
from investigations.runner import run_investigation_now
from investigations.services import investigation_rerun, investigation_start, investigations_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def offline_cluster(org):
    from clusters.services import cluster_create

    with schema_context(org.schema):
        return cluster_create(name="never-connected", created_by="test").cluster


def test_runner_agent_offline_fails_with_that_reason_and_keeps_steps(org, offline_cluster):
    with schema_context(org.schema):
        investigation = investigation_start(
            cluster="never-connected", namespace="shop", kind="Pod", name="web-1"
        )
        finished = run_investigation_now(investigation.pk)
        assert finished.status == "failed"
        assert "agent is offline" in finished.failure_reason
        assert finished.finished_at is not None
        steps = dict(InvestigationStep.objects.filter(investigation=finished).values_list("stage", "status"))
        assert steps == {"extract": "ok", "topology": "failed"}


def test_runner_unknown_cluster_fails_clearly(org):
    with schema_context(org.schema):
        investigation = investigation_start(cluster="nope", namespace="shop", kind="Pod", name="web-1")
        finished = run_investigation_now(investigation.pk)
        assert finished.status == "failed"
        assert "no cluster named 'nope'" in finished.failure_reason


def test_runner_skips_an_investigation_that_is_not_pending(org, offline_cluster):
    with schema_context(org.schema):
        investigation = investigation_start(
            cluster="never-connected", namespace="shop", kind="Pod", name="web-1"
        )
        Investigation.objects.filter(pk=investigation.pk).update(status="running")
        assert run_investigation_now(investigation.pk) is None  # another worker has it


def test_sweeper_requeues_lost_pending_and_fails_dead_running(org, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue("investigations")
    queue.empty()
    with schema_context(org.schema):
        lost = Investigation.objects.create(cluster="c", namespace="shop")
        fresh = Investigation.objects.create(cluster="c", namespace="shop")
        dead = Investigation.objects.create(
            cluster="c", namespace="shop", status="running", started_at=timezone.now() - timedelta(hours=2)
        )
        Investigation.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=10))
        with django_capture_on_commit_callbacks(execute=True):
            outcome = investigations_sweep()
        assert outcome == {"requeued": 1, "failed": 1}
        assert Investigation.objects.get(pk=dead.pk).status == "failed"
        assert "worker" in Investigation.objects.get(pk=dead.pk).failure_reason
        assert Investigation.objects.get(pk=fresh.pk).status == "pending"
    jobs = queue.get_jobs()
    assert [job.args for job in jobs] == [(org.schema, lost.pk)]
    queue.empty()


def test_rerun_creates_a_linked_pending_investigation(org, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue("investigations")
    queue.empty()
    with schema_context(org.schema):
        original = Investigation.objects.create(
            cluster="c", namespace="shop", resource_kind="Pod", resource_name="web-1", status="completed"
        )
        with django_capture_on_commit_callbacks(execute=True):
            rerun = investigation_rerun(investigation=original, requested_by="sre@alpha.test")
        assert (rerun.status, rerun.rerun_of_id, rerun.trigger) == ("pending", original.pk, "rerun")
        assert (rerun.namespace, rerun.resource_kind, rerun.resource_name) == ("shop", "Pod", "web-1")
    assert [job.args for job in queue.get_jobs()] == [(org.schema, rerun.pk)]
    queue.empty()


def test_investigations_of_one_org_are_invisible_to_another(org, other_org):
    with schema_context(org.schema):
        Investigation.objects.create(cluster="c", namespace="shop")
    with schema_context(other_org.schema):
        assert Investigation.objects.count() == 0
