"""The tenant-aware job pattern, run inline (the real-worker proof is in tests/integration)."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from investigations.models import PipelineCheck
from investigations.tasks import pipeline_check_report
from tenants.jobs import TenantGone, enqueue_in_tenant, tenant_job

pytestmark = pytest.mark.django_db


def test_tenant_job_runs_inside_given_schema_and_restores(org):
    seen = []

    @tenant_job
    def probe(schema_name):
        seen.append(connection.schema_name)

    probe(org.schema)
    assert seen == [org.schema]
    assert connection.schema_name == "public"


def test_tenant_job_refuses_public_and_unknown_schemas(org):
    with pytest.raises(TenantGone):
        pipeline_check_report("public", 1, "default")
    with pytest.raises(TenantGone):
        pipeline_check_report("org_nobody", 1, "default")


def test_tenant_job_writes_only_into_its_schema(org, other_org):
    with schema_context(org.schema):
        check = PipelineCheck.objects.create(requested_by="x@alpha.test")
    with schema_context(other_org.schema):
        # Same primary key in the other schema: the job must not touch it.
        PipelineCheck.objects.create(pk=check.pk, requested_by="x@beta.test")
    pipeline_check_report(org.schema, check.pk, "default")
    with schema_context(org.schema):
        assert set(PipelineCheck.objects.get(pk=check.pk).results) == {"default"}
    with schema_context(other_org.schema):
        assert PipelineCheck.objects.get(pk=check.pk).results == {}


def test_enqueue_in_tenant_refuses_public():
    with pytest.raises(ValueError, match="organization schema"):
        enqueue_in_tenant("default", pipeline_check_report, "public", 1, "default")
