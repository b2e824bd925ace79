"""`manage.py create_org`: create an organization (schema, domain, owner) or confirm it exists."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.links import host_url
from tenants.services import organization_setup


class Command(BaseCommand):
    help = "Create an organization with its schema, domain and owner membership (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True, help="lower-case letters, digits, dashes")
        parser.add_argument("--domain", required=True, help="host name, e.g. acme.opsworker.example")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="set only when creating the user or to change it")

    def handle(self, *args, **options):
        try:
            setup = organization_setup(
                name=options["name"],
                slug=options["slug"],
                domain=options["domain"],
                owner_email=options["owner_email"],
                owner_password=options["owner_password"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        for change in setup.changes:
            self.stdout.write(f"  {change}")
        if not setup.changes:
            self.stdout.write(f"organization {setup.organization.slug} already exists; nothing changed")
        self.stdout.write(f"login: {host_url(setup.domain.domain)}/accounts/login/")
