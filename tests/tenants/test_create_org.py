"""`manage.py create_org`: one step creates schema, domain and owner; a second run changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tenants.models import Domain, Membership, Organization, User

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Organization.objects.count(),
        Domain.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def _run(*args):
    out = io.StringIO()
    call_command("create_org", *args, stdout=out)
    return out.getvalue()


ARGS = (
    "--name",
    "Gamma Corp",
    "--slug",
    "gamma",
    "--domain",
    "gamma.localhost",
    "--owner-email",
    "Owner@Gamma.test",
    "--owner-password",
    "a long enough password",
)


def test_create_org_creates_schema_domain_and_owner(_orgs):
    output = _run(*ARGS)
    organization = Organization.objects.get(slug="gamma")
    assert organization.schema_name == "org_gamma"
    assert _schema_exists("org_gamma")
    assert Domain.objects.get(domain="gamma.localhost").tenant == organization
    membership = Membership.objects.get(organization=organization)
    assert (membership.user.email, membership.role) == ("owner@gamma.test", "owner")
    assert membership.user.check_password("a long enough password")
    assert "login: http://gamma.localhost:8000/accounts/login/" in output


def test_create_org_twice_changes_nothing(_orgs):
    _run(*ARGS)
    before = _counts()
    password_hash = User.objects.get(email="owner@gamma.test").password
    output = _run(*ARGS)
    assert _counts() == before
    assert User.objects.get(email="owner@gamma.test").password == password_hash
    assert "already exists; nothing changed" in output


def test_create_org_refuses_domain_of_another_org(_orgs):
    with pytest.raises(CommandError, match="already belongs to organization alpha"):
        _run("--name", "X", "--slug", "xray", "--domain", "alpha.localhost", "--owner-email", "x@x.test")
    assert not Organization.objects.filter(slug="xray").exists()


@pytest.mark.parametrize("slug", ["Bad_Slug", "a", "-dash", "public", "way-too-long-" + "x" * 40])
def test_create_org_rejects_bad_slug(_orgs, slug):
    with pytest.raises(CommandError):
        _run("--name", "X", "--slug", slug, "--domain", "x.localhost", "--owner-email", "x@x.test")
