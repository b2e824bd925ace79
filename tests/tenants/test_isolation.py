"""Rows written in one organization's schema are invisible from another: ORM and pages."""

import pytest
from django_tenants.utils import schema_context

from investigations.models import PipelineCheck

pytestmark = pytest.mark.django_db


def test_isolation_orm_rows_stay_in_their_schema(org, other_org):
    with schema_context(org.schema):
        PipelineCheck.objects.create(requested_by="only-in-alpha@alpha.test")
        assert PipelineCheck.objects.count() == 1
    with schema_context(other_org.schema):
        assert PipelineCheck.objects.count() == 0
        assert not PipelineCheck.objects.filter(requested_by="only-in-alpha@alpha.test").exists()


def test_isolation_pages_show_only_own_rows(org, other_org, client_for):
    with schema_context(org.schema):
        PipelineCheck.objects.create(requested_by="only-in-alpha@alpha.test")
    alpha_page = client_for(org.owner, org).get("/settings/").content.decode()
    beta_page = client_for(other_org.owner, other_org).get("/settings/").content.decode()
    assert "only-in-alpha@alpha.test" in alpha_page
    assert "only-in-alpha@alpha.test" not in beta_page
    assert "No check has run yet" in beta_page


def test_isolation_partial_shows_only_own_rows(org, other_org, client_for):
    with schema_context(org.schema):
        PipelineCheck.objects.create(requested_by="only-in-alpha@alpha.test")
    partial = client_for(other_org.owner, other_org).get("/settings/pipeline-check/").content.decode()
    assert "only-in-alpha@alpha.test" not in partial
    assert "No check has run yet" in partial


def test_isolation_settings_lists_only_own_members(org, other_org, client_for):
    page = client_for(org.owner, org).get("/settings/").content.decode()
    assert org.owner.email in page
    assert other_org.owner.email not in page
