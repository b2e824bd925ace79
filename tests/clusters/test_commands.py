"""Management commands of the gateway: the demo cluster and the SQS consumer's empty pass."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from clusters.models import Cluster
from tenants.secret_box import digest

pytestmark = pytest.mark.django_db


def test_ensure_demo_cluster_is_idempotent_and_keeps_the_token_file(org, other_org, in_schema, tmp_path):
    token_file = tmp_path / "run" / "demo-cluster-token"
    call_command(
        "ensure_demo_cluster",
        "--org",
        org.organization.slug,
        "--token-file",
        str(token_file),
        stdout=io.StringIO(),
    )
    token = token_file.read_text().strip()
    assert token.startswith("owc_")
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    call_command(
        "ensure_demo_cluster",
        "--org",
        org.organization.slug,
        "--token-file",
        str(token_file),
        stdout=io.StringIO(),
    )
    assert token_file.read_text().strip() == token
    with in_schema(org):
        [cluster] = Cluster.objects.all()
        assert (cluster.name, cluster.token_hash) == ("demo-cluster", digest(token))
    with in_schema(other_org):
        assert not Cluster.objects.exists()


def test_agent_sqs_results_once_with_no_sqs_clusters(org, make_cluster):
    make_cluster(org, "http-only")
    out = io.StringIO()
    call_command("agent_sqs_results", "--once", stdout=out)
    assert "handled 0" in out.getvalue()
