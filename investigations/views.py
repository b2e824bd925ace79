"""Investigation-app pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from investigations.forms import ClusterCreateForm
from investigations.gateway import selectors as cluster_selectors
from investigations.gateway import services as cluster_services
from investigations.models import agent_heartbeat_seconds, agent_offline_after_seconds
from investigations.selectors import pipeline_checks_recent
from investigations.services import pipeline_check_start
from tenants.links import host_url
from tenants.permissions import require
from tenants.roles import Capability
from tenants.secret_reveal import secret_reveal, secret_stash


@require(Capability.VIEW)
def pipeline_check_panel(request):
    """The Settings page's pipeline-check card alone (htmx refresh)."""
    checks = pipeline_checks_recent()
    return render(
        request,
        "investigations/partials/_pipeline_check.html",
        {"check": checks[0] if checks else None},
    )


@require_POST
@require(Capability.INVESTIGATE)
def pipeline_check_create(request):
    check = pipeline_check_start(requested_by=request.user.email)
    if request.htmx:
        return render(request, "investigations/partials/_pipeline_check.html", {"check": check})
    messages.info(request, "Pipeline check started: results appear below as each worker reports.")
    return redirect("settings")


# --- clusters ---------------------------------------------------------------------------------


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
    return render(request, "investigations/cluster_list.html", _clusters_context())


@require(Capability.VIEW)
@require_safe
def cluster_table(request: HttpRequest) -> HttpResponse:
    """The list's table alone (htmx refresh every few seconds: status is computed on read)."""
    return render(request, "investigations/clusters/partials/_cluster_table.html", _clusters_context())


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
    return render(request, "investigations/clusters/detail.html", context)


def _portal_url(request: HttpRequest) -> str:
    domain = request.tenant.primary_domain or request.get_host().split(":")[0]
    return host_url(domain)


_REVEAL_KIND = "investigations.cluster"


def _redirect_to_reveal(
    request: HttpRequest, made: cluster_services.NewClusterToken, *, rotated: bool
) -> HttpResponse:
    """Post/redirect/get: the new token waits in the session for one GET of the reveal page."""
    key = secret_stash(
        request, kind=_REVEAL_KIND, object_id=made.cluster.pk, secret=made.token, extra={"rotated": rotated}
    )
    return redirect("investigations:cluster_reveal", pk=made.cluster.pk, key=key)


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
    return render(request, "investigations/clusters/token.html", context)


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
    return render(
        request, "investigations/clusters/create.html", {"section": "clusters", "form": form}, status=status
    )


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def cluster_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = cluster_selectors.cluster_get(pk)
    if request.method == "POST":
        made = cluster_services.cluster_rotate_token(cluster=cluster)
        return _redirect_to_reveal(request, made, rotated=True)
    context = {"section": "clusters", "cluster": cluster, "action": "rotate"}
    return render(request, "investigations/clusters/confirm.html", context)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def cluster_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = cluster_selectors.cluster_get(pk)
    if request.method == "POST":
        name = cluster.name
        cluster_services.cluster_delete(cluster=cluster)
        messages.success(request, f"Cluster {name} removed. Its agent is now refused (404).")
        return redirect("investigations:clusters")
    context = {"section": "clusters", "cluster": cluster, "action": "delete"}
    return render(request, "investigations/clusters/confirm.html", context)
