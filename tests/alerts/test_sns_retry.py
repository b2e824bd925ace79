"""The admin's "Retry confirmation" restarts failed SNS subscriptions, and waiting ones whose job
is evidently gone; a subscription whose job is still retrying is left alone (a second job on the
same row would race it for the attempt counter).
"""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import SnsSubscription, SnsSubscriptionStatus
from alerts.services.integrations import integration_create, sns_subscription_retry

pytestmark = pytest.mark.django_db


def test_sns_retry_restarts_failed_and_lost_subscriptions_and_leaves_retrying_ones(
    org, other_org, settings, django_capture_on_commit_callbacks
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
        # and one waiting whose job was lost: no attempt for longer than the longest retry delay
        long_ago = timezone.now() - timedelta(seconds=max(settings.SNS_CONFIRM_RETRY_DELAYS) + 120)
        lost = SnsSubscription.objects.create(
            integration=made.integration,
            topic_arn="arn:aws:sns:eu-west-1:123456789012:lost",
            subscribe_url="https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=lost",
            status=SnsSubscriptionStatus.WAITING,
            requested_at=long_ago,
        )
        with django_capture_on_commit_callbacks(execute=True):
            count = sns_subscription_retry(integration=made.integration)
        assert count == 2
        waiting, failed = (SnsSubscription.objects.get(pk=rows[s].pk) for s in rows)
        assert (waiting.status, waiting.attempts) == ("waiting", 3)
        assert (failed.status, failed.attempts) == ("waiting", 0)
    assert sorted(job.args for job in queue.get_jobs()) == sorted(
        [(org.schema, failed.pk), (org.schema, lost.pk)]
    )
    queue.empty()
    with schema_context(other_org.schema):
        assert not SnsSubscription.objects.exists()
