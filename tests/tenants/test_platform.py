"""Platform admin: access, organizations with usage, create, suspend/reactivate (Acceptance 4), delete."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from agent.protocol import hello_message
from alerts.models import RawPayload, Signal
from clusters.models import Cluster
from investigations.models import Investigation
from tenants.audit import AuditEvent
from tenants.models import Membership, Organization, User
from tenants.org_settings import organization_suspend, quotas_update
from tenants.quotas import CLUSTERS, INVESTIGATIONS_PER_DAY, MEMBERS, QuotaExceeded, quota_check
from tenants.roles import Role
from tests.alerts import conftest as alerts_fixtures
from tests.clusters import conftest as gateway_fixtures
from tests.tenants.test_members import PASSWORD

# Fixtures of the webhook and gateway suites, reused here.
fixture_bytes = alerts_fixtures.fixture_bytes
make_hook, make_rule = alerts_fixtures.make_hook, alerts_fixtures.make_rule
agent_client, make_cluster = gateway_fixtures.agent_client, gateway_fixtures.make_cluster

pytestmark = pytest.mark.django_db

CRASHLOOP = fixture_bytes("alertmanager", "single_crashloop")
HELLO = hello_message(agent_version="0.1.0", kubernetes_version="v1.29.8", capabilities={"ops": ["get"]})


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("operator@platform.test", PASSWORD)


@pytest.fixture
def platform(operator):
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def _hello(agent_client, org, token):
    return agent_client(org, token).post(
        "/agent/v1/hello", data=json.dumps(HELLO), content_type="application/json"
    )


# --- access -----------------------------------------------------------------------------------


def test_platform_refuses_non_superusers(org, client_for):
    owner = Client(HTTP_HOST="localhost")
    owner.force_login(org.owner)
    assert owner.get("/platform/").status_code == 403
    assert owner.post(f"/platform/organizations/{org.organization.slug}/suspend/").status_code == 403
    assert Client(HTTP_HOST="localhost").get("/platform/")["Location"].startswith("/accounts/login/")
    assert Organization.objects.get(pk=org.organization.pk).is_active


def test_platform_not_on_organization_hosts(org, operator, client_for):
    assert client_for(operator, org).get("/platform/").status_code in (403, 404)


# --- list and create --------------------------------------------------------------------------


def test_platform_list_shows_usage(org, other_org, platform, make_hook, make_rule, make_cluster):
    make_rule(org)
    make_hook(org, "alertmanager").post(CRASHLOOP)
    make_cluster(org)
    response = platform.get("/platform/")
    assert response.status_code == 200
    items = {item["organization"].slug: item["usage"] for item in response.context["items"]}
    assert items["alpha"]["signals"] == 1 and items["alpha"]["clusters"] == 1
    assert items["alpha"]["members"] == 1 and items["alpha"]["investigations"] == 1
    assert items["beta"] == {"signals": 0, "investigations": 0, "clusters": 0, "members": 1, "model_cost": 0}


def test_platform_create_organization(platform):
    response = platform.post(
        "/platform/organizations/new/",
        {"name": "Gamma", "slug": "gamma", "owner_email": "boss@gamma.test", "owner_password": PASSWORD},
    )
    assert response.status_code == 302, response.content
    organization = Organization.objects.get(slug="gamma")
    assert organization.primary_domain == "gamma.localhost"
    assert _schema_exists("org_gamma")
    assert Membership.objects.get(organization=organization).role == Role.OWNER
    assert AuditEvent.objects.filter(action="organization.created", organization=organization).exists()


def test_platform_create_refuses_new_owner_without_password(platform):
    response = platform.post(
        "/platform/organizations/new/", {"name": "Delta", "slug": "delta", "owner_email": "d@x.test"}
    )
    assert response.status_code == 200
    assert "first password" in response.content.decode()
    assert not Organization.objects.filter(slug="delta").exists()


# --- suspension (Acceptance 4) ----------------------------------------------------------------


def test_suspend_stops_webhooks_agents_and_members_keeps_data(
    org, other_org, platform, make_hook, make_rule, make_cluster, agent_client, client_for
):
    # Given an organization with a webhook, a connected cluster and stored data
    make_rule(org)
    hook = make_hook(org, "alertmanager")
    assert hook.post(CRASHLOOP).status_code == 202
    _cluster, token = make_cluster(org)
    assert _hello(agent_client, org, token).status_code == 200
    beta_hook = make_hook(other_org, "alertmanager")

    # When the operator suspends it
    response = platform.post(
        f"/platform/organizations/{org.organization.slug}/suspend/", {"reason": "unpaid"}
    )
    assert response.status_code == 302

    # Then, from the next request: webhooks 404, agents refused, members see the suspended page
    assert hook.post(CRASHLOOP).status_code == 404
    assert _hello(agent_client, org, token).status_code == 404
    assert agent_client(org, token).get("/agent/v1/commands?wait=0").status_code == 404
    page = client_for(org.owner, org).get("/")
    assert page.status_code == 403 and "is suspended" in page.content.decode()
    # ... nothing deleted, and the other organization is untouched
    with schema_context(org.schema):
        assert (Signal.objects.count(), RawPayload.objects.count(), Cluster.objects.count()) == (1, 1, 1)
        assert Investigation.objects.count() == 1
    assert Membership.objects.filter(organization=org.organization).count() == 1
    assert beta_hook.post(CRASHLOOP).status_code == 202
    event = AuditEvent.objects.get(action="organization.suspended")
    assert (event.organization, event.details) == (org.organization, {"reason": "unpaid"})


def test_reactivate_restores_everything(org, platform, make_hook, make_cluster, agent_client, client_for):
    hook = make_hook(org, "alertmanager")
    assert hook.post(CRASHLOOP).status_code == 202
    _cluster, token = make_cluster(org)
    organization_suspend(organization=org.organization, actor=org.owner)
    assert hook.post(CRASHLOOP).status_code == 404

    response = platform.post(f"/platform/organizations/{org.organization.slug}/reactivate/")
    assert response.status_code == 302
    assert hook.post(fixture_bytes("alertmanager", "group_mixed")).status_code == 202
    assert _hello(agent_client, org, token).status_code == 200
    assert client_for(org.owner, org).get("/settings/").status_code == 200
    with schema_context(org.schema):
        assert Signal.objects.count() > 1  # the first signal is still there, new ones arrive
        assert RawPayload.objects.count() == 2
    assert AuditEvent.objects.filter(
        action="organization.reactivated", organization=org.organization
    ).exists()


def test_suspended_org_refuses_invitations_and_jobs(org, platform):
    from tenants.jobs import tenant_job

    organization_suspend(organization=org.organization, actor=org.owner)
    ran = []

    @tenant_job
    def job(schema_name):
        ran.append(schema_name)

    assert job(org.schema) is None and ran == []


# --- delete -----------------------------------------------------------------------------------


@pytest.fixture
def gamma(db):
    from tenants.services import organization_setup

    return organization_setup(
        name="Gamma",
        slug="gamma",
        domain="gamma.localhost",
        owner_email="boss@gamma.test",
        owner_password=PASSWORD,
    ).organization


def test_delete_refused_while_active(gamma, platform):
    response = platform.post("/platform/organizations/gamma/delete/", {"confirmation": "gamma"})
    assert response.status_code == 302
    assert Organization.objects.filter(slug="gamma").exists() and _schema_exists("org_gamma")


def test_delete_needs_typed_confirmation(gamma, platform, operator):
    organization_suspend(organization=gamma, actor=operator)
    assert platform.get("/platform/organizations/gamma/delete/").status_code == 200
    response = platform.post("/platform/organizations/gamma/delete/", {"confirmation": "gamm"})
    assert response.status_code == 400
    assert "type the organization" in response.content.decode()
    assert Organization.objects.filter(slug="gamma").exists() and _schema_exists("org_gamma")


def test_delete_after_suspension_drops_schema(gamma, platform, operator):
    owner = User.objects.get(email="boss@gamma.test")
    organization_suspend(organization=gamma, actor=operator)
    response = platform.post("/platform/organizations/gamma/delete/", {"confirmation": "gamma"})
    assert response.status_code == 302
    assert not Organization.objects.filter(slug="gamma").exists()
    assert not _schema_exists("org_gamma")
    assert not Membership.objects.filter(user=owner).exists()
    assert User.objects.filter(pk=owner.pk).exists()  # accounts stay
    event = AuditEvent.objects.get(action="organization.deleted")
    assert (event.target, event.actor, event.details["schema"]) == ("gamma", operator, "org_gamma")
    assert AuditEvent.objects.filter(action="organization.suspended", target="gamma").exists()  # trail kept


# --- quotas -----------------------------------------------------------------------------------


def test_quotas_set_by_platform(org, platform):
    response = platform.post(
        f"/platform/organizations/{org.organization.slug}/quotas/",
        {"max_investigations_per_day": "5", "max_clusters": "", "max_members": "3"},
    )
    assert response.status_code == 302
    from tenants.org_settings import settings_for

    row = settings_for(org.organization)
    assert (row.max_investigations_per_day, row.max_clusters, row.max_members) == (5, None, 3)
    assert AuditEvent.objects.filter(action="organization.quotas_changed").exists()
    page = platform.get(f"/platform/organizations/{org.organization.slug}/")
    assert page.status_code == 200
    assert page.context["quotas_form"]["max_members"].value() == 3


def test_platform_list_search(org, other_org, platform):
    items = platform.get("/platform/", {"q": "bet"}).context["items"]
    assert [item["organization"].slug for item in items] == ["beta"]


def test_quota_check_clusters(org, other_org, make_cluster):
    quotas_update(organization=org.organization, actor=org.owner, max_clusters=1)
    quota_check(org.organization, CLUSTERS)
    make_cluster(org)
    with pytest.raises(QuotaExceeded) as raised:
        quota_check(org.organization, CLUSTERS)
    assert "limit of 1 clusters" in raised.value.message
    quota_check(other_org.organization, CLUSTERS)  # other organizations are not limited


def test_quota_check_investigations_per_day(org, make_hook, make_rule):
    make_rule(org)
    quotas_update(organization=org.organization, actor=org.owner, max_investigations_per_day=1)
    quota_check(org.organization, INVESTIGATIONS_PER_DAY)
    make_hook(org, "alertmanager").post(CRASHLOOP)  # starts one investigation
    with pytest.raises(QuotaExceeded) as raised:
        quota_check(org.organization, INVESTIGATIONS_PER_DAY)
    assert "limit of 1 investigations today" in raised.value.message


def test_quota_check_members_unlimited_by_default(org, make_member):
    for _ in range(3):
        make_member(org, Role.VIEWER)
    quota_check(org.organization, MEMBERS)


def test_quota_check_here_inside_the_schema(org, other_org, make_cluster):
    from tenants.quotas import quota_check_here, quota_remaining

    quotas_update(organization=org.organization, actor=org.owner, max_clusters=2)
    make_cluster(org)
    assert quota_remaining(org.organization, CLUSTERS) == 1
    assert quota_remaining(other_org.organization, CLUSTERS) is None
    make_cluster(org, "second")
    with schema_context(org.schema), pytest.raises(QuotaExceeded):
        quota_check_here(CLUSTERS)
    with schema_context(other_org.schema):
        quota_check_here(CLUSTERS)
