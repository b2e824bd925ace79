"""Role-by-URL matrix: every URL pattern of both URL confs is classified and requested as every role.

1. Walk every pattern of the organization-host URL conf and the public-host URL conf (recursively).
2. Classify each view. An organization-host view must declare its capability with
   `@require(Capability.X)` (`required_capability`; API views also `api_capabilities` per method),
   or be on an explicit, justified allow-list of endpoints that authenticate themselves. Anything else
   fails `test_every_view_is_classified`: a new view without a permission check fails the suite.
3. Request each organization-host route as owner, admin, member, viewer, a non-member, anonymous and
   with another organization's valid API token, and assert what `tenants.roles` says:
   allowed → not 401/403 and no 5xx (2xx, 3xx, 400 for an empty form, 404 for a deleted sample object,
   405/409/415 for an empty body are all "let in"); not allowed → 403; non-member → 403; anonymous
   → sign-in redirect (pages) or 401 (API); another organization's token → sign-in redirect / 401.
   Pages are checked with GET, or with an empty POST when the view only answers POST. API routes are
   checked for every method they declare, with the session and with each role's bearer token.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tenants.roles import Capability, Role, role_allows

ROLES = (Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER)

# --- the allow-lists: views that authenticate themselves, each with the reason ----------------------

# Organization-host endpoints for machines, with their own credentials. Their paths must sit under
# one of the access middleware's OPEN_PREFIXES, and an anonymous request must get nothing.
MACHINE_ENDPOINTS = {
    "alerts.webhooks.webhook": "webhook URL token (SHA-256 lookup) plus optional basic/bearer/HMAC auth",
    "alerts.benchmark.baseline": "benchmark token; 404 unless the benchmark is enabled",
    "clusters.gateway.views.hello": "cluster agent bearer token (owc_…)",
    "clusters.gateway.views.heartbeat": "cluster agent bearer token (owc_…)",
    "clusters.gateway.views.commands": "cluster agent bearer token (owc_…)",
    "clusters.gateway.views.results": "cluster agent bearer token (owc_…)",
}
# Public-host endpoints for machines, with their own credentials.
PUBLIC_MACHINE_ENDPOINTS = {
    "notifications.interactivity.interactivity": (
        "Slack's request signature (signing secret) and a signed feedback value; the organization "
        "comes from the payload"
    ),
}
# Pages about the signed-in person rather than the organization's data, on both hosts.
ACCOUNT_PAGES = {
    "tenants.views.LoginView": "the sign-in page: open by design",
    "tenants.views.LogoutView": "ends the caller's own session",
    "tenants.views.PasswordChangeView": "the signed-in user's own password (login required)",
    "tenants.views.PasswordChangeDoneView": "confirmation of the above (login required)",
    "tenants.admin_views.invitation_accept": "signed, expiring, single-use invitation link",
    "tenants.admin_views.join": "self-join for allowed email domains; checks the signed-in user",
}
# Public-host pages that are not the platform admin.
PUBLIC_PAGES = {
    "tenants.views.your_organizations": "lists the signed-in user's own memberships (login required)",
}
# Static assets answered on both hosts without a session (their paths are OPEN_PREFIXES).
ASSETS = {
    "opsworker.favicon.favicon": "redirect to the static SVG icon; no data, no organization",
}
# Django's admin and django-rq's dashboard wrap every view in AdminSite.admin_view (is_staff).
# (Its `<object_id>/` RedirectViews only redirect to the staff-only change page.)
DJANGO_ADMIN_MODULES = (
    "django.contrib.admin",
    "django.contrib.auth.admin",
    "django_rq",
    "django.contrib.contenttypes",
    "django.views.generic.base",
)


@dataclasses.dataclass(frozen=True)
class Route:
    urlconf: str
    route: str  # "rules/<int:pk>/edit/"
    name: str
    callback: object
    is_regex: bool

    @property
    def dotted(self) -> str:
        target = getattr(self.callback, "view_class", self.callback)
        return f"{self.callback.__module__}.{target.__qualname__}"

    @property
    def id(self) -> str:
        return f"/{self.route}"


def _walk(patterns, prefix: str = "", namespace: str = "", regex: bool = False):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            yield from _walk(
                pattern.url_patterns,
                prefix + str(pattern.pattern),
                f"{namespace}:{ns}".strip(":") if ns else namespace,
                regex or not hasattr(pattern.pattern, "converters"),
            )
        elif isinstance(pattern, URLPattern):
            yield (
                prefix + str(pattern.pattern),
                f"{namespace}:{pattern.name}".strip(":") if pattern.name else "",
                pattern.callback,
                regex or not hasattr(pattern.pattern, "converters"),
            )


def routes_of(urlconf: str) -> list[Route]:
    return [Route(urlconf, r, n, cb, rx) for r, n, cb, rx in _walk(get_resolver(urlconf).url_patterns)]


TENANT_URLCONF = settings.ROOT_URLCONF
PUBLIC_URLCONF = settings.PUBLIC_SCHEMA_URLCONF
TENANT_ROUTES = routes_of(TENANT_URLCONF)
PUBLIC_ROUTES = routes_of(PUBLIC_URLCONF)


def classify(route: Route, *, public: bool) -> str:
    callback = route.callback
    if getattr(callback, "api_capabilities", None):
        return "api"
    if getattr(callback, "required_capability", None):
        return "tenant"
    if route.dotted in ACCOUNT_PAGES:
        return "account"
    if route.dotted in ASSETS:
        return "asset"
    if not public and route.dotted in MACHINE_ENDPOINTS:
        return "machine"
    if public and route.dotted in PUBLIC_MACHINE_ENDPOINTS:
        return "machine"
    if public and getattr(callback, "platform_admin", False):
        return "platform"
    if public and route.dotted in PUBLIC_PAGES:
        return "public"
    if public and route.route.startswith("admin/") and callback.__module__.startswith(DJANGO_ADMIN_MODULES):
        return "django-admin"
    return "UNCHECKED"


# --- classification ---------------------------------------------------------------------------------


def test_both_urlconfs_are_walked_and_include_the_api():
    names = {route.name for route in TENANT_ROUTES}
    assert {"alerts:list", "investigations:detail", "api:signal_list", "api_tokens:list"} <= names
    assert {
        "api:rule_detail",
        "api:investigation_rerun",
        "alerts:table",
        "investigations:live_state",
    } <= names
    assert any(route.route.startswith("admin/") for route in PUBLIC_ROUTES)


def test_every_view_is_classified():
    """A view with no `@require(...)` and no justified allow-list entry fails here, by name."""
    unchecked = [
        f"{route.urlconf}: /{route.route} → {route.dotted}"
        for routes, public in ((TENANT_ROUTES, False), (PUBLIC_ROUTES, True))
        for route in routes
        if classify(route, public=public) == "UNCHECKED"
    ]
    assert not unchecked, "views without a permission check:\n" + "\n".join(unchecked)


def test_every_api_operation_is_in_the_matrix():
    """Every path of the django-ninja API is walked, as "api", with every method it declares."""
    from opsworker.api.routing import openapi_spec

    api_routes = {route.route: route for route in _tenant_routes("api")}
    for path, item in openapi_spec()["paths"].items():
        route = api_routes["api/v1" + path.replace("{pk}", "<int:pk>")]
        assert {method.upper() for method in item} <= set(route.callback.api_capabilities), path


def test_an_unguarded_api_operation_is_unchecked():
    """A django-ninja operation without `ApiAuth` carries no capability, so the matrix refuses it."""
    from ninja import NinjaAPI, Router

    from opsworker.api.auth import ApiAuth
    from opsworker.api.urls import one_pattern_per_path

    router = Router()
    router.add_api_operation("/open/", ["GET"], lambda request: {}, auth=None)
    router.add_api_operation("/guarded/", ["GET"], lambda request: {}, auth=ApiAuth(Capability.VIEW))
    api = NinjaAPI(urls_namespace="matrix-probe", openapi_url=None, docs_url=None)
    api.add_router("", router)
    routes = {
        str(p.pattern): Route("probe", str(p.pattern), p.name, p.callback, False)
        for p in one_pattern_per_path(api)
    }
    assert classify(routes["open/"], public=False) == "UNCHECKED"
    assert classify(routes["guarded/"], public=False) == "api"


def test_allow_lists_have_no_stale_entries():
    present = {route.dotted for route in TENANT_ROUTES + PUBLIC_ROUTES}
    stale = {
        name
        for name in (*MACHINE_ENDPOINTS, *PUBLIC_MACHINE_ENDPOINTS, *PUBLIC_PAGES, *ASSETS)
        if name not in present
    }
    assert not stale, f"remove from the allow-list (no such view any more): {sorted(stale)}"


def test_machine_endpoints_bypass_the_membership_check_by_prefix():
    """Machine endpoints must be under OPEN_PREFIXES, or the middleware would demand a session."""
    from tenants import middleware

    for route in TENANT_ROUTES:
        if classify(route, public=False) in ("machine", "asset"):
            assert ("/" + route.route).startswith(middleware.OPEN_PREFIXES), route.id


def test_api_paths_are_left_to_the_api_to_authenticate():
    from tenants import middleware

    for route in TENANT_ROUTES:
        if classify(route, public=False) == "api":
            assert ("/" + route.route).startswith(middleware.OPEN_PREFIXES), route.id


# --- the world the requests run in ------------------------------------------------------------------


@dataclasses.dataclass
class World:
    org: object
    other_org: object
    users: dict[str, object]
    non_member: object
    ids: dict[str, int]
    tokens: dict[str, str]
    foreign_token: str


@pytest.fixture
def world(org, other_org, make_member, in_schema):
    from alerts.models import Signal, Silence
    from alerts.services.integrations import integration_create
    from alerts.services.rules import rule_create
    from clusters.services import cluster_create
    from investigations.models import Investigation
    from tenants.api_tokens import api_token_create
    from tenants.models import Membership

    users = {
        Role.OWNER: org.owner,
        Role.ADMIN: make_member(org, Role.ADMIN),
        Role.MEMBER: make_member(org, Role.MEMBER),
        Role.VIEWER: make_member(org, Role.VIEWER),
    }
    victim = make_member(org, Role.MEMBER)
    with in_schema(org):
        signal = Signal.objects.create(
            source="generic", fingerprint="f" * 64, status="firing", alertname="Matrix", namespace="shop"
        )
        ids = {
            "alerts": signal.pk,
            "investigations": Investigation.objects.create(status="completed", cluster="prod").pk,
            "rules": rule_create(data={"name": "Matrix", "action": "record"}, author="t@alpha.test").pk,
            "silences": Silence.objects.create(
                conditions=[{"field": "namespace", "operator": "equals", "value": "x"}],
                ends_at=timezone.now() + timedelta(hours=1),
                author="t@alpha.test",
                comment="matrix",
            ).pk,
            "clusters": cluster_create(name="prod", created_by="t@alpha.test").cluster.pk,
            "integrations": integration_create(name="Matrix", source="generic").integration.pk,
        }
    ids["members"] = Membership.objects.get(user=victim, organization=org.organization).pk
    ids["api-tokens"] = api_token_create(
        organization=org.organization, user=victim, name="victim", scope="read", created_by=victim.email
    )[0].pk
    tokens = {
        role: api_token_create(
            organization=org.organization, user=user, name=role, scope="write", created_by=user.email
        )[1]
        for role, user in users.items()
    }
    foreign = api_token_create(
        organization=other_org.organization,
        user=other_org.owner,
        name="beta",
        scope="write",
        created_by=other_org.owner.email,
    )[1]
    return World(org, other_org, users, other_org.owner, ids, tokens, foreign)


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers(django_db_setup):
    import contextlib

    from opsworker.api.auth import rate_limit_key_prefix
    from opsworker.redis_client import shared_redis

    with contextlib.suppress(Exception):
        client = shared_redis()
        for key in client.scan_iter(f"{rate_limit_key_prefix()}:*", count=1000):
            client.delete(key)


_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def sample_path(route: Route, world: World) -> str:
    """The route with sample values: real ids of this organization's objects where the path names
    a resource, else dummies (404 after the permission check is fine)."""
    segments = [s for s in route.route.split("/") if s and "<" not in s]
    resource = next((s for s in reversed(segments) if s in world.ids), None)
    if route.route.startswith("alerts/") and "<int:signal_id>" in route.route:
        resource = "alerts"

    def value(match: re.Match) -> str:
        converter = match.group(1) or "str"
        if converter == "int":
            return str(world.ids.get(resource, 999999))
        return "no-such-thing"

    return "/" + _PARAM.sub(value, route.route)


def _client(world: World, who: str, *, token: str | None = None) -> Client:
    headers = {"HTTP_HOST": world.org.domain}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client = Client(**headers)
    if who in world.users:
        client.force_login(world.users[who])
    elif who == "non-member":
        client.force_login(world.non_member)
    return client


def _request(client: Client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return client.generic(method, path, b"", content_type="application/json")


def _let_in(response) -> bool:
    return response.status_code not in (401, 403) and response.status_code < 500


def _assert_allowed(response, label):
    assert response.status_code < 500, f"{label}: {response.status_code}"
    assert _let_in(response), f"{label}: expected to be let in, got {response.status_code}"
    location = response.get("Location", "")
    assert not location.startswith("/accounts/login/"), f"{label}: sent to sign-in"


def _assert_refused(response, label):
    assert response.status_code == 403, f"{label}: expected 403, got {response.status_code}"


def _assert_sign_in(response, label, path):
    assert response.status_code == 302, f"{label}: expected sign-in redirect, got {response.status_code}"
    assert response["Location"].startswith("/accounts/login/?next="), f"{label}: {response['Location']}"


def _tenant_routes(kind: str) -> list[Route]:
    return [route for route in TENANT_ROUTES if classify(route, public=False) == kind]


# --- organization pages and partials ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", _tenant_routes("tenant"), ids=lambda r: r.id)
def test_page_matrix(route, world):
    capability = route.callback.required_capability
    path = sample_path(route, world)
    # Pages are checked with GET unless the view only answers POST (found out as the owner: GET is safe).
    method = "GET"
    probe = _client(world, Role.OWNER).get(path)
    if probe.status_code == 405:
        method = "POST"

    _assert_sign_in(_request(_client(world, "anonymous"), method, path), "anonymous", path)
    _assert_sign_in(
        _request(_client(world, "anonymous", token=world.foreign_token), method, path),
        "another organization's token",
        path,
    )
    _assert_refused(_request(_client(world, "non-member"), method, path), "non-member")
    for role in ROLES:  # lowest first: mutations by allowed roles come after every refusal
        response = _request(_client(world, role), method, path)
        label = f"{role} {method} {path} (needs {capability})"
        if role_allows(role, capability):
            _assert_allowed(response, label)
        else:
            _assert_refused(response, label)


# --- the API --------------------------------------------------------------------------------------


def _api_cases():
    return [(route, method) for route in _tenant_routes("api") for method in route.callback.api_capabilities]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method"), _api_cases(), ids=lambda x: x if isinstance(x, str) else x.id)
def test_api_matrix(route, method, world):
    capability = route.callback.api_capabilities[method]
    path = sample_path(route, world)
    if route.name == "api:unknown":
        path = "/api/v1/no/such/resource/"

    for label, client in (
        ("anonymous", _client(world, "anonymous")),
        ("another organization's token", _client(world, "anonymous", token=world.foreign_token)),
        ("garbage token", _client(world, "anonymous", token="owk_garbage")),
    ):
        response = _request(client, method, path)
        assert response.status_code == 401, f"{label} {method} {path}: {response.status_code}"
        assert response.json()["error"]["code"] in ("authentication_required", "invalid_token")
    response = _request(_client(world, "non-member"), method, path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_a_member"
    for role in ROLES:
        for via, client in (
            ("session", _client(world, role)),
            ("token", _client(world, "anonymous", token=world.tokens[role])),
        ):
            response = _request(client, method, path)
            label = f"{role} via {via} {method} {path} (needs {capability})"
            assert response["Content-Type"] == "application/json" or response.status_code == 204, label
            if role_allows(role, capability):
                _assert_allowed(response, label)
            else:
                _assert_refused(response, label)


# --- machine endpoints, account pages, the public host ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", _tenant_routes("machine"), ids=lambda r: r.id)
def test_machine_endpoints_give_nothing_without_their_credentials(route, world):
    path = sample_path(route, world)
    for method in ("GET", "POST"):
        for client in (_client(world, "anonymous"), _client(world, Role.OWNER)):
            response = _request(client, method, path)
            assert response.status_code in (400, 401, 403, 404, 405, 426), (
                method,
                path,
                response.status_code,
            )


@pytest.mark.django_db
@pytest.mark.parametrize("route", _tenant_routes("account"), ids=lambda r: r.id)
def test_account_pages_never_fail(route, world):
    path = sample_path(route, world)
    for who in ("anonymous", Role.VIEWER, "non-member"):
        response = _client(world, who).get(path)
        assert response.status_code < 500, (who, path, response.status_code)


def _public(kind: str) -> list[Route]:
    return [r for r in PUBLIC_ROUTES if classify(r, public=True) == kind and not r.is_regex]


def _public_path(route: Route) -> str:
    return "/" + _PARAM.sub(lambda m: "1" if m.group(1) == "int" else "no-such-org", route.route)


@pytest.mark.django_db
@pytest.mark.parametrize("route", _public("platform"), ids=lambda r: r.id)
def test_platform_admin_matrix(route, org, make_member):
    from tenants.models import User

    path = _public_path(route)
    anonymous = Client(HTTP_HOST="localhost")
    response = anonymous.get(path)
    method = "POST" if response.status_code == 405 else "GET"
    response = _request(anonymous, method, path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
    for user in (org.owner, make_member(org, Role.ADMIN)):  # organization roles grant nothing here
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        assert _request(client, method, path).status_code == 403, path
    superuser = User.objects.create_superuser("root@platform.test", "x")
    client = Client(HTTP_HOST="localhost")
    client.force_login(superuser)
    response = _request(client, method, path)
    assert response.status_code not in (401, 403) and response.status_code < 500, (path, response.status_code)


@pytest.mark.django_db
def test_django_admin_needs_staff(org):
    for path in ("/admin/", "/admin/tenants/organization/", "/admin/django_rq/dashboard/"):
        anonymous = Client(HTTP_HOST="localhost")
        assert anonymous.get(path).status_code == 302, path
        member = Client(HTTP_HOST="localhost")
        member.force_login(org.owner)  # an organization owner is not platform staff
        response = member.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path


@pytest.mark.django_db
@pytest.mark.parametrize("route", _public("machine"), ids=lambda r: r.id)
def test_public_machine_endpoints_give_nothing_without_their_credentials(route, org):
    path = _public_path(route)
    client = Client(HTTP_HOST="localhost")
    assert client.get(path).status_code in (401, 403, 404, 405), path
    for body, content_type in (
        (b"", "application/x-www-form-urlencoded"),
        (b"payload=%7B%7D", "application/x-www-form-urlencoded"),
    ):
        response = client.post(path, body, content_type=content_type)
        assert response.status_code in (400, 401, 403, 404, 405, 413), (path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("route", _public("public") + _public("account"), ids=lambda r: r.id)
def test_public_pages_never_fail(route, org):
    path = _public_path(route)
    assert Client(HTTP_HOST="localhost").get(path).status_code < 500


@pytest.mark.django_db
def test_public_host_serves_no_organization_data(org):
    """No tenant page or API route is reachable on the public host."""
    from django.urls import Resolver404, resolve

    for path in ("/api/v1/signals/", "/alerts/", "/settings/api-tokens/", "/rules/"):
        with pytest.raises(Resolver404):
            resolve(path, urlconf=PUBLIC_URLCONF)


def test_every_websocket_route_checks_membership_and_a_capability():
    """WebSocket routes are not Django URL patterns; each consumer must be a TenantConsumer, whose
    connect() checks membership and `required_capability` (tests/tenants/test_websocket.py)."""
    from opsworker.websocket_urls import websocket_urlpatterns
    from tenants.websocket import TenantConsumer

    assert websocket_urlpatterns
    for pattern in websocket_urlpatterns:
        consumer = pattern.callback.consumer_class
        assert issubclass(consumer, TenantConsumer), consumer
        assert consumer.required_capability in Capability.values, consumer
