"""Investigation pages: list, detail, start (from a signal or from scratch) and re-run."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from alerts.demo import demo_enabled, demo_scenarios, fire_sample_incident
from alerts.selectors import signal_get
from clusters.models import Cluster
from investigations.chat.views import chat_context
from investigations.engine.target import RESOURCE_NAME, TARGET_KINDS
from investigations.extensions import detail_sections
from investigations.feedback import (
    FeedbackRating,
    feedback_for,
    feedback_record,
    feedback_summary,
)
from investigations.models import Investigation, InvestigationStatus
from investigations.presentation import category_label, investigation_context
from investigations.services import investigation_rerun, investigation_start
from tenants.jobs import current_schema, enqueue_in_tenant
from tenants.permissions import can, require
from tenants.roles import Capability


class NewInvestigationForm(forms.Form):
    cluster = forms.ChoiceField(help_text="The cluster whose agent will read the evidence.")
    namespace = forms.RegexField(
        regex=RESOURCE_NAME, max_length=253, required=False, help_text="Leave empty only for a Node."
    )
    kind = forms.ChoiceField(choices=[(k, k) for k in TARGET_KINDS])
    name = forms.RegexField(
        regex=RESOURCE_NAME,
        max_length=253,
        error_messages={"invalid": "Use the resource's Kubernetes name (lower case, digits, - and .)."},
    )

    def __init__(self, *args, clusters: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].choices = [(c, c) for c in clusters]

    def clean(self):
        data = super().clean()
        if data.get("kind") != "Node" and not data.get("namespace"):
            raise ValidationError("A namespace is needed for every kind but Node.")
        return data


def _investigation_get(pk: int) -> Investigation:
    investigation = Investigation.objects.select_related("signal", "rerun_of").filter(pk=pk).first()
    if investigation is None:
        raise Http404("no such investigation")
    return investigation


@require(Capability.VIEW)
def investigation_list(request):
    investigations = Investigation.objects.select_related("signal").order_by("-created_at")
    status = request.GET.get("status", "")
    if status in InvestigationStatus.values:
        investigations = investigations.filter(status=status)
    else:
        status = ""
    category = request.GET.get("category", "")[:40]
    if category:
        investigations = investigations.filter(root_cause_category=category)
    query = request.GET.get("q", "")[:200]
    if query:
        investigations = investigations.filter(
            Q(summary__icontains=query)
            | Q(namespace__icontains=query)
            | Q(resource_name__icontains=query)
            | Q(signal__alertname__icontains=query)
        )
    page = Paginator(investigations, 50).get_page(request.GET.get("page"))
    categories = (
        Investigation.objects.exclude(root_cause_category="")
        .order_by("root_cause_category")
        .values_list("root_cause_category", flat=True)
        .distinct()
    )
    return render(
        request,
        "investigations/investigation_list.html",
        {
            "section": "investigations",
            "page": page,
            "status": status,
            "category": category,
            "q": query,
            "statuses": InvestigationStatus.choices,
            "categories": [(value, category_label(value)) for value in categories],
            "any_investigations": Investigation.objects.exists(),
            # New rows arriving live are only prepended where they belong for sure: the unfiltered
            # first page. Elsewhere the page shows a "refresh" notice instead.
            "live_prepend": not (status or category or query) and page.number == 1,
        },
    )


def _feedback_context(request, investigation: Investigation, **extra) -> dict:
    items = feedback_for(investigation)
    mine = next((item for item in items if item.user_id == request.user.pk), None)
    counts = feedback_summary(items)
    return {
        "investigation": investigation,
        "feedback_items": items,
        "feedback_tally": [(value, label, counts.get(value, 0)) for value, label in FeedbackRating.choices],
        "feedback_ratings": FeedbackRating.choices,
        "mine": mine,
        "can_give": can(request, Capability.INVESTIGATE),
        "form_rating": mine.rating if mine else "",
        "form_comment": mine.comment if mine else "",
        "errors": {},
        **extra,
    }


@require(Capability.VIEW)
def investigation_detail(request, pk: int):
    investigation = _investigation_get(pk)
    context = investigation_context(investigation)
    context.update(_feedback_context(request, investigation))

    context.update(
        {
            "section": "investigations",
            **chat_context(request, investigation),
            "chat_enabled": True,
            "extra_sections": detail_sections(investigation),
        }
    )
    return render(request, "investigations/investigation_detail.html", context)


@require_GET
@require(Capability.VIEW)
def investigation_live_state(request, pk: int):
    """The page's live sections as out-of-band fragments: what a (re)connecting socket receives."""
    investigation = _investigation_get(pk)
    return render(request, "investigations/partials/_live_state.html", investigation_context(investigation))


