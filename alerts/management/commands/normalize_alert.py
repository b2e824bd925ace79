"""`manage.py normalize_alert --source S [FILE|-]`: run only the source adapter and print the alerts."""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from alerts.models import Source
from alerts.sources import PayloadError, get_adapter
from opsworker.payload_guard import PayloadRejected, decode_body

KEYS = (
    "source",
    "fingerprint",
    "native_fingerprint",
    "status",
    "alertname",
    "severity",
    "severity_raw",
    "summary",
    "description",
    "labels",
    "annotations",
    "cluster",
    "namespace",
    "pod",
    "container",
    "workload",
    "node",
    "starts_at",
    "ends_at",
    "links",
)


class Command(BaseCommand):
    help = 'Normalize one webhook payload with a source adapter and print {"alerts": [...]} (no database).'
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, choices=Source.values)
        parser.add_argument("file", nargs="?", default="-", help="payload file, or - for standard input")
        parser.add_argument("--content-type", default="application/json")

    def handle(self, *args, **options):
        try:
            if options["file"] == "-":
                body = sys.stdin.buffer.read(settings.WEBHOOK_MAX_BYTES + 1)
            else:
                with open(options["file"], "rb") as handle:
                    body = handle.read(settings.WEBHOOK_MAX_BYTES + 1)
        except OSError as error:
            self._fail(f"cannot read {options['file']}: {error.strerror}")
        try:
            payload = decode_body(
                body,
                options["content_type"],
                max_bytes=settings.WEBHOOK_MAX_BYTES,
                max_depth=settings.WEBHOOK_MAX_DEPTH,
                allow_form=True,
            )
            if (
                options["source"] == Source.CLOUDWATCH
                and isinstance(payload, dict)
                and payload.get("Type")
                in (
                    "SubscriptionConfirmation",
                    "UnsubscribeConfirmation",
                )
            ):
                self._fail(f"an SNS {payload['Type']} carries no alert")
            alerts = get_adapter(options["source"]).parse(payload, headers={})
        except PayloadRejected as rejected:
            self._fail(rejected.message)
        except PayloadError as error:
            self._fail(str(error))
        data = {"alerts": [{key: alert.as_json()[key] for key in KEYS} for alert in alerts]}
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))

    def _fail(self, message: str):
        sys.stderr.write(json.dumps({"error": message}) + "\n")
        sys.exit(2)
