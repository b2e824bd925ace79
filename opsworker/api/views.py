"""`/api/v1/` endpoints. Each calls the owning app's selectors and services; the pipeline in
`framework.endpoint` handles authentication, scopes, roles, CSRF and the error shape."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils import timezone

from alerts.models import Decision, Rule, SignalStatus, Source
from alerts.selectors import (
    SORTS,
    SignalFilters,
    integration_get,
    integrations_list,
    signal_get,
    signals_filtered,
)
from alerts.services import rules as rule_services
from investigations.gateway import selectors as cluster_selectors
from investigations.models import Investigation, InvestigationStatus
from investigations.services import investigation_rerun, investigation_start
from opsworker.api import serializers
from opsworker.api.framework import (
    ApiError,
    Fields,
    audit,
    endpoint,
    error_response,
    json_body,
    json_response,
    not_found,
    paginate,
    path_id,
    query_choice,
    query_datetime,
    query_string,
)
from tenants.roles import Capability

VIEW, INVESTIGATE, CONFIGURE = Capability.VIEW, Capability.INVESTIGATE, Capability.CONFIGURE
SEVERITY_FILTERS = ("critical", "warning", "info", "none")


@endpoint({"GET": VIEW})
def index(request):
    base = request.build_absolute_uri("/api/v1/")
    return json_response(
        {
            "version": "v1",
            "openapi": base + "openapi.json",
            "resources": {
                name: base + f"{name}/"
                for name in ("signals", "investigations", "rules", "clusters", "integrations")
            },
        }
    )


# --- signals ---------------------------------------------------------------------------------------


@endpoint({"GET": VIEW})
def signal_list(request):
    filters = SignalFilters(
        status=query_choice(request, "status", SignalStatus.values),
        severity=query_choice(request, "severity", SEVERITY_FILTERS),
        source=query_choice(request, "source", Source.values),
        cluster=query_string(request, "cluster"),
        namespace=query_string(request, "namespace"),
        q=query_string(request, "q", max_length=200),
        sort=query_choice(request, "sort", list(SORTS)) or "last",
        show_suppressed=query_choice(request, "suppressed", ("0", "1", "true", "false")) in ("1", "true"),
    )
    signals = signals_filtered(filters)
    since = query_datetime(request, "since")
    if since is not None:
        signals = signals.filter(last_received_at__gte=since)
    return json_response(paginate(request, signals, serializers.signal_summary))


@endpoint({"GET": VIEW})
def signal_detail(request, pk: int):
    return json_response(serializers.signal_detail(signal_get(path_id(pk))))


# --- investigations --------------------------------------------------------------------------------


def _investigation_get(pk: int) -> Investigation:
    investigation = Investigation.objects.filter(pk=path_id(pk)).first()
    if investigation is None:
        raise not_found("no such investigation")
    return investigation


@endpoint({"GET": VIEW, "POST": INVESTIGATE})
def investigation_collection(request):
    if request.method == "POST":
        return _investigation_start(request)
    investigations = Investigation.objects.order_by("-created_at", "-pk")
    status = query_choice(request, "status", InvestigationStatus.values)
    if status:
        investigations = investigations.filter(status=status)
    for name, column in (
        ("cluster", "cluster"),
        ("namespace", "namespace"),
        ("category", "root_cause_category"),
    ):
        value = query_string(request, name)
        if value:
            investigations = investigations.filter(**{column: value})
    since = query_datetime(request, "since")
    if since is not None:
        investigations = investigations.filter(created_at__gte=since)
    return json_response(paginate(request, investigations, serializers.investigation_summary))


def _investigation_start(request):
    # The page's form holds the rules for a valid target (known cluster, Kubernetes names, kinds).
    from investigations.investigation_views import NewInvestigationForm

    data = json_body(request)
    fields = Fields(data)
    fields.unknown({"cluster", "namespace", "kind", "name"})
    values = {
        "cluster": fields.string("cluster", required=True, max_length=100),
        "namespace": fields.string("namespace", max_length=253),
        "kind": fields.string("kind", required=True, max_length=40),
        "name": fields.string("name", required=True, max_length=253),
    }
    fields.raise_if_invalid()
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
            requested_by=request.api_caller.actor,
        )
        audit(request, "investigation.started", target=f"investigation #{investigation.pk}", details=values)
    return json_response(serializers.investigation_detail(investigation), status=201)


@endpoint({"GET": VIEW})
def investigation_detail(request, pk: int):
    return json_response(serializers.investigation_detail(_investigation_get(pk)))


@endpoint({"POST": INVESTIGATE})
def investigation_rerun_view(request, pk: int):
    original = _investigation_get(pk)
    if original.status in (InvestigationStatus.PENDING, InvestigationStatus.RUNNING):
        return error_response(
            409, "conflict", "this investigation is still running; re-run it once it has finished"
        )
    with transaction.atomic():
        investigation = investigation_rerun(investigation=original, requested_by=request.api_caller.actor)
        audit(request, "investigation.rerun", target=f"investigation #{original.pk}")
    return json_response(serializers.investigation_detail(investigation), status=201)


# --- rules -----------------------------------------------------------------------------------------


def _rule_get(pk: int) -> Rule:
    rule = Rule.objects.filter(pk=path_id(pk)).first()
    if rule is None:
        raise not_found("no such rule")
    return rule


def _rule_input(data: dict, *, partial: bool, current: dict | None = None) -> tuple[dict, int | None]:
    """Type-check the body, then let the rules service validate the meaning (its messages → 400)."""
    fields = Fields(data)
    fields.unknown((*rule_services.RULE_FIELDS, "position"))
    fields.string("name", required=not partial, max_length=120)
    fields.string("description", max_length=5000)
    fields.boolean("enabled")
    fields.choice("match_mode", ("all", "any"))
    fields.array_of_objects("conditions")
    fields.choice("action", Decision.values, required=not partial)
    fields.string("target_cluster")
    fields.integer("dedup_window_minutes", minimum=0, maximum=7 * 24 * 60)
    fields.integer("max_investigations_per_hour", minimum=0, maximum=100000, nullable=True)
    fields.string("notify_channel", max_length=200)
    position = fields.integer("position", minimum=1, maximum=100000)
    fields.raise_if_invalid()
    merged = dict(current or {})
    merged.update({name: data[name] for name in rule_services.RULE_FIELDS if name in data})
    return merged, position


@endpoint({"GET": VIEW, "POST": CONFIGURE})
def rule_collection(request):
    if request.method == "GET":
        rules = Rule.objects.order_by("position", "pk")
        enabled = query_choice(request, "enabled", ("true", "false"))
        if enabled:
            rules = rules.filter(enabled=enabled == "true")
        action = query_choice(request, "action", Decision.values)
        if action:
            rules = rules.filter(action=action)
        return json_response(paginate(request, rules, serializers.rule_data))
    data, position = _rule_input(json_body(request), partial=False)
    with transaction.atomic():
        rule = rule_services.rule_create(data=data, author=request.api_caller.actor)
        if position is not None:
            rule_services.rule_move(rule=rule, to_index=position - 1, author=request.api_caller.actor)
        audit(request, "rule.created", target=rule.name, details={"id": rule.pk})
    rule.refresh_from_db()
    return json_response(serializers.rule_data(rule), status=201)


@endpoint({"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE})
def rule_detail(request, pk: int):
    rule = _rule_get(pk)
    author = request.api_caller.actor
    if request.method == "GET":
        return json_response(serializers.rule_data(rule))
    if request.method == "DELETE":
        with transaction.atomic():  # the audit record commits with the change
            rule_services.rule_delete(rule=rule, author=author)
            audit(request, "rule.deleted", target=rule.name, details={"id": pk})
        return HttpResponse(status=204)
    partial = request.method == "PATCH"
    current = rule_services.rule_snapshot(rule) if partial else None
    if current:
        current.pop("position", None)
    data, position = _rule_input(json_body(request), partial=partial, current=current)
    with transaction.atomic():
        if not partial or data != current:
            rule_services.rule_update(rule=rule, data=data, author=author)
        if position is not None:
            rule_services.rule_move(rule=rule, to_index=position - 1, author=author)
        audit(request, "rule.updated", target=rule.name, details={"id": rule.pk})
    rule.refresh_from_db()
    return json_response(serializers.rule_data(rule))


# --- clusters and integrations ---------------------------------------------------------------------


@endpoint({"GET": VIEW})
def cluster_list(request):
    now = timezone.now()
    return json_response(
        paginate(request, cluster_selectors.clusters_list(), lambda c: serializers.cluster_data(c, now))
    )


@endpoint({"GET": VIEW})
def cluster_detail(request, pk: int):
    return json_response(serializers.cluster_data(cluster_selectors.cluster_get(path_id(pk)), timezone.now()))


@endpoint({"GET": VIEW})
def integration_list(request):
    integrations = integrations_list()
    source = query_choice(request, "source", Source.values)
    if source:
        integrations = integrations.filter(source=source)
    return json_response(paginate(request, integrations, serializers.integration_data))


@endpoint({"GET": VIEW})
def integration_detail(request, pk: int):
    return json_response(serializers.integration_data(integration_get(path_id(pk))))


# --- the description and unknown paths -------------------------------------------------------------


@endpoint({"GET": VIEW})
def openapi_document(request):
    from opsworker.api.openapi import openapi_spec

    return json_response(openapi_spec(server_url=request.build_absolute_uri("/api/v1")))


@endpoint({"GET": VIEW, "POST": VIEW, "PUT": VIEW, "PATCH": VIEW, "DELETE": VIEW})
def unknown(request, rest: str = ""):
    raise Http404(f"no API endpoint at {request.path}")
