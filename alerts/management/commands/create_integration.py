"""`manage.py create_integration`: add an alert source to an organization; prints its webhook URL as JSON."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from alerts.models import AuthKind, Source
from alerts.services.integrations import AuthConfig, integration_create
from alerts.setup_guides import webhook_url
from tenants.models import Organization


class Command(BaseCommand):
    help = "Create an integration (alert source) for an organization and print its webhook URL as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--source", required=True, choices=Source.values)
        parser.add_argument("--name", required=True)
        auth = parser.add_mutually_exclusive_group()
        auth.add_argument("--bearer", metavar="TOKEN", help="require Authorization: Bearer TOKEN")
        auth.add_argument("--basic", metavar="USER:PASS", help="require HTTP basic credentials")
        auth.add_argument("--header", metavar="NAME:VALUE", help="require a header with a secret value")
        auth.add_argument("--hmac-secret", metavar="SECRET", help="require Grafana's HMAC-SHA256 signature")
        parser.add_argument("--hmac-header", default="X-Grafana-Alerting-Signature")
        parser.add_argument("--hmac-timestamp-header", default="")
        parser.add_argument("--cluster", default="", help="cluster the source watches")
        parser.add_argument(
            "--allow-raw-delivery", action="store_true", help="cloudwatch: accept unsigned raw SNS"
        )
        parser.add_argument(
            "--rate-limit", type=int, help="requests per minute before 429 (default from settings)"
        )

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).exclude(schema_name="public").first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['org']!r}")
        auth = self._auth(options)
        try:
            with schema_context(organization.schema_name):
                made = integration_create(
                    name=options["name"],
                    source=options["source"],
                    auth=auth,
                    cluster_name=options["cluster"],
                    allow_raw_delivery=options["allow_raw_delivery"],
                    created_by="manage.py",
                )
                if options["rate_limit"]:
                    made.integration.rate_limit_per_minute = options["rate_limit"]
                    made.integration.save(update_fields=["rate_limit_per_minute"])
                if options["rate_limit"]:
                    made.integration.rate_limit_per_minute = options["rate_limit"]
                    made.integration.save(update_fields=["rate_limit_per_minute"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        integration = made.integration
        self.stdout.write(
            json.dumps(
                {
                    "organization": organization.slug,
                    "id": integration.pk,
                    "name": integration.name,
                    "source": integration.source,
                    "auth": integration.auth_kind,
                    "cluster": integration.cluster_name,
                    "webhook_url": webhook_url(organization, integration.source, made.token),
                    "note": "the URL contains a secret and is shown only now; rotate it to get a new one",
                },
                indent=2,
            )
        )

    def _auth(self, options) -> AuthConfig:
        if options["bearer"]:
            return AuthConfig(kind=AuthKind.BEARER, secret=options["bearer"])
        if options["basic"]:
            user, sep, password = options["basic"].partition(":")
            if not sep:
                raise CommandError("--basic takes USER:PASS")
            return AuthConfig(kind=AuthKind.BASIC, username=user, secret=password)
        if options["header"]:
            name, sep, value = options["header"].partition(":")
            if not sep:
                raise CommandError("--header takes NAME:VALUE")
            return AuthConfig(kind=AuthKind.HEADER, header=name.strip(), secret=value.strip())
        if options["hmac_secret"]:
            return AuthConfig(
                kind=AuthKind.HMAC,
                secret=options["hmac_secret"],
                header=options["hmac_header"],
                timestamp_header=options["hmac_timestamp_header"],
            )
        return AuthConfig()
