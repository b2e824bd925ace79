"""Alert pages: the alerts list and detail, and the integrations (alert sources) pages (rules: rule_views)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alerts import selectors
from alerts.demo import demo_enabled, demo_scenarios
from alerts.forms import IntegrationCreateForm
from alerts.models import Integration, Severity, Signal, SignalStatus, Source
from alerts.services.integrations import (
    NewToken,
    integration_create,
    integration_delete,
    integration_rotate_token,
    integration_set_enabled,
    sns_subscription_retry,
)
from alerts.services.test_alerts import integration_send_test_alert
from alerts.setup_guides import DATADOG_TEMPLATE, setup_snippet, webhook_url
from alerts.sources.normalization import is_web_url
from tenants.permissions import require
from tenants.roles import Capability
from tenants.secret_reveal import secret_reveal, secret_stash

PER_PAGE = 50
RAW_FOLD_BYTES = 4096  # raw payloads longer than this start folded
RAW_VALUE_LIMIT = 2000  # longer single JSON strings are cut for display
RAW_DISPLAY_LIMIT = 200_000  # an unparsable body is cut here for display
DELIVERIES_SHOWN = 20
KUBERNETES_FIELDS = ("cluster", "namespace", "pod", "container", "workload", "node")
LINK_ORDER = ("generator", "runbook", "dashboard", "panel", "silence")
# Sortable columns of the alerts table (keys of selectors.SORTS without the leading "-").
SORT_KEYS = ("severity", "name", "namespace", "deliveries", "last", "first")


@require(Capability.VIEW)
def home(request):
    return redirect("alerts:list")


# --- alerts -----------------------------------------------------------------------------------


def _table_context(request: HttpRequest) -> dict[str, Any]:
    filters = selectors.SignalFilters.from_query(request.GET)
    page = selectors.signals_page(filters, request.GET.get("page"), per_page=PER_PAGE)
    sorts = {}
    for key in SORT_KEYS:
        # Clicking the current column reverses it; another column starts in its natural order.
        target = f"-{key}" if filters.sort == key else key
        direction = "first" if filters.sort == key else "reversed" if filters.sort == f"-{key}" else ""
        sorts[key] = {"query": urlencode(filters.as_query(sort=target)), "dir": direction}
    pages = {}
    if page.has_previous():
        pages["first"] = urlencode(filters.as_query())
        pages["previous"] = urlencode(filters.as_query(page=str(page.previous_page_number())))
    if page.has_next():
        pages["next"] = urlencode(filters.as_query(page=str(page.next_page_number())))
        pages["last"] = urlencode(filters.as_query(page=str(page.paginator.num_pages)))
    return {
        "filters": filters,
        "page": page,
        "sorts": sorts,
        "pages": pages,
        "any_signals": bool(page.object_list) or selectors.signals_exist(),
        "suppressed_toggle": urlencode(filters.as_query(suppressed="" if filters.show_suppressed else "1")),
        "current_query": urlencode(filters.as_query(page=str(page.number) if page.number > 1 else "")),
        # Live new rows (alerts.services.announce) only where prepending keeps the view correct.
        "live_rows": not filters.active
        and filters.sort == "last"
        and page.number == 1
        and not filters.show_suppressed,
    }


@require(Capability.VIEW)
@require_safe
def alert_list(request: HttpRequest) -> HttpResponse:
    context = _table_context(request)
    context.update(
        section="alerts",
        counts=selectors.signal_counts(),
        facets=selectors.signal_facets(),
        statuses=SignalStatus.choices,
        severities=[*Severity.choices, ("none", "None")],
        sources=Source.choices,
    )

    if demo_enabled(request.tenant):
        context["demo_scenarios"] = demo_scenarios()
    return render(request, "alerts/alert_list.html", context)


@require(Capability.VIEW)
@require_safe
def alert_table(request: HttpRequest) -> HttpResponse:
    """The alerts table alone, for htmx (filters, sorting and paging swap only the table)."""
    context = _table_context(request)
    response = render(request, "alerts/partials/_signal_table.html", context)
    # The address bar shows the page's URL, not this fragment's, so a reload or a shared link works.
    query = context["current_query"]
    response["HX-Push-Url"] = reverse("alerts:list") + (f"?{query}" if query else "")
    return response


@require(Capability.VIEW)
@require_safe
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    signal = selectors.signal_get(pk)
    context = {
        "section": "alerts",
        "signal": signal,
        "kubernetes": _kubernetes_rows(signal),
        "links": _link_rows(signal.links),
        "labels": sorted(signal.labels.items()),
        "annotations": sorted(signal.annotations.items()),
        "investigations": list(signal.investigations.all()),
        "raw": _raw_display(signal.first_payload.body) if signal.first_payload else None,
        "deliveries": selectors.signal_related_payloads(signal, limit=DELIVERIES_SHOWN),
        "deliveries_limit": DELIVERIES_SHOWN,
    }
    return render(request, "alerts/alert_detail.html", context)


def _kubernetes_rows(signal: Signal) -> list[dict[str, str]]:
    rows = []
    for field in KUBERNETES_FIELDS:
        value = getattr(signal, field)
        if field == "workload" and value and signal.workload_kind:
            value = f"{signal.workload_kind}/{value}"
        method = signal.extraction.get(field, "")
        if (
            not method
            and field == "cluster"
            and value
            and signal.integration
            and value == signal.integration.cluster_name
        ):
            method = "integration"
        rows.append({"field": field, "value": value, "method": method})
    return rows


def _link_rows(links: dict) -> list[dict[str, Any]]:
    """Links in a fixed order; only http(s) URLs become anchors (defence in depth: adapters drop the rest)."""
    names = [name for name in LINK_ORDER if name in links] + sorted(set(links) - set(LINK_ORDER))
    return [{"name": name, "url": str(links[name]), "web": is_web_url(str(links[name]))} for name in names]


def _cut_long_strings(value: Any, cut: list[int]) -> Any:
    if isinstance(value, str) and len(value) > RAW_VALUE_LIMIT:
        cut.append(len(value))
        return f"{value[:RAW_VALUE_LIMIT]}… [cut for display: {len(value)} characters]"
    if isinstance(value, dict):
        return {key: _cut_long_strings(item, cut) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut_long_strings(item, cut) for item in value]
    return value


def _raw_display(body: str) -> dict[str, Any]:
    """The raw body for display: pretty JSON when it parses, long values cut, folded when long."""
    cut: list[int] = []
    try:
        text = json.dumps(_cut_long_strings(json.loads(body), cut), indent=2, ensure_ascii=False)
        is_json = True
    except (ValueError, RecursionError):
        text, is_json = body, False
        if len(text) > RAW_DISPLAY_LIMIT:
            cut.append(len(text))
            text = f"{text[:RAW_DISPLAY_LIMIT]}… [cut for display]"
    return {
        "text": text,
        "is_json": is_json,
        "size": len(body.encode("utf-8", "replace")),
        "folded": len(text) > RAW_FOLD_BYTES,
        "cut": len(cut),
    }


# --- integrations -----------------------------------------------------------------------------


def _masked_url(request: HttpRequest, integration: Integration) -> str:
    return webhook_url(request.tenant, integration.source, f"{integration.token_hint}…").rstrip("/")


def _setup_context(integration: Integration, url: str) -> dict[str, Any]:
    return {
        "snippet": setup_snippet(integration, url),
        "datadog_keys": list(DATADOG_TEMPLATE.items()) if integration.source == Source.DATADOG else [],
    }


_REVEAL_KIND = "alerts.integration"


def _redirect_to_reveal(request: HttpRequest, made: NewToken, *, rotated: bool) -> HttpResponse:
    """Post/redirect/get: the new token waits in the session for one GET of the reveal page."""
    key = secret_stash(
        request,
        kind=_REVEAL_KIND,
        object_id=made.integration.pk,
        secret=made.token,
        extra={"rotated": rotated},
    )
    return redirect("alerts:integration_reveal", pk=made.integration.pk, key=key)


@require(Capability.CONFIGURE)
@require_safe
def integration_reveal(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The one page that shows the webhook URL, once (the token is never stored, only its digest)."""
    integration = selectors.integration_get(pk)
    reveal = secret_reveal(request, key=key, kind=_REVEAL_KIND, object_id=integration.pk)
    context = {
        "section": "integrations",
        "integration": integration,
        "rotated": bool(reveal.extra.get("rotated")),
        "shown_before": reveal.shown_before,
    }
    if not reveal.shown_before:
        url = webhook_url(request.tenant, integration.source, reveal.secret)
        context["url"] = url
        context.update(_setup_context(integration, url))
    return render(request, "alerts/integration_token.html", context)


