"""Organization administration pages (organization host): members, invitations, audit log, settings.

Thin views: permission (`@require`) → form → one service → redirect with a message. Every lookup
is scoped to `request.tenant`, so an id of another organization is a 404.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants import invitations as invites
from tenants.admin_forms import (
    AcceptNewUserForm,
    AuditFilterForm,
    InvitationForm,
    OrganizationSettingsForm,
    RoleForm,
    TransferForm,
)
from tenants.audit import audit_actions_for, audit_events_for
from tenants.models import Membership, User
from tenants.org_settings import (
    SettingsChange,
    default_action_get,
    organization_settings_update,
    settings_for,
)
from tenants.permissions import require
from tenants.quotas import QuotaExceeded, quotas_for
from tenants.roles import Capability, Role, role_allows
from tenants.selectors import members_of

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _membership_in_tenant(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=pk, organization=request.tenant
    )


def _invitation_in_tenant(request: HttpRequest, pk: int) -> invites.Invitation:
    return get_object_or_404(
        invites.Invitation.objects.select_related("organization", "invited_by"),
        pk=pk,
        organization=request.tenant,
    )


# --- members ----------------------------------------------------------------------------------


@require(Capability.MANAGE_MEMBERS)
@require_GET
def members(request: HttpRequest) -> HttpResponse:
    """Members with role and last activity, pending invitations, and the invite form."""
    actor = request.membership
    is_owner = role_allows(actor.role, Capability.OWN)
    rows = [
        {
            "membership": m,
            "is_self": m.pk == actor.pk,
            "can_manage": is_owner or m.role != Role.OWNER,
        }
        for m in members_of(request.tenant)
    ]
    pending = (
        invites.Invitation.objects.pending().filter(organization=request.tenant).select_related("invited_by")
    )
    roles = Role.choices if is_owner else [c for c in Role.choices if c[0] != Role.OWNER]
    return render(
        request,
        "tenants/admin/members.html",
        {
            "section": "settings",
            "rows": rows,
            "pending": pending,
            "roles": roles,
            "is_owner": is_owner,
            "form": InvitationForm(),
            "quota": next(q for q in quotas_for(request.tenant) if q["what"] == "members"),
        },
    )


@require(Capability.MANAGE_MEMBERS)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership_in_tenant(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return redirect("orgadmin:members")
    try:
        changed = invites.membership_role_change(
            actor_membership=request.membership,
            membership=membership,
            role=form.cleaned_data["role"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        if changed:
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display().lower()}."
            )
    return redirect("orgadmin:members")


@require(Capability.MANAGE_MEMBERS)
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership_in_tenant(request, pk)
    email, is_self = membership.user.email, membership.pk == request.membership.pk
    try:
        invites.membership_remove(actor_membership=request.membership, membership=membership, request=request)
    except ValidationError as error:
        messages.error(request, _errors(error))
        return redirect("orgadmin:members")
    if is_self:
        logout(request)
        return redirect("login")
    messages.success(request, f"{email} was removed and signed out of {request.tenant.name}.")
    return redirect("orgadmin:members")


@require(Capability.OWN)
@require_POST
def ownership_transfer(request: HttpRequest) -> HttpResponse:
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the member who becomes owner.")
        return redirect("orgadmin:members")
    membership = _membership_in_tenant(request, form.cleaned_data["membership"])
    try:
        invites.ownership_transfer(
            actor_membership=request.membership, membership=membership, request=request
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, f"{membership.user.email} is now an owner; you are an admin.")
    return redirect("orgadmin:members")


# --- invitations ------------------------------------------------------------------------------


@require(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_create(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a valid email address and a role.")
        return redirect("orgadmin:members")
    try:
        invitation = invites.invitation_create(
            organization=request.tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
            actor_role=request.membership.role,
            request=request,
        )
    except QuotaExceeded as exceeded:
        messages.error(request, exceeded.message)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("orgadmin:members")


@require(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation_in_tenant(request, pk)
    try:
        invites.invitation_resend(invitation=invitation, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(
            request, f"A new link was sent to {invitation.email}; the previous one no longer works."
        )
    return redirect("orgadmin:members")


@require(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation_in_tenant(request, pk)
    try:
        invites.invitation_revoke(invitation=invitation, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, f"The invitation of {invitation.email} was revoked.")
    return redirect("orgadmin:members")


def _organization_host_only(request: HttpRequest):
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        raise Http404("invitations are opened on the organization's own address")
    return tenant


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone with the link (the path is outside the membership check): accept an invitation."""
    organization = _organization_host_only(request)
    try:
        invitation = invites.invitation_for_token(token, organization)
    except invites.InvitationInvalid as invalid:
        response = render(
            request,
            "tenants/admin/invitation_invalid.html",
            {"organization": organization, "message": invalid.message},
            status=invalid.status,
        )
        response._has_been_logged = True  # Django would log the path, which holds the token
        return response
    context = {"organization": organization, "invitation": invitation}
    user = request.user
    if user.is_authenticated:
        if request.method == "POST":
            try:
                invites.invitation_accept_existing(invitation=invitation, user=user, request=request)
            except (ValidationError, invites.InvitationInvalid) as error:
                text = error.message if isinstance(error, invites.InvitationInvalid) else _errors(error)
                messages.error(request, text)
                return redirect(request.path)
            messages.success(request, f"Welcome to {organization.name}.")
            return redirect("home")
        context["mismatch"] = user.email.lower() != invitation.email
        return render(request, "tenants/admin/invitation_accept_existing.html", context)
    if User.objects.filter(email=invitation.email).exists():
        return redirect_to_login(request.get_full_path())
    form = AcceptNewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new_user = invites.invitation_accept_new_user(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
                request=request,
            )
        except ValidationError as error:
            form.add_error("password1", error)
        except invites.InvitationInvalid as invalid:
            messages.error(request, invalid.message)
            return redirect("login")
        else:
            login(request, new_user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to {organization.name}.")
            return redirect("home")
    context["form"] = form
    return render(request, "tenants/admin/invitation_accept_new.html", context)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Self-join for signed-in people whose email domain the organization allows."""
    organization = _organization_host_only(request)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if Membership.objects.filter(user=request.user, organization=organization).exists():
        return redirect("home")
    allowed = invites.self_join_allowed(organization, request.user)
    if request.method == "POST" and allowed:
        try:
            invites.self_join(organization=organization, user=request.user, request=request)
        except QuotaExceeded as exceeded:
            messages.error(request, exceeded.message)
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, f"You joined {organization.name} as a member.")
            return redirect("home")
    return render(
        request,
        "tenants/admin/join.html",
        {"organization": organization, "allowed": allowed},
        status=200 if allowed else 403,
    )


# --- audit log --------------------------------------------------------------------------------


def _zone(organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(settings_for(organization).time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@require(Capability.MANAGE_MEMBERS)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The organization's audit events, filtered by actor, action and date range (organization's days)."""
    form = AuditFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        zone = _zone(request.tenant)
        data = form.cleaned_data
        filters = {"actor": data["actor"], "action": data["action"]}
        if data["since"]:
            filters["since"] = datetime.combine(data["since"], time.min, tzinfo=zone)
        if data["until"]:
            filters["until"] = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
    events = audit_events_for(request.tenant, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tenants/admin/audit_log.html",
        {
            "section": "settings",
            "form": form,
            "page": page,
            "actions": audit_actions_for(request.tenant),
            "query": query.urlencode(),
        },
    )


# --- organization settings --------------------------------------------------------------------


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def organization_settings(request: HttpRequest) -> HttpResponse:
    """Name, time zone, retention, default rule action, self-join domains; quotas shown read-only."""
    organization = request.tenant
    row = settings_for(organization)
    initial = {
        "name": organization.name,
        "time_zone": row.time_zone,
        "signal_retention_days": row.signal_retention_days,
        "raw_payload_retention_days": row.raw_payload_retention_days,
        "investigation_retention_days": row.investigation_retention_days,
        "default_action": default_action_get(organization),
        "allowed_email_domains": ", ".join(row.allowed_email_domains),
    }
    form = OrganizationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = organization_settings_update(
                organization=organization,
                change=SettingsChange(**form.cleaned_data),
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Settings saved." if changed else "Nothing changed.")
            return redirect(reverse("orgadmin:organization_settings"))
    return render(
        request,
        "tenants/admin/organization_settings.html",
        {"section": "settings", "form": form, "quotas": quotas_for(organization)},
    )
