"""The admin's "Retry confirmation" restarts failed SNS subscriptions only.

A subscription still waiting has a job retrying on its schedule; a second job on the same row
would race it for the attempt counter, so the button leaves it alone.
"""

import django_rq
import pytest
from django_tenants.utils import schema_context

from alerts.models import SnsSubscription, SnsSubscriptionStatus
from alerts.services.integrations import integration_create, sns_subscription_retry

pytestmark = pytest.mark.django_db


def test_sns_retry_restarts_failed_subscriptions_and_leaves_waiting_ones(
    org, other_org, django_capture_on_commit_callbacks
):
    queue = django_rq.get_queue("default")
    queue.empty()
    with schema_context(org.schema):
        made = integration_create(name="cw", source="cloudwatch")
        rows = {
            status: SnsSubscription.objects.create(
                integration=made.integration,
                topic_arn=f"arn:aws:sns:eu-west-1:123456789012:{status}",
                subscribe_url=f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token={status}",
                status=status,
                attempts=3,
            )
            for status in (SnsSubscriptionStatus.WAITING, SnsSubscriptionStatus.FAILED)
        }
        with django_capture_on_commit_callbacks(execute=True):
            count = sns_subscription_retry(integration=made.integration)
        assert count == 1
        waiting, failed = (SnsSubscription.objects.get(pk=rows[s].pk) for s in rows)
        assert (waiting.status, waiting.attempts) == ("waiting", 3)
        assert (failed.status, failed.attempts) == ("waiting", 0)
    assert [job.args for job in queue.get_jobs()] == [(org.schema, failed.pk)]
    queue.empty()
    with schema_context(other_org.schema):
        assert not SnsSubscription.objects.exists()
