"""Notification pages: Slack connection, routing, digest settings (admins); deliveries, digest (all)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clusters.models import Cluster
from notifications import oauth, services, slack
from notifications.digest import digest_compute, digest_send, insights_url, slot_for
from notifications.forms import NotificationSettingsForm, RouteForm, TokenForm
from notifications.models import DeliveryStatus
from notifications.routing import settings_get
from notifications.selectors import deliveries_recent, route_get, routes_list
from tenants.jobs import current_schema
from tenants.links import host_url, public_url
from tenants.permissions import require
from tenants.roles import Capability


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _redirect_uri(request: HttpRequest) -> str:
    return host_url(request.get_host().split(":")[0]) + reverse("notify:oauth_callback")


def _settings_page(request, form=None, route_form=None, token_form=None, status=200) -> HttpResponse:
    notification_settings = settings_get()
    context = {
        "section": "settings",
        "connection": services.connection_get(),
        "form": form or NotificationSettingsForm(instance=notification_settings),
        "route_form": route_form or RouteForm(),
        "token_form": token_form or TokenForm(),
        "routes": routes_list(),
        "clusters": list(Cluster.objects.values_list("name", flat=True)),
        "oauth_configured": oauth.oauth_configured(),
        "redirect_uri": _redirect_uri(request),
        "interactivity_url": public_url() + "/slack/interactivity/",
        "recent_failures": deliveries_recent(limit=5, status=DeliveryStatus.FAILED),
    }
    return _no_store(render(request, "notifications/settings.html", context, status=status))


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, instance=settings_get())
        if form.is_valid():
            saved = form.save(commit=False)
            saved.updated_by = request.user.email
            saved.updated_at = timezone.now()
            saved.save()
            messages.success(request, "Notification settings saved.")
            return redirect("notify:settings")
        return _settings_page(request, form=form, status=400)
    return _settings_page(request)


@require(Capability.CONFIGURE)
@require_GET
def slack_install(request: HttpRequest) -> HttpResponse:
    if not oauth.oauth_configured():
        messages.error(
            request, "Add to Slack needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET; paste a bot token instead."
        )
        return redirect("notify:settings")
    state = oauth.state_make(schema=current_schema(), user_id=request.user.pk, session=request.session)
    return HttpResponseRedirect(oauth.authorize_redirect(state=state, redirect_uri=_redirect_uri(request)))


@require(Capability.CONFIGURE)
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        oauth.state_check(
            request.GET.get("state", ""),
            schema=current_schema(),
            user_id=request.user.pk,
            session=request.session,
        )
    except oauth.StateInvalid as error:
        messages.error(request, str(error))
        return _no_store(redirect("notify:settings"))
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(
            request, f"Slack did not authorize the installation ({request.GET.get('error', 'no code')})."
        )
        return _no_store(redirect("notify:settings"))
    try:
        connection = oauth.code_exchange(
            code=request.GET["code"], redirect_uri=_redirect_uri(request), installed_by=request.user.email
        )
    except slack.SlackFailure as failure:
        messages.error(request, f"Slack refused the installation: {failure}")
        return _no_store(redirect("notify:settings"))
    messages.success(
        request, f"Connected to the Slack workspace {connection.team_name or connection.team_id}."
    )
    return _no_store(redirect("notify:settings"))


@require(Capability.CONFIGURE)
@require_POST
def slack_token(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, token_form=form, status=400)
    try:
        connection = services.connection_from_pasted_token(
            token=form.cleaned_data["token"],
            installed_by=request.user.email,
            signing_secret=form.cleaned_data["signing_secret"],
        )
    except slack.SlackFailure as failure:
        form.add_error("token", f"Slack refused this token: {failure}")
        return _settings_page(request, token_form=form, status=400)
    messages.success(
        request, f"Connected to the Slack workspace {connection.team_name or connection.team_id}."
    )
    return redirect("notify:settings")


@require(Capability.CONFIGURE)
@require_POST
def slack_disconnect(request: HttpRequest) -> HttpResponse:
    services.connection_delete()
    messages.success(request, "Slack disconnected. The bot token was deleted.")
    return redirect("notify:settings")


@require(Capability.CONFIGURE)
@require_POST
def slack_test(request: HttpRequest) -> HttpResponse:
    delivery = services.test_message_send(
        schema=current_schema(), organization_name=request.tenant.name, requested_by=request.user.email
    )
    if delivery.status == DeliveryStatus.SENT:
        messages.success(request, f"Test message posted to {delivery.channel}.")
    else:
        messages.error(request, f"Test message failed: {delivery.last_error}")
    return redirect("notify:settings")


@require(Capability.CONFIGURE)
@require_POST
def route_add(request: HttpRequest) -> HttpResponse:
    form = RouteForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, route_form=form, status=400)
    route = form.save(commit=False)
    route.created_by = request.user.email
    route.save()
    messages.success(request, f"Investigations on {route.cluster_name} now go to {route.channel}.")
    return redirect("notify:settings")


@require(Capability.CONFIGURE)
@require_POST
def route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    route = route_get(pk)
    if route is None:
        raise Http404("no such route")
    route.delete()
    messages.success(request, f"Override for {route.cluster_name} removed.")
    return redirect("notify:settings")


@require(Capability.VIEW)
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    context = {
        "section": "settings",
        "deliveries": deliveries_recent(limit=200, status=status),
        "status": status,
        "statuses": DeliveryStatus.choices,
    }
    return render(request, "notifications/deliveries.html", context)


@require(Capability.VIEW)
@require_GET
def digest_preview(request: HttpRequest) -> HttpResponse:
    notification_settings = settings_get()
    now = timezone.now()
    _today, slot = slot_for(notification_settings, now)
    context = {
        "section": "settings",
        "digest": digest_compute(end=now, insights_url=insights_url(current_schema())),
        "settings": notification_settings,
        "next_slot": slot,
        "connection": services.connection_get(),
    }
    return render(request, "notifications/digest.html", context)


@require(Capability.CONFIGURE)
@require_POST
def digest_send_now(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today, _slot = slot_for(settings_get(), now)
    delivery = digest_send(schema=current_schema(), end=now, digest_date=today, manual=True)
    if delivery.status == DeliveryStatus.SENT:
        messages.success(request, f"Digest posted to {delivery.channel}.")
    else:
        messages.error(request, f"Digest not sent: {delivery.last_error}")
    return redirect("notify:digest")
