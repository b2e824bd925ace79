"""Who may enter which host: members in, non-members 403, anonymous to sign-in, unknown hosts 404."""

import pytest

from tenants.models import Organization
from tenants.roles import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_access_anonymous_is_sent_to_sign_in(org, client_for):
    response = client_for(None, org).get("/alerts/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/alerts/"


def test_access_member_sees_empty_alerts_page(org, client_for):
    response = client_for(org.owner, org).get("/alerts/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "No alerts yet" in body
    assert "Alpha" in body  # the organization switcher names where you are


def test_access_member_of_other_org_gets_403(org, other_org, client_for):
    response = client_for(org.owner, other_org).get("/alerts/")
    assert response.status_code == 403
    assert "You are not a member of Beta" in response.content.decode()


def test_access_every_tenant_page_refuses_non_member(org, other_org, client_for):
    client = client_for(org.owner, other_org)
    for path in (
        "/",
        "/alerts/",
        "/investigations/",
        "/rules/",
        "/clusters/",
        "/integrations/",
        "/settings/",
        "/settings/pipeline-check/",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post("/settings/pipeline-check/run/").status_code == 403


def test_access_unknown_host_gets_404(client_for):
    assert client_for(None, host="nobody.localhost").get("/").status_code == 404
    assert client_for(None, host="nobody.localhost").get("/accounts/login/").status_code == 404


def test_access_suspended_org_shows_clear_page(org, client_for):
    Organization.objects.filter(pk=org.organization.pk).update(is_active=False)
    response = client_for(org.owner, org).get("/alerts/")
    assert response.status_code == 403
    assert "is suspended" in response.content.decode()


def test_access_viewer_reads_but_cannot_start_check(org, client_for, make_member):
    viewer = make_member(org, Role.VIEWER)
    client = client_for(viewer, org)
    assert client.get("/settings/").status_code == 200
    assert "Run pipeline check" not in client.get("/settings/").content.decode()
    assert client.post("/settings/pipeline-check/run/").status_code == 403


def test_access_sign_in_with_email_and_password(org, client_for):
    client = client_for(None, org)
    response = client.post(
        "/accounts/login/", {"username": org.owner.email, "password": PASSWORD, "next": "/alerts/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/alerts/"
    assert client.get("/alerts/").status_code == 200


def test_access_wrong_password_says_so(org, client_for):
    response = client_for(None, org).post(
        "/accounts/login/", {"username": org.owner.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_access_sign_out_ends_session(org, client_for):
    client = client_for(org.owner, org)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/alerts/").status_code == 302


def test_access_password_change_signs_in_with_new_password(org, client_for):
    client = client_for(org.owner, org)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much newer secret 42",
            "new_password2": "a much newer secret 42",
        },
    )
    assert response.status_code == 302
    org.owner.refresh_from_db()
    assert org.owner.check_password("a much newer secret 42")
    assert client.get("/alerts/").status_code == 200  # this session stays signed in


def test_access_session_cookie_is_host_only(org, client_for):
    # Without a Domain attribute the browser sends alpha's session only to alpha's host.
    response = client_for(None, org).post(
        "/accounts/login/", {"username": org.owner.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["domain"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_public_host_lists_only_own_organizations(org, client_for):
    response = client_for(org.owner, host="localhost").get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "http://alpha.localhost:8000/" in body
    assert "beta.localhost" not in body


def test_public_host_admin_requires_superuser(org, client_for):
    response = client_for(org.owner, host="localhost").get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
