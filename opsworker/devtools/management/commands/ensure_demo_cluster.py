"""Register the demo organization's simulated cluster (idempotent); its token goes to .run/."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from clusters.selectors import cluster_get_by_name
from clusters.services import cluster_create, cluster_rotate_token, cluster_set_token
from opsworker.devtools.demo_cluster import TOKEN_FILE
from tenants.models import Organization

NAME = "demo-cluster"


class Command(BaseCommand):
    help = "Create the demo organization's cluster 'demo-cluster'; its token goes to .run/demo-cluster-token."

    def add_arguments(self, parser):
        parser.add_argument("--org", default="demo", help="organization slug (default: demo)")
        parser.add_argument("--token-file", default=str(TOKEN_FILE), help="where the token is kept")

    def handle(self, *args, org: str = "demo", token_file: str = str(TOKEN_FILE), **options):
        from pathlib import Path

        token_path = Path(token_file)
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r}: run `manage.py ensure_demo` first")
        token = token_path.read_text().strip() if token_path.is_file() else ""
        with schema_context(organization.schema_name):
            cluster = cluster_get_by_name(NAME)
            if cluster is None:
                made = cluster_create(name=NAME, created_by="demo@opsworker.local")
                cluster = made.cluster
                if token:
                    cluster_set_token(cluster=cluster, token=token)
                else:
                    token = made.token
            elif token:
                cluster_set_token(cluster=cluster, token=token)  # the file is the truth
            else:
                token = cluster_rotate_token(cluster=cluster).token
        token_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
        self.stdout.write(f"demo cluster {NAME!r} in {organization.schema_name}; token in {token_path}")
