"""`/api/v1/` reads of signals, investigations, clusters and integrations, and investigation starts.

Each operation calls the owning app's selectors and services. `ApiAuth(capability)` authenticates
and checks scope and role; the schemas validate and serialize; errors keep one shape (errors.py).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from alerts.selectors import SignalFilters, integration_get, integrations_list, signal_get, signals_filtered
from clusters import selectors as cluster_selectors
from investigations.investigation_views import NewInvestigationForm
from investigations.models import Investigation, InvestigationStatus
from investigations.services import investigation_rerun, investigation_start
from opsworker.api.auth import ApiAuth, audit
from opsworker.api.bodies import InvestigationStartIn
from opsworker.api.errors import ApiError, not_found
from opsworker.api.pagination import paginate
from opsworker.api.schemas import (
    ClusterOut,
    ErrorOut,
    Index,
    IntegrationOut,
    IntegrationQuery,
    InvestigationDetailOut,
    InvestigationOut,
    InvestigationQuery,
    PageQuery,
    SignalDetailOut,
    SignalOut,
    SignalQuery,
    page_of,
)
from tenants.roles import Capability

VIEW, INVESTIGATE = ApiAuth(Capability.VIEW), ApiAuth(Capability.INVESTIGATE)
NOT_FOUND = {404: ErrorOut}
router = Router()


def path_id(value: int) -> int:
    """Path ids are `{int:...}` already; refuse ones PostgreSQL cannot hold as 404, not 500."""
    if value > 2**63 - 1:
        raise not_found()
    return value


@router.get("/", auth=VIEW, response=Index, url_name="index")
def index(request: HttpRequest):
    """Where everything is."""
    base = request.build_absolute_uri("/api/v1/")
    names = ("signals", "investigations", "rules", "silences", "clusters", "integrations")
    return {
        "version": "v1",
        "openapi": base + "openapi.json",
        "resources": {name: base + f"{name}/" for name in names},
    }


# --- signals ---------------------------------------------------------------------------------------


@router.get("/signals/", auth=VIEW, response=page_of(SignalOut), url_name="signal_list")
def signal_list(request: HttpRequest, query: Query[SignalQuery]):
    """Signals, newest first; suppressed ones only with `suppressed=1`."""
    filters = SignalFilters(
        status=query.status or "",
        severity=query.severity or "",
        source=query.source or "",
        cluster=query.cluster,
        namespace=query.namespace,
        q=query.q,
        sort=query.sort,
        show_suppressed=query.suppressed in ("1", "true"),
    )
    signals = signals_filtered(filters)
    if query.since is not None:
        signals = signals.filter(last_received_at__gte=query.since)
    return paginate(request, signals, query)


@router.get(
    "/signals/{int:pk}/", auth=VIEW, response={200: SignalDetailOut, **NOT_FOUND}, url_name="signal_detail"
)
def signal_detail(request: HttpRequest, pk: int):
    return signal_get(path_id(pk))


# --- investigations --------------------------------------------------------------------------------


def _investigation_get(pk: int) -> Investigation:
    investigation = Investigation.objects.filter(pk=path_id(pk)).first()
    if investigation is None:
        raise not_found("no such investigation")
    return investigation


@router.get("/investigations/", auth=VIEW, response=page_of(InvestigationOut), url_name="investigation_list")
def investigation_list(request: HttpRequest, query: Query[InvestigationQuery]):
    """Investigations, newest first."""
    investigations = Investigation.objects.order_by("-created_at", "-pk")
    if query.status:
        investigations = investigations.filter(status=query.status)
    for value, column in (
        (query.cluster, "cluster"),
        (query.namespace, "namespace"),
        (query.category, "root_cause_category"),
    ):
        if value:
            investigations = investigations.filter(**{column: value})
    if query.since is not None:
        investigations = investigations.filter(created_at__gte=query.since)
    return paginate(request, investigations, query)


@router.post(
    "/investigations/",
    auth=INVESTIGATE,
    response={201: InvestigationDetailOut, 400: ErrorOut},
    url_name="investigation_start",
)
def investigation_start_view(request: HttpRequest, body: InvestigationStartIn):
    """Start an investigation of one resource, as the page's form does."""
    # The page's form holds the rules for a valid target (known cluster, Kubernetes names, kinds).
    values = body.model_dump()
    clusters = [cluster.name for cluster in cluster_selectors.clusters_list()]
    form = NewInvestigationForm(values, clusters=clusters)
    if not form.is_valid():
        errors = {name: " ".join(messages) for name, messages in form.errors.items()}
        summary = "; ".join(f"{name}: {message}" for name, message in errors.items())
        raise ApiError(400, "invalid", summary, {"fields": errors})
    with transaction.atomic():
        investigation = investigation_start(
            cluster=form.cleaned_data["cluster"],
            namespace=form.cleaned_data.get("namespace") or "",
            kind=form.cleaned_data["kind"],
            name=form.cleaned_data["name"],
            requested_by=request.auth.actor,
        )
        audit(request, "investigation.started", target=f"investigation #{investigation.pk}", details=values)
    return Status(201, investigation)


@router.get(
    "/investigations/{int:pk}/",
    auth=VIEW,
    response={200: InvestigationDetailOut, **NOT_FOUND},
    url_name="investigation_detail",
)
def investigation_detail(request: HttpRequest, pk: int):
    return _investigation_get(pk)


@router.post(
    "/investigations/{int:pk}/rerun/",
    auth=INVESTIGATE,
    response={201: InvestigationDetailOut, 404: ErrorOut, 409: ErrorOut},
    url_name="investigation_rerun",
)
def investigation_rerun_view(request: HttpRequest, pk: int):
    """Run a finished investigation again (409 while it is still pending or running)."""
    original = _investigation_get(pk)
    if original.status in (InvestigationStatus.PENDING, InvestigationStatus.RUNNING):
        raise ApiError(409, "conflict", "this investigation is still running; re-run it once it has finished")
    with transaction.atomic():
        investigation = investigation_rerun(investigation=original, requested_by=request.auth.actor)
        audit(request, "investigation.rerun", target=f"investigation #{original.pk}")
    return Status(201, investigation)


# --- clusters and integrations ---------------------------------------------------------------------


@router.get("/clusters/", auth=VIEW, response=page_of(ClusterOut), url_name="cluster_list")
def cluster_list(request: HttpRequest, query: Query[PageQuery]):
    request.api_now = timezone.now()
    return paginate(request, cluster_selectors.clusters_list(), query)


@router.get(
    "/clusters/{int:pk}/", auth=VIEW, response={200: ClusterOut, **NOT_FOUND}, url_name="cluster_detail"
)
def cluster_detail(request: HttpRequest, pk: int):
    request.api_now = timezone.now()
    return cluster_selectors.cluster_get(path_id(pk))


@router.get("/integrations/", auth=VIEW, response=page_of(IntegrationOut), url_name="integration_list")
def integration_list(request: HttpRequest, query: Query[IntegrationQuery]):
    integrations = integrations_list()
    if query.source:
        integrations = integrations.filter(source=query.source)
    return paginate(request, integrations, query)


@router.get(
    "/integrations/{int:pk}/",
    auth=VIEW,
    response={200: IntegrationOut, **NOT_FOUND},
    url_name="integration_detail",
)
def integration_detail(request: HttpRequest, pk: int):
    return integration_get(path_id(pk))
