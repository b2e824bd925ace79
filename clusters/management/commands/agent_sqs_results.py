"""Consume the result queues of every SQS-transport cluster (hello, heartbeats, results)."""

from __future__ import annotations

import logging
import time

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django_tenants.utils import schema_context

from clusters.gateway import sqs
from clusters.models import Cluster, ClusterTransport
from tenants.models import Organization

logger = logging.getLogger(__name__)


def drain_all(wait_seconds: int = 0) -> int:
    """One pass over every active organization's SQS clusters; returns messages handled."""
    handled = 0
    schemas = list(
        Organization.objects.filter(is_active=True)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            for cluster in Cluster.objects.filter(transport=ClusterTransport.SQS):
                try:
                    handled += sqs.drain(cluster, wait_seconds=wait_seconds)
                except (
                    BotoCoreError,
                    ClientError,
                    DatabaseError,
                ) as error:  # one broken queue must not stop the rest
                    logger.warning(
                        "agent.sqs.drain_failed",
                        extra={
                            "schema": schema,
                            "cluster": cluster.pk,
                            "error": f"{type(error).__name__}: {error}",
                        },
                    )
    return handled


class Command(BaseCommand):
    help = "Read SQS result queues of clusters that use the SQS transport (run one per installation)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes")

    def handle(self, *args, once: bool = False, interval: float = 2.0, **options):
        while True:
            handled = drain_all(wait_seconds=0)
            if once:
                self.stdout.write(f"handled {handled} message(s)")
                return
            if not handled:
                time.sleep(interval)
