"""`manage.py ensure_demo`: the demo organization `make run` opens, with credentials printed."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from alerts.demo import INTEGRATION_TOKEN_FILE
from alerts.models import Integration, Rule
from alerts.services.integrations import integration_create, integration_rotate_token
from alerts.services.rules import rule_create
from tenants.links import host_url, public_url
from tenants.services import organization_setup, public_tenant_ensure

CREDENTIALS_FILE = Path(settings.BASE_DIR) / ".run" / "demo-credentials"


class Command(BaseCommand):
    help = "Ensure the public host and the demo organization exist; print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="owner@demo.localhost")
        parser.add_argument("--domain", default=f"demo.{settings.BASE_DOMAIN}")

    def handle(self, *args, **options):
        public_tenant_ensure(domain=settings.BASE_DOMAIN)
        password = self._password()
        setup = organization_setup(
            name="Demo",
            slug="demo",
            domain=options["domain"],
            owner_email=options["email"],
            owner_password=password,
        )
        for change in setup.changes:
            self.stdout.write(f"  {change}")
        from django.core.management import call_command

        call_command("ensure_demo_cluster", stdout=self.stdout)
        self._alerting(setup.organization)
        self.stdout.write(
            "\n  Demo organization ready\n"
            f"    open:      {host_url(setup.domain.domain)}/\n"
            f"    email:     {setup.owner.email}\n"
            f"    password:  {password}\n"
            f"    all orgs:  {public_url()}/\n"
        )

    def _password(self) -> str:
        # Random on first run, then stable across runs so the printed credentials keep working;
        # kept in .run/ (git-ignored), never in the repository.
        if CREDENTIALS_FILE.is_file():
            stored = CREDENTIALS_FILE.read_text().strip()
            if stored:
                return stored
        password = "demo-" + secrets.token_urlsafe(9)
        CREDENTIALS_FILE.parent.mkdir(exist_ok=True)
        CREDENTIALS_FILE.write_text(password + "\n")
        CREDENTIALS_FILE.chmod(0o600)
        return password

    def _alerting(self, organization) -> None:
        """An Alertmanager integration (token kept in .run/ for "Fire a sample incident") and a rule
        that investigates every firing alert with a namespace in the demo cluster."""
        from django_tenants.utils import schema_context

        with schema_context(organization.schema_name):
            integration = Integration.objects.filter(name="Demo Alertmanager").first()
            token = INTEGRATION_TOKEN_FILE.read_text().strip() if INTEGRATION_TOKEN_FILE.is_file() else ""
            if integration is None:
                made = integration_create(
                    name="Demo Alertmanager",
                    source="alertmanager",
                    cluster_name="demo-cluster",
                    created_by="make run",
                )
                token = made.token
                self.stdout.write("  created integration Demo Alertmanager")
            elif not token:
                token = integration_rotate_token(integration=integration).token
            INTEGRATION_TOKEN_FILE.parent.mkdir(exist_ok=True)
            INTEGRATION_TOKEN_FILE.write_text(token + "\n")
            INTEGRATION_TOKEN_FILE.chmod(0o600)
            if not Rule.objects.filter(name="Investigate demo alerts").exists():
                rule_create(
                    data={
                        "name": "Investigate demo alerts",
                        "description": "Every firing alert with a namespace is investigated in demo-cluster.",
                        "action": "investigate",
                        "target_cluster": "demo-cluster",
                        "dedup_window_minutes": 0,
                        "conditions": [{"field": "namespace", "operator": "exists"}],
                    },
                    author="make run",
                )
                self.stdout.write("  created rule Investigate demo alerts")
