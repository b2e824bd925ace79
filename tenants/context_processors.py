"""Template context every page needs: the current organization, the member's role, the switcher."""

from __future__ import annotations

from tenants.links import host_url, public_url
from tenants.roles import Capability, role_allows
from tenants.selectors import memberships_for_user


def organization(request) -> dict:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    context = {
        "current_org": tenant if tenant is not None and tenant.schema_name != "public" else None,
        "membership": membership,
        "perms_org": {capability.value: role_allows(role, capability) for capability in Capability},
        "public_url": public_url(),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Evaluated lazily by the template only when the switcher is drawn.
        context["switcher_orgs"] = lambda: [
            {
                "name": m.organization.name,
                "url": host_url(m.organization.primary_domain) if m.organization.primary_domain else "",
                "role": m.get_role_display(),
                "active": m.organization.is_active,
                "current": tenant is not None and m.organization_id == tenant.pk,
            }
            for m in memberships_for_user(user)
        ]
    return context
