"""Settings → API tokens: members create and revoke their own; admins also create organization
tokens (with a fixed role) and revoke anyone's. A new token's secret is shown once: the creating POST
redirects to a reveal page that shows it on its first GET only (`tenants.secret_reveal`)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from opsworker.api.auth import audit
from tenants.api_tokens import ORG_TOKEN_ROLES, ApiToken, Scope, api_token_create, api_token_revoke
from tenants.permissions import can, require
from tenants.roles import Capability
from tenants.secret_reveal import secret_reveal, secret_stash

_REVEAL_KIND = "tenants.api_token"
EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CI pipeline”.")
    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.READ)
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", required=False, label="Expires")
    kind = forms.ChoiceField(
        choices=[
            ("personal", "Personal (acts with your role)"),
            ("organization", "Organization (fixed role)"),
        ],
        initial="personal",
    )
    role = forms.ChoiceField(
        choices=[(role.value, role.label) for role in ORG_TOKEN_ROLES],
        required=False,
        help_text="Organization tokens only.",
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if "\x00" in name or not name:
            raise forms.ValidationError("Give the token a name.")
        return name


def _visible_tokens(request: HttpRequest):
    tokens = ApiToken.objects.filter(organization=request.tenant).select_related("user")
    if not can(request, Capability.CONFIGURE):
        tokens = tokens.filter(user=request.user)
    return tokens.order_by("revoked_at", "-created_at")


def _page(
    request: HttpRequest,
    form: ApiTokenForm,
    status: int = 200,
    created=None,
    secret: str = "",
    shown_before: bool = False,
):
    context = {
        "section": "settings",
        "form": form,
        "tokens": _visible_tokens(request),
        "may_manage_org_tokens": can(request, Capability.CONFIGURE),
        "created": created,
        "secret": secret,
        "shown_before": shown_before,
    }
    return render(request, "api/api_tokens.html", context, status=status)


@require(Capability.VIEW)
@require_safe
def api_token_list(request: HttpRequest) -> HttpResponse:
    return _page(request, ApiTokenForm())


@require(Capability.VIEW)
@require_POST
def api_token_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    organization_token = data["kind"] == "organization"
    if organization_token:
        if not can(request, Capability.CONFIGURE):
            raise PermissionDenied("only admins create organization tokens")
        if not data.get("role"):
            form.add_error("role", "Choose the role the token acts with.")
            return _page(request, form, status=400)
    token, secret = api_token_create(
        organization=request.tenant,
        user=None if organization_token else request.user,
        role=data["role"] if organization_token else "",
        name=data["name"],
        scope=data["scope"],
        created_by=request.user.email,
        expires_in_days=int(data["expires_in_days"]) if data.get("expires_in_days") else None,
    )
    audit(
        request,
        "api_token.created",
        target=token.prefix,
        details={"name": token.name, "scope": token.scope, "kind": data["kind"], "role": token.role},
    )
    # Post/redirect/get: the secret waits in the session for one GET of the reveal page.
    key = secret_stash(request, kind=_REVEAL_KIND, object_id=token.pk, secret=secret)
    return redirect("api_tokens:reveal", pk=token.pk, key=key)


def _visible_token(request: HttpRequest, pk: int) -> ApiToken:
    token = ApiToken.objects.filter(organization=request.tenant, pk=pk).first()
    if token is None:
        raise Http404("no such token")
    if token.user_id != request.user.pk and not can(request, Capability.CONFIGURE):
        # Only admins see (and revoke) other people's and organization tokens; to others they do not exist.
        raise Http404("no such token")
    return token


@require(Capability.VIEW)
@require_safe
def api_token_reveal(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The token list with the new token's secret, on the first GET after creating it only."""
    token = _visible_token(request, pk)
    reveal = secret_reveal(request, key=key, kind=_REVEAL_KIND, object_id=token.pk)
    page = _page(
        request, ApiTokenForm(), created=token, secret=reveal.secret, shown_before=reveal.shown_before
    )
    return page


@require(Capability.VIEW)
@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = _visible_token(request, pk)
    api_token_revoke(token=token, revoked_by=request.user.email)
    audit(request, "api_token.revoked", target=token.prefix, details={"name": token.name})
    return redirect("api_tokens:list")
