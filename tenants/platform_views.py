"""Platform admin (public host, superusers): organizations with usage, create, quotas, suspend, delete."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.admin_forms import DeleteForm, OrganizationCreateForm, QuotasForm, SuspendForm
from tenants.audit import audit_record
from tenants.links import host_url
from tenants.models import Organization, User
from tenants.org_settings import (
    organization_delete,
    organization_reactivate,
    organization_suspend,
    quotas_update,
    settings_for,
)
from tenants.quotas import quotas_for, usage_for
from tenants.selectors import members_of
from tenants.services import organization_setup

PAGE_SIZE = 25


def superuser_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Public host only; anonymous → sign-in, signed in but not a superuser → 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.schema_name != "public":
            raise Http404("the platform admin is on the installation's public address")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_superuser:
            raise PermissionDenied("the platform admin is for the installation's operators")
        return view(request, *args, **kwargs)

    wrapper.platform_admin = True  # read by the role-by-URL matrix test
    return wrapper


def _organization(slug: str) -> Organization:
    return get_object_or_404(Organization.objects.exclude(schema_name="public"), slug=slug)


@superuser_required
@require_GET
def organizations(request: HttpRequest) -> HttpResponse:
    """Every organization with its usage (counted in its schema; one page at a time)."""
    query = request.GET.get("q", "").strip()
    rows = Organization.objects.exclude(schema_name="public").prefetch_related("domains").order_by("name")
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(slug__icontains=query))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {
            "organization": organization,
            "usage": usage_for(organization),
            "url": host_url(organization.primary_domain) if organization.primary_domain else "",
        }
        for organization in page.object_list
    ]
    return render(request, "tenants/platform/organizations.html", {"page": page, "items": items, "q": query})


@superuser_required
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["owner_password"] and not User.objects.filter(email=data["owner_email"].lower()).exists():
            form.add_error("owner_password", "The owner has no account yet: give them a first password.")
        elif Organization.objects.filter(slug=data["slug"]).exists():
            form.add_error("slug", "An organization with this slug exists.")
        else:
            try:
                if data["owner_password"]:
                    from django.contrib.auth.password_validation import validate_password

                    validate_password(data["owner_password"], User(email=data["owner_email"]))
                setup = organization_setup(
                    name=data["name"],
                    slug=data["slug"],
                    domain=data["domain"],
                    owner_email=data["owner_email"],
                    owner_password=data["owner_password"] or None,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                audit_record(
                    action="organization.created",
                    request=request,
                    organization=setup.organization,
                    target=setup.organization.slug,
                    details={"domain": setup.domain.domain, "owner": setup.owner.email},
                )
                messages.success(request, f"Created {setup.organization.name} at {setup.domain.domain}.")
                return redirect("platform:organization_detail", slug=setup.organization.slug)
    return render(request, "tenants/platform/organization_create.html", {"form": form})


@superuser_required
@require_GET
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(slug)
    row = settings_for(organization)
    quotas_form = QuotasForm(
        initial={
            "max_investigations_per_day": row.max_investigations_per_day,
            "max_clusters": row.max_clusters,
            "max_members": row.max_members,
        }
    )

    return render(
        request,
        "tenants/platform/organization_detail.html",
        {
            "organization": organization,
            "settings_row": row,
            "usage": usage_for(organization),
            "quotas": quotas_for(organization),
            "quotas_form": quotas_form,
            "suspend_form": SuspendForm(),
            "owners": [m for m in members_of(organization) if m.role == "owner"],
            "url": host_url(organization.primary_domain) if organization.primary_domain else "",
        },
    )


@superuser_required
@require_POST
def quotas(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(slug)
    form = QuotasForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Quotas are whole numbers (empty: unlimited).")
    else:
        changed = quotas_update(
            organization=organization, actor=request.user, request=request, **form.cleaned_data
        )
        messages.success(request, "Quotas saved." if changed else "Nothing changed.")
    return redirect("platform:organization_detail", slug=slug)


@superuser_required
@require_POST
def suspend(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(slug)
    form = SuspendForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    organization_suspend(organization=organization, actor=request.user, reason=reason, request=request)
    messages.success(
        request, f"{organization.name} is suspended: webhooks and agents are refused, members see a notice."
    )
    return redirect("platform:organization_detail", slug=slug)


@superuser_required
@require_POST
def reactivate(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(slug)
    organization_reactivate(organization=organization, actor=request.user, request=request)
    messages.success(request, f"{organization.name} is active again.")
    return redirect("platform:organization_detail", slug=slug)


@superuser_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    """Typed confirmation, suspended organizations only; drops the schema."""
    organization = _organization(slug)
    form = DeleteForm(request.POST or None)
    if organization.is_active:
        messages.error(
            request, "Suspend the organization first; only a suspended organization can be deleted."
        )
        return redirect("platform:organization_detail", slug=slug)
    if request.method == "POST" and form.is_valid():
        try:
            organization_delete(
                organization=organization,
                actor=request.user,
                confirmation=form.cleaned_data["confirmation"],
                request=request,
            )
        except ValidationError as error:
            form.add_error("confirmation", error)
        else:
            messages.success(request, f"{organization.name} and all its data were deleted.")
            return redirect("platform:organizations")
    return render(
        request,
        "tenants/platform/organization_delete.html",
        {"organization": organization, "form": form, "usage": usage_for(organization)},
        status=400 if request.method == "POST" else 200,
    )
