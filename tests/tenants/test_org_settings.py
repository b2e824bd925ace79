"""Organization settings: name, time zone, retention, default rule action, self-join domains, quotas shown."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from alerts.rules.loader import rule_settings
from tenants.audit import AuditEvent
from tenants.models import Organization
from tenants.org_settings import quotas_update, retention_days, settings_for
from tenants.roles import Role

pytestmark = pytest.mark.django_db

URL = "/settings/organization/"
FORM = {
    "name": "Alpha Renamed",
    "time_zone": "Europe/Paris",
    "signal_retention_days": "90",
    "raw_payload_retention_days": "7",
    "investigation_retention_days": "",
    "default_action": "investigate",
    "allowed_email_domains": "Example.com, @corp.example.org",
}


def test_org_settings_page_shows_current_values(org, client_for):
    response = client_for(org.owner, org).get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert (form["name"].value(), form["time_zone"].value(), form["default_action"].value()) == (
        "Alpha",
        "UTC",
        "record",
    )


def test_org_settings_save_applies_everything(org, other_org, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    response = client_for(admin, org).post(URL, FORM)
    assert response.status_code == 302
    assert Organization.objects.get(pk=org.organization.pk).name == "Alpha Renamed"
    row = settings_for(org.organization)
    assert (row.time_zone, row.signal_retention_days, row.raw_payload_retention_days) == (
        "Europe/Paris",
        90,
        7,
    )
    assert row.investigation_retention_days is None
    assert row.allowed_email_domains == ["example.com", "corp.example.org"]
    with schema_context(org.schema):
        assert rule_settings().default_action == "investigate"
    # The other organization keeps its own
    with schema_context(other_org.schema):
        assert rule_settings().default_action == "record"
    assert settings_for(other_org.organization).time_zone == "UTC"
    event = AuditEvent.objects.get(action="organization.settings_changed")
    assert event.actor == admin and event.details["name"] == ["Alpha", "Alpha Renamed"]
    assert event.details["default_action"] == ["record", "investigate"]


def test_org_settings_invalid_time_zone_refused(org, client_for):
    response = client_for(org.owner, org).post(URL, dict(FORM, time_zone="Mars/Olympus"))
    assert response.status_code == 200
    assert "not a time zone" in response.content.decode()
    assert settings_for(org.organization).time_zone == "UTC"
    assert Organization.objects.get(pk=org.organization.pk).name == "Alpha"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("raw_payload_retention_days", "0"),
        ("signal_retention_days", "abc"),
        ("allowed_email_domains", "not a domain!"),
    ],
)
def test_org_settings_invalid_values_refused(org, client_for, field, value):
    response = client_for(org.owner, org).post(URL, dict(FORM, **{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not AuditEvent.objects.filter(action="organization.settings_changed").exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_org_settings_refused_below_admin(org, make_member, client_for, role):
    client = client_for(make_member(org, role), org)
    assert client.get(URL).status_code == 403
    assert client.post(URL, FORM).status_code == 403
    assert Organization.objects.get(pk=org.organization.pk).name == "Alpha"


def test_org_settings_quotas_shown_read_only(org, client_for):
    quotas_update(organization=org.organization, actor=org.owner, max_clusters=4)
    response = client_for(org.owner, org).get(URL)
    quotas = {q["what"]: q for q in response.context["quotas"]}
    assert (quotas["clusters"]["limit"], quotas["clusters"]["used"]) == (4, 0)
    assert quotas["members"]["limit"] is None and quotas["members"]["used"] == 1
    assert "max_clusters" not in response.context["form"].fields  # not editable here


def test_retention_days_reads_the_org_setting(org, other_org):
    assert retention_days(org.organization, "raw_payloads") is None
    row = settings_for(org.organization)
    row.raw_payload_retention_days = 3
    row.save()
    assert retention_days(org.organization, "raw_payloads") == 3
    assert retention_days(other_org.organization, "raw_payloads") is None


def test_raw_payload_retention_uses_the_org_setting(org, other_org):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import RawPayload
    from alerts.retention import raw_payloads_prune

    row = settings_for(org.organization)
    row.raw_payload_retention_days = 2  # the installation's default is 14
    row.save()
    for fixture in (org, other_org):
        with schema_context(fixture.schema):
            RawPayload.objects.create(
                source="generic",
                method="POST",
                body="x",
                size_bytes=1,
                received_at=timezone.now() - timedelta(days=3),
            )
    with schema_context(org.schema):
        assert raw_payloads_prune() == 1
    with schema_context(other_org.schema):
        assert raw_payloads_prune() == 0  # beta keeps the default
