"""`manage.py ensure_demo`: the demo organization `make run` opens, with credentials printed."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

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