@require(Capability.VIEW)
@require_safe
def integration_list(request: HttpRequest) -> HttpResponse:
    context = {"section": "integrations", "integrations": list(selectors.integrations_list())}
    return render(request, "alerts/integration_list.html", context)


@require(Capability.VIEW)
@require_safe
def integration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    integration = selectors.integration_get(pk)
    masked_url = _masked_url(request, integration)
    payloads = list(selectors.integration_recent_payloads(integration, limit=DELIVERIES_SHOWN))
    context = {
        "section": "integrations",
        "integration": integration,
        "masked_url": masked_url,
        "payloads": payloads,
        "payloads_limit": DELIVERIES_SHOWN,
        "rejected_payloads": [payload for payload in payloads if payload.rejected],
        # The integration was read through its selector; its subscriptions live in the same schema.
        "sns_subscriptions": list(integration.sns_subscriptions.all())
        if integration.source == Source.CLOUDWATCH
        else [],
    }
    context.update(_setup_context(integration, masked_url))
    return render(request, "alerts/integration_detail.html", context)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def integration_create_view(request: HttpRequest) -> HttpResponse:
    form = IntegrationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = integration_create(
                name=form.cleaned_data["name"],
                source=form.cleaned_data["source"],
                auth=form.auth_config(),
                cluster_name=form.cleaned_data["cluster_name"],
                allow_raw_delivery=form.cleaned_data["allow_raw_delivery"],
                created_by=request.user.email,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _redirect_to_reveal(request, made, rotated=False)
    status = 400 if form.is_bound else 200
    return render(
        request, "alerts/integration_create.html", {"section": "integrations", "form": form}, status=status
    )


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def integration_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    integration = selectors.integration_get(pk)
    if request.method == "POST":
        made = integration_rotate_token(integration=integration)
        return _redirect_to_reveal(request, made, rotated=True)
    context = {"section": "integrations", "integration": integration, "action": "rotate"}
    return render(request, "alerts/integration_confirm.html", context)


@require(Capability.CONFIGURE)
@require_POST
def integration_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    integration = selectors.integration_get(pk)
    enabled = request.POST.get("enabled") == "1"
    integration_set_enabled(integration=integration, enabled=enabled)
    state = "enabled: its URL accepts alerts again" if enabled else "disabled: its URL now answers 404"
    messages.success(request, f"{integration.name} is {state}.")
    return redirect("alerts:integration_detail", pk=integration.pk)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def integration_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    integration = selectors.integration_get(pk)
    if request.method == "POST":
        name = integration.name
        integration_delete(integration=integration)
        messages.success(request, f"Integration {name} deleted. Its alerts are kept.")
        return redirect("alerts:integrations")
    context = {"section": "integrations", "integration": integration, "action": "delete"}
    return render(request, "alerts/integration_confirm.html", context)


@require(Capability.CONFIGURE)
@require_POST
def integration_test(request: HttpRequest, pk: int) -> HttpResponse:
    integration = selectors.integration_get(pk)
    try:
        signal = integration_send_test_alert(integration=integration, sent_by=request.user.email)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return redirect("alerts:integration_detail", pk=integration.pk)
    messages.success(request, f"Test alert sent through {integration.name}: this is how it arrived.")
    return redirect("alerts:detail", pk=signal.pk)


@require(Capability.CONFIGURE)
@require_POST
def integration_sns_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm this integration's unconfirmed SNS subscriptions again (a job, with retries)."""
    integration = selectors.integration_get(pk)
    count = sns_subscription_retry(integration=integration)
    if count:
        messages.success(
            request, f"Confirming {count} SNS subscription(s) again; this page shows the outcome."
        )
    else:
        messages.info(
            request,
            "No SNS subscription has failed; those waiting for confirmation are retried automatically.",
        )
    return redirect("alerts:integration_detail", pk=integration.pk)
