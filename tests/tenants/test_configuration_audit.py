"""Configuration changes made through the pages are audited, once, for the right organization."""

import pytest
from django_tenants.utils import schema_context

from tenants.audit import AuditEvent
from tenants.roles import Role

pytestmark = pytest.mark.django_db


def test_configuration_change_is_audited_with_actor_action_and_target(
    org, other_org, client_for, make_member
):
    admin = make_member(org, Role.ADMIN)
    client = client_for(admin, org)
    response = client.post(
        "/integrations/new/", {"name": "prom", "source": "alertmanager", "auth_kind": "none"}
    )
    assert response.status_code in (200, 302), response.content[:500]
    events = AuditEvent.objects.filter(organization=org.organization, action__startswith="config.")
    assert events.count() == 1
    event = events.get()
    assert (event.actor_email, event.action) == (admin.email, "config.alerts:integration_create")
    with schema_context(org.schema):
        from alerts.models import Integration

        integration = Integration.objects.get(name="prom")
    client.post(f"/integrations/{integration.pk}/rotate/")
    rotate = AuditEvent.objects.get(action="config.alerts:integration_rotate")
    assert rotate.target == f"pk={integration.pk}"
    assert not AuditEvent.objects.filter(
        organization=other_org.organization, action__startswith="config."
    ).exists()


def test_refused_and_read_only_requests_are_not_audited(org, client_for, make_member):
    viewer = make_member(org, Role.VIEWER)
    client = client_for(viewer, org)
    assert client.post("/integrations/new/", {"name": "x", "source": "alertmanager"}).status_code == 403
    client_for(org.owner, org).get("/integrations/")
    assert not AuditEvent.objects.filter(action__startswith="config.").exists()
