"""`/api/v1/` (namespace `api`): the django-ninja API of `routing.py`, one URL pattern per path.

django-ninja emits one pattern per operation, all of a path sharing one view that dispatches on
the method; the first of them answers every request, so the others are dropped here. Each kept
view records the capability every method needs (`api_capabilities`), read by the role-by-URL
permission matrix (tests/test_permission_matrix.py) as page views record theirs; a path with an
operation that is not guarded by `ApiAuth` gets none, and the matrix fails on it.
"""

from ninja import NinjaAPI
from ninja.utils import normalize_path, replace_path_param_notation

from opsworker.api.auth import ApiAuth
from opsworker.api.routing import api

CAPABILITY_ORDER = ["view", "investigate", "configure", "manage_members", "own"]


def _capabilities_by_route(api: NinjaAPI) -> dict[str, dict[str, str] | None]:
    found: dict[str, dict[str, str] | None] = {}
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            route = normalize_path(replace_path_param_notation(path)).lstrip("/")
            methods: dict[str, str] | None = {}
            for operation in path_view.operations:
                guards = [auth for auth in operation.auth_callbacks if isinstance(auth, ApiAuth)]
                if not guards or len(guards) != len(operation.auth_callbacks):
                    methods = None
                    break
                if getattr(operation.view_func, "closes_methods", False):
                    continue  # the 405 answer of a path, not an operation
                for method in operation.methods:
                    methods[method] = guards[0].capability
            found[route] = methods
    return found


def one_pattern_per_path(api: NinjaAPI) -> list:
    """The API's URL patterns, one per path, each view carrying `api_capabilities` if guarded."""
    patterns = api.urls[0]
    capabilities = _capabilities_by_route(api)
    seen, kept = set(), []
    for pattern in patterns:
        route = str(pattern.pattern)
        if route in seen:
            continue
        seen.add(route)
        methods = capabilities.get(route)
        if methods:
            pattern.callback.api_capabilities = methods
            pattern.callback.required_capability = min(methods.values(), key=CAPABILITY_ORDER.index)
        kept.append(pattern)
    return kept


app_name = "api"
urlpatterns = one_pattern_per_path(api)