@require_GET
@require(Capability.VIEW)
def investigation_feedback(request, pk: int):
    investigation = _investigation_get(pk)
    return render(
        request, "investigations/partials/_feedback.html", _feedback_context(request, investigation)
    )


@require_POST
@require(Capability.INVESTIGATE)
def investigation_feedback_send(request, pk: int):
    investigation = _investigation_get(pk)
    rating = request.POST.get("rating", "")
    comment = request.POST.get("comment", "")
    try:
        feedback_record(investigation, request.user.pk, request.user.email, rating, comment, source="page")
    except ValidationError as error:
        errors = {field: " ".join(messages_) for field, messages_ in error.message_dict.items()}
        context = _feedback_context(request, investigation, errors=errors)
        context.update({"form_rating": rating, "form_comment": comment})
        return render(request, "investigations/partials/_feedback.html", context, status=400)
    if not request.headers.get("HX-Request"):
        messages.success(request, "Thanks: your feedback is saved.")
        return redirect(f"{investigation_detail_url(investigation)}#feedback")
    return render(
        request,
        "investigations/partials/_feedback.html",
        _feedback_context(request, investigation, saved=True),
    )


def investigation_detail_url(investigation: Investigation) -> str:
    from django.urls import reverse

    return reverse("investigations:detail", args=[investigation.pk])


@require(Capability.INVESTIGATE)
def investigation_new(request):
    clusters = list(Cluster.objects.order_by("name").values_list("name", flat=True))
    form = NewInvestigationForm(request.POST or None, clusters=clusters)
    if request.method == "POST" and form.is_valid():
        try:
            investigation = investigation_start(
                cluster=form.cleaned_data["cluster"],
                namespace=form.cleaned_data.get("namespace") or "",
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                requested_by=request.user.email,
            )
        except ValidationError as error:  # e.g. the organization's daily investigation quota
            form.add_error(None, error)
        else:
            messages.success(request, "Investigation started: the steps appear below as the agent answers.")
            return redirect("investigations:detail", pk=investigation.pk)
    return render(
        request,
        "investigations/investigation_new.html",
        {"section": "investigations", "form": form, "clusters": clusters},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@require(Capability.INVESTIGATE)
def investigation_from_signal(request, signal_id: int):
    signal = signal_get(signal_id)
    cluster = signal.cluster or (signal.integration.cluster_name if signal.integration_id else "")
    kind, name = (
        ("Pod", signal.pod)
        if signal.pod
        else (
            (signal.workload_kind or "Deployment", signal.workload)
            if signal.workload
            else ("Node", signal.node)
            if signal.node
            else ("", "")
        )
    )
    try:
        investigation = investigation_start(
            cluster=cluster,
            namespace=signal.namespace,
            kind=kind,
            name=name,
            signal=signal,
            requested_by=request.user.email,
        )
    except ValidationError as error:  # e.g. the organization's daily investigation quota
        messages.error(request, " ".join(error.messages))
        return redirect("alerts:detail", signal.pk)
    messages.success(request, "Investigation started from this alert.")
    return redirect("investigations:detail", pk=investigation.pk)


@require_POST
@require(Capability.INVESTIGATE)
def investigation_rerun_view(request, pk: int):
    original = _investigation_get(pk)
    if original.status in (InvestigationStatus.PENDING, InvestigationStatus.RUNNING):
        messages.error(request, "This investigation is still running; re-run it once it has finished.")
        return redirect("investigations:detail", pk=original.pk)
    investigation = investigation_rerun(investigation=original, requested_by=request.user.email)
    messages.success(request, f"Re-running investigation #{original.pk} as #{investigation.pk}.")
    return redirect("investigations:detail", pk=investigation.pk)


@require_POST
@require(Capability.INVESTIGATE)
def demo_fire(request):
    """Alerts page control of the demo organization: fire one of the bundled scenarios."""
    if not demo_enabled(request.tenant):
        raise Http404("the demo is not enabled here")
    slug = request.POST.get("scenario", "")
    if slug not in {row["slug"] for row in demo_scenarios()}:
        messages.error(request, "Pick one of the listed sample incidents.")
        return redirect("alerts:list")
    enqueue_in_tenant("default", fire_sample_incident, current_schema(), slug)
    messages.success(
        request,
        f"Sample incident “{slug}” fired: its alert arrives in a second, and the investigation follows.",
    )
    return redirect("alerts:list")
