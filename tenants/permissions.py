"""The one permission mechanism for views and htmx partials (consumers use `role_allows` directly)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from tenants.roles import role_allows


def require(capability: str) -> Callable:
    """Decorate a tenant view: the signed-in member's role must grant `capability`, else 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None or not role_allows(membership.role, capability):
                raise PermissionDenied(f"your role does not allow: {capability}")
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability  # read by the role-by-URL matrix test
        return wrapper

    return decorator


def can(request: HttpRequest, capability: str) -> bool:
    """For templates and views deciding what to show; enforcement stays with `require`."""
    membership = getattr(request, "membership", None)
    return membership is not None and role_allows(membership.role, capability)
