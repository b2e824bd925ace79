"""Cluster pages: the list with live status, registration, token reveal and rotation, removal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from clusters import selectors as cluster_selectors
from clusters import services as cluster_services
from clusters.forms import ClusterCreateForm
from clusters.models import agent_heartbeat_seconds, agent_offline_after_seconds
from tenants.links import host_url
from tenants.permissions import require
from tenants.roles import Capability
from tenants.secret_reveal import secret_reveal, secret_stash


def _cluster_rows() -> list[dict]:
    now = timezone.now()
    return [{"cluster": c, "status": c.status_at(now)} for c in cluster_selectors.clusters_list()]


def _clusters_context() -> dict:
    return {
        "section": "clusters",
        "rows": _cluster_rows(),
        "offline_after": int(agent_offline_after_seconds()),
        "heartbeat_seconds": agent_heartbeat_seconds(),
    }


@require(Capability.VIEW)
@require_safe
def cluster_list(request: HttpRequest) -> HttpResponse:
    return render(request, "clusters/cluster_list.html", _clusters_context())


@require(Capability.VIEW)
@require_safe
def cluster_table(request: HttpRequest) -> HttpResponse:
    """The list's table alone (htmx refresh every few seconds: status is computed on read)."""
    return render(request, "clusters/partials/_cluster_table.html", _clusters_context())


@require(Capability.VIEW)
@require_safe
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = cluster_selectors.cluster_get(pk)
    context = {
        "section": "clusters",
        "cluster": cluster,
        "status": cluster.status,
        "commands": cluster_selectors.commands_recent(cluster),
        "limits": (cluster.capabilities or {}).get("limits") or {},
    }
    return render(request, "clusters/detail.html", context)


def _portal_url(request: HttpRequest) -> str:
    domain = request.tenant.primary_domain or request.get_host().split(":")[0]
    return host_url(domain)


_REVEAL_KIND = "clusters.cluster"


def _redirect_to_reveal(
    request: HttpRequest, made: cluster_services.NewClusterToken, *, rotated: bool
) -> HttpResponse:
    """Post/redirect/get: the new token waits in the session for one GET of the reveal page."""
    key = secret_stash(
        request, kind=_REVEAL_KIND, object_id=made.cluster.pk, secret=made.token, extra={"rotated": rotated}
    )
    return redirect("clusters:reveal", pk=made.cluster.pk, key=key)


@require(Capability.CONFIGURE)
@require_safe
def cluster_reveal(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The one page that shows a cluster token, once (only its digest is stored)."""
    cluster = cluster_selectors.cluster_get(pk)
    reveal = secret_reveal(request, key=key, kind=_REVEAL_KIND, object_id=cluster.pk)
    context = {
        "section": "clusters",
        "cluster": cluster,
        "token": reveal.secret,
        "shown_before": reveal.shown_before,
        "portal_url": _portal_url(request),
        "rotated": bool(reveal.extra.get("rotated")),
    }
    return render(request, "clusters/token.html", context)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def cluster_create_view(request: HttpRequest) -> HttpResponse:
    form = ClusterCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = cluster_services.cluster_create(
                name=form.cleaned_data["name"],
                transport=form.cleaned_data["transport"],
                sqs_command_queue_url=form.cleaned_data["sqs_command_queue_url"],
                sqs_result_queue_url=form.cleaned_data["sqs_result_queue_url"],
                sqs_region=form.cleaned_data["sqs_region"],
                created_by=request.user.email,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _redirect_to_reveal(request, made, rotated=False)
    status = 400 if form.is_bound else 200
    return render(request, "clusters/create.html", {"section": "clusters", "form": form}, status=status)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def cluster_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = cluster_selectors.cluster_get(pk)
    if request.method == "POST":
        made = cluster_services.cluster_rotate_token(cluster=cluster)
        return _redirect_to_reveal(request, made, rotated=True)
    context = {"section": "clusters", "cluster": cluster, "action": "rotate"}
    return render(request, "clusters/confirm.html", context)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def cluster_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = cluster_selectors.cluster_get(pk)
    if request.method == "POST":
        name = cluster.name
        cluster_services.cluster_delete(cluster=cluster)
        messages.success(request, f"Cluster {name} removed. Its agent is now refused (404).")
        return redirect("clusters:list")
    context = {"section": "clusters", "cluster": cluster, "action": "delete"}
    return render(request, "clusters/confirm.html", context)
