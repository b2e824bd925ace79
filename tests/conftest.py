"""Project-wide fixtures: two real organizations (schemas) that every tenant-data test uses.

Django imports stay inside fixtures so the Django-free suites (agent, source adapters) can also
run with `-p no:django`.
"""

from __future__ import annotations

import dataclasses

import pytest

PASSWORD = "correct horse battery staple"


@dataclasses.dataclass
class OrgFixture:
    organization: object
    domain: str
    owner: object  # User

    @property
    def schema(self) -> str:
        return self.organization.schema_name


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """Always create the test database.

    pytest-django sets up only the databases that collected tests declare with the `django_db`
    marker; a run of integration tests that use committed data (`committed`, no marker) would
    otherwise read and write the development database.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"default"},
            keepdb=django_db_keepdb and not django_db_createdb,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=request.config.option.verbose)


@pytest.fixture(scope="session")
def _orgs(django_db_setup, django_db_blocker):
    """Create (committed, once per session) the public host and two organizations with owners."""
    from django.db import connection

    from tenants.services import organization_setup, public_tenant_ensure

    name = connection.settings_dict["NAME"]
    if not name.startswith("test_"):
        pytest.exit(f"refusing to create test organizations in database {name!r}: it is not a test database")
    with django_db_blocker.unblock():
        public_tenant_ensure(domain="localhost")
        made = {}
        for slug, email in (("alpha", "owner@alpha.test"), ("beta", "owner@beta.test")):
            setup = organization_setup(
                name=slug.title(),
                slug=slug,
                domain=f"{slug}.localhost",
                owner_email=email,
                owner_password=PASSWORD,
            )
            made[slug] = OrgFixture(setup.organization, setup.domain.domain, setup.owner)
    return made


def _fresh(made: OrgFixture) -> OrgFixture:
    # Fresh rows per test: a test that changes the owner (password, name) must not leak its
    # in-memory object into the next test, whose database changes were rolled back.
    from tenants.models import Organization, User

    return OrgFixture(
        Organization.objects.get(pk=made.organization.pk), made.domain, User.objects.get(pk=made.owner.pk)
    )


@pytest.fixture
def org(_orgs, db) -> OrgFixture:
    return _fresh(_orgs["alpha"])


@pytest.fixture
def other_org(_orgs, db) -> OrgFixture:
    return _fresh(_orgs["beta"])


@pytest.fixture(autouse=True)
def _public_schema_after_test(request):
    """The tenant middleware leaves the connection in the last request's schema; reset it."""
    yield
    if "django_db_setup" in request.fixturenames or "db" in request.fixturenames:
        from django.db import connection

        connection.set_schema_to_public()


@pytest.fixture
def in_schema():
    """in_schema(org) -> context manager entering that organization's schema."""
    from django_tenants.utils import schema_context

    return lambda org_fixture: schema_context(org_fixture.schema)


@pytest.fixture
def make_member(db):
    """make_member(org, role) -> a new user with that role in that organization."""
    import itertools

    from tenants.models import User
    from tenants.services import membership_grant

    counter = itertools.count()

    def make(org_fixture: OrgFixture, role: str):
        user = User.objects.create_user(
            f"{role}{next(counter)}@{org_fixture.organization.slug}.test", PASSWORD
        )
        membership_grant(user=user, organization=org_fixture.organization, role=role)
        return user

    return make


@pytest.fixture
def client_for(db):
    """client_for(user, org) -> a Django test client signed in as `user`, addressed to org's host."""
    from django.test import Client

    def make(user, org_fixture: OrgFixture | None = None, host: str | None = None):
        client = Client(HTTP_HOST=host or org_fixture.domain)
        if user is not None:
            client.force_login(user)
        return client

    return make
