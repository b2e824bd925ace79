"""The audit log: sign-ins recorded, the filterable page, scoping to the organization, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants.audit import AuditEvent, audit_prune, audit_prune_everywhere, audit_record
from tenants.roles import Role
from tests.tenants.test_members import PASSWORD

pytestmark = pytest.mark.django_db


def _login(org, email, password, ip="203.0.113.7"):
    return Client(HTTP_HOST=org.domain, REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": email, "password": password}
    )


def test_audit_sign_in_recorded_with_ip_and_org(org):
    assert _login(org, org.owner.email, PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert (event.organization, event.actor, event.ip) == (org.organization, org.owner, "203.0.113.7")


def test_audit_failed_sign_in_recorded(org):
    assert _login(org, "Nobody@Example.com", "wrong password").status_code == 200
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert (event.organization, event.actor, event.actor_email) == (
        org.organization,
        None,
        "nobody@example.com",
    )


def test_audit_record_takes_org_actor_ip_from_request(org, client_for):
    from django.test import RequestFactory

    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.1")
    request.tenant, request.user = org.organization, org.owner
    event = audit_record(action="rule.created", request=request, target="rule 7", details={"name": "x"})
    assert (event.organization, event.actor_email, event.ip, event.details) == (
        org.organization,
        org.owner.email,
        "198.51.100.1",
        {"name": "x"},
    )


def _seed(org, other_org, make_member):
    admin = make_member(org, Role.ADMIN)
    old = audit_record(action="member.role_changed", organization=org.organization, actor=admin, target="a")
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    audit_record(action="invitation.created", organization=org.organization, actor=org.owner, target="b")
    audit_record(
        action="invitation.created",
        organization=other_org.organization,
        actor=other_org.owner,
        target="secret-beta",
    )
    return admin


def test_audit_page_lists_org_events_only(org, other_org, make_member, client_for):
    _seed(org, other_org, make_member)
    response = client_for(org.owner, org).get("/settings/audit/")
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    assert {e.action for e in events} >= {"member.role_changed", "invitation.created"}
    assert all(e.organization_id == org.organization.pk for e in events)
    assert "secret-beta" not in response.content.decode()


def test_audit_page_filters_actor_action_dates(org, other_org, make_member, client_for):
    admin = _seed(org, other_org, make_member)
    client = client_for(org.owner, org)

    by_actor = client.get("/settings/audit/", {"actor": admin.email}).context["page"].object_list
    assert [e.action for e in by_actor] == ["member.role_changed"]

    by_action = client.get("/settings/audit/", {"action": "invitation."}).context["page"].object_list
    assert [e.target for e in by_action] == ["b"]

    today = timezone.now().date()
    recent = (
        client.get("/settings/audit/", {"since": str(today - timedelta(days=1))}).context["page"].object_list
    )
    assert "member.role_changed" not in [e.action for e in recent]
    older = (
        client.get("/settings/audit/", {"until": str(today - timedelta(days=5))}).context["page"].object_list
    )
    assert [e.action for e in older] == ["member.role_changed"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_audit_page_refused_below_admin(org, make_member, client_for, role):
    assert client_for(make_member(org, role), org).get("/settings/audit/").status_code == 403


def test_audit_prune_keeps_recent(org, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = audit_record(action="auth.signed_in", organization=org.organization)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = audit_record(action="auth.signed_in", organization=org.organization)
    assert audit_prune_everywhere() == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert audit_prune(older_than_days=1) == 0
