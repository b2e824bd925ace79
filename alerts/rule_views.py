"""Rule editor and silences pages: thin views over alerts.services.rules and alerts.rules.preview.

Reads are scoped by the tenant schema the middleware activated; the few reads without a selector
in alerts/selectors.py (rules, rule changes, silences) are the small `_…_get/_…_list` helpers here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alerts import selectors
from alerts.models import Decision, MatchMode, Rule, RuleChange, Silence, Source
from alerts.rule_forms import (
    FIELD_CHOICES,
    OPERATOR_CHOICES,
    ConditionRow,
    ConditionRows,
    DefaultActionForm,
    RuleForm,
    RuleImportForm,
    SilenceForm,
    new_row_id,
    rows_from_conditions,
    rows_from_post,
)
from alerts.rules.conditions import SEVERITY_RANK, parse_condition
from alerts.rules.engine import RuleSpec
from alerts.rules.history import describe_conditions, diff_snapshots
from alerts.rules.preview import (
    default_action,
    explain_signal,
    field_suggestions,
    preview_rule,
    rule_match_counts,
)
from alerts.services.rules import (
    default_action_set,
    rule_create,
    rule_delete,
    rule_duplicate,
    rule_move,
    rule_set_enabled,
    rule_update,
    rules_export_yaml,
    rules_import_yaml,
    silence_create,
    silence_expire,
)
from tenants.permissions import require
from tenants.roles import Capability

HISTORY_PER_PAGE = 25
TEST_SIGNALS_SHOWN = 25
EXPIRED_SILENCES_SHOWN = 100


# --- reads ------------------------------------------------------------------------------------


def _rule_get(pk: int) -> Rule:
    rule = Rule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("no such rule")
    return rule


def _silence_get(pk: int) -> Silence:
    silence = Silence.objects.filter(pk=pk).first()
    if silence is None:
        raise Http404("no such silence")
    return silence


def _earlier_rules_count(rule: Rule | None) -> int:
    """Enabled rules evaluated before `rule` (before a new rule: all of them)."""
    earlier = Rule.objects.filter(enabled=True)
    if rule is not None:
        earlier = earlier.exclude(pk=rule.pk).filter(position__lt=rule.position)
    return earlier.count()


def _rule_index(rule: Rule) -> int:
    """0-based place of `rule` in evaluation order."""
    return Rule.objects.filter(
        Q(position__lt=rule.position) | Q(position=rule.position, pk__lt=rule.pk)
    ).count()


# --- shared pieces ----------------------------------------------------------------------------

_STATIC_SUGGESTIONS = {
    "severity": list(SEVERITY_RANK),
    "status": ["firing", "resolved", "unknown"],
    "source": list(Source.values),
}


def _datalists() -> dict[str, Any]:
    """Value suggestions per field and key suggestions per prefix, from recent signals."""
    seen = field_suggestions()
    for field, values in _STATIC_SUGGESTIONS.items():
        seen[field] = list(dict.fromkeys([*seen.get(field, []), *values]))
    lists = [
        {"id": f"dl-v{index}", "field": field, "values": values}
        for index, (field, values) in enumerate(seen.items())
    ]
    keys = {
        prefix: sorted({field.split(":", 1)[1] for field in seen if field.startswith(f"{prefix}:")})
        for prefix in ("label", "annotation")
    }
    return {"value_lists": [item for item in lists if item["values"]], "key_lists": keys}


def _row_context() -> dict[str, Any]:
    return {"field_choices": FIELD_CHOICES, "operator_choices": OPERATOR_CHOICES}


def _author(request: HttpRequest) -> str:
    return request.user.email


# --- rules list -------------------------------------------------------------------------------


def _list_context() -> dict[str, Any]:
    rules = list(Rule.objects.order_by("position", "pk"))
    counts = rule_match_counts()
    rows = [
        {
            "rule": rule,
            "conditions": describe_conditions(rule.conditions),
            "day": counts.get(rule.pk, (0, 0))[0],
            "week": counts.get(rule.pk, (0, 0))[1],
        }
        for rule in rules
    ]
    action = default_action()
    return {
        "section": "rules",
        "rows": rows,
        "default_action": action,
        "default_action_label": Decision(action).label,
        "default_form": DefaultActionForm(initial={"action": action}),
    }


@require(Capability.VIEW)
@require_safe
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/rule_list.html", _list_context())


@require(Capability.CONFIGURE)
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_get(pk)
    enabled = request.POST.get("enabled") == "1"
    rule_set_enabled(rule=rule, enabled=enabled, author=_author(request))
    messages.success(request, f"Rule “{rule.name}” {'enabled' if enabled else 'disabled'}.")
    return redirect(reverse("alerts:rules") + f"#rule-{rule.pk}")


@require(Capability.CONFIGURE)
@require_POST
def rule_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_get(pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        messages.error(request, "Choose up or down.")
        return redirect("alerts:rules")
    index = _rule_index(rule)
    rule_move(rule=rule, to_index=index - 1 if direction == "up" else index + 1, author=_author(request))
    return redirect(reverse("alerts:rules") + f"#rule-{rule.pk}")


@require(Capability.CONFIGURE)
@require_POST
def rule_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    copy = rule_duplicate(rule=_rule_get(pk), author=_author(request))
    messages.success(request, f"Created “{copy.name}”, disabled until you review and enable it.")
    return redirect(reverse("alerts:rules") + f"#rule-{copy.pk}")


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_get(pk)
    if request.method == "POST":
        rule_delete(rule=rule, author=_author(request))
        messages.success(request, f"Rule “{rule.name}” deleted. Signals it decided keep its name.")
        return redirect("alerts:rules")
    return render(request, "alerts/rules/rule_confirm_delete.html", {"section": "rules", "rule": rule})


@require(Capability.CONFIGURE)
@require_POST
def default_action_view(request: HttpRequest) -> HttpResponse:
    form = DefaultActionForm(request.POST)
    if form.is_valid():
        default_action_set(action=form.cleaned_data["action"], author=_author(request))
        label = Decision(form.cleaned_data["action"]).label
        messages.success(request, f"Signals no rule matches are now: {label}.")
    else:
        messages.error(request, "Choose investigate, record or suppress.")
    return redirect("alerts:rules")


# --- create / edit ----------------------------------------------------------------------------


def _draft_preview(rows: ConditionRows, match_mode: str, rule: Rule | None) -> dict[str, Any]:
    """The preview panel's context for the conditions typed so far."""
    if not rows.valid:
        return {"preview": None, "preview_invalid": True}
    draft = RuleSpec(
        id=None,
        name="this rule",
        conditions=tuple(parse_condition(c) for c in rows.conditions),
        action="record",
        match_mode=match_mode if match_mode in MatchMode.values else MatchMode.ALL,
    )
    preview = preview_rule(
        draft,
        position=rule.position if rule else None,
        exclude_rule_id=rule.pk if rule else None,
    )
    return {
        "preview": preview,
        "preview_invalid": False,
        "taken_by_earlier": sorted(preview.taken_by_earlier.items(), key=lambda item: -item[1]),
        "catch_all": not rows.conditions,
    }


def _form_page(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = RuleForm(request.POST)
        rows = rows_from_post(request.POST, add_row="add_row" in request.POST)
        if "add_row" in request.POST:
            # Without JavaScript "Add condition" posts the form: re-show it with one more row, unsaved.
            form = RuleForm(initial={**request.POST.dict(), "enabled": "enabled" in request.POST})
        elif form.is_valid() and rows.valid:
            data = form.rule_data(rows.conditions)
            try:
                if rule is None:
                    saved = rule_create(data=data, author=_author(request))
                else:
                    saved = rule_update(rule=rule, data=data, author=_author(request))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Rule “{saved.name}” saved.")
                return redirect(reverse("alerts:rules") + f"#rule-{saved.pk}")
            status = 400
        else:
            status = 400
    elif rule is not None:
        form = RuleForm(initial={field: getattr(rule, field) for field in RuleForm.base_fields})
        rows = ConditionRows(rows_from_conditions(rule.conditions), rule.conditions)
    else:
        form = RuleForm()
        rows = ConditionRows([ConditionRow(new_row_id())], [])
    match_mode = request.POST.get("match_mode", rule.match_mode if rule else MatchMode.ALL)
    context = {
        "section": "rules",
        "rule": rule,
        "form": form,
        "rows": rows.rows,
        "row_errors": rows.errors,
        "earlier_rules": _earlier_rules_count(rule),
        **_row_context(),
        **_datalists(),
        **_draft_preview(rows, match_mode, rule),
    }
    return render(request, "alerts/rules/rule_form.html", context, status=status)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def rule_create_view(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def rule_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, _rule_get(pk))


@require(Capability.CONFIGURE)
@require_safe
def rule_condition_row(request: HttpRequest) -> HttpResponse:
    """htmx: one new, empty condition row for the rule form."""
    return render(
        request,
        "alerts/rules/partials/_condition_row.html",
        {"row": ConditionRow(new_row_id()), **_row_context()},
    )


@require(Capability.CONFIGURE)
@require_POST
def rule_preview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """htmx: the preview panel for the draft in the form, plus each row's error (out of band)."""
    rule = _rule_get(pk) if pk is not None else None
    rows = rows_from_post(request.POST, skip_blank=True)
    context = {
        "rows": rows.rows,
        "oob": True,
        **_draft_preview(rows, request.POST.get("match_mode", MatchMode.ALL), rule),
    }
    return render(request, "alerts/rules/partials/_preview_response.html", context)


# --- test against a signal, history, YAML -----------------------------------------------------


@require(Capability.VIEW)
@require_safe
def rule_test(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    filters = selectors.SignalFilters(q=query, show_suppressed=True)
    signals = list(selectors.signals_filtered(filters)[:TEST_SIGNALS_SHOWN])
    signal = evaluation = None
    chosen = request.GET.get("signal", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404("no such alert")
        signal = selectors.signal_get(int(chosen))
        evaluation = explain_signal(signal)
    context = {
        "section": "rules",
        "query": query,
        "signals": signals,
        "signal": signal,
        "evaluation": evaluation,
        "evaluation_label": Decision(evaluation.action).label if evaluation and evaluation.action else "",
    }
    return render(request, "alerts/rules/rule_test.html", context)


@require(Capability.VIEW)
@require_safe
def rule_history(request: HttpRequest) -> HttpResponse:
    page = Paginator(RuleChange.objects.order_by("-at", "-pk"), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    entries = [
        # A created rule's empty fields would read "— → —": show only what says something.
        {
            "change": change,
            "diff": [c for c in diff_snapshots(change.before, change.after) if c.before != c.after],
        }
        for change in page
    ]
    return render(
        request, "alerts/rules/rule_history.html", {"section": "rules", "page": page, "entries": entries}
    )


@require(Capability.VIEW)
@require_safe
def rules_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(rules_export_yaml(), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rules.yaml"'
    return response


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def rules_import(request: HttpRequest) -> HttpResponse:
    form = RuleImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = rules_import_yaml(text=form.cleaned_data["text"], author=_author(request))
        except ValidationError as error:
            problems = error.messages
        else:
            messages.success(
                request,
                f"Imported {result.created} rule{'s' if result.created != 1 else ''}; "
                f"{result.removed} previous rule{'s' if result.removed != 1 else ''} replaced.",
            )
            return redirect("alerts:rules")
    status = 400 if request.method == "POST" else 200
    context = {"section": "rules", "form": form, "problems": problems}
    return render(request, "alerts/rules/rule_import.html", context, status=status)


# --- silences ---------------------------------------------------------------------------------


def _silence_rows(silences) -> list[dict[str, Any]]:
    return [{"silence": s, "conditions": describe_conditions(s.conditions)} for s in silences]


@require(Capability.VIEW)
@require_safe
def silence_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    live = Q(ends_at__gt=now, expired_early_at__isnull=True)
    current = Silence.objects.filter(live).order_by("starts_at", "pk")
    expired = Silence.objects.exclude(live).order_by("-ends_at", "-pk")[:EXPIRED_SILENCES_SHOWN]
    context = {
        "section": "rules",
        "now": now,
        "current": _silence_rows(current),
        "expired": _silence_rows(expired),
        "expired_limit": EXPIRED_SILENCES_SHOWN,
    }
    return render(request, "alerts/silences/silence_list.html", context)


def _silence_rows_like(signal_id: str) -> list[ConditionRow]:
    """Rows matching alerts like the given signal (same alert name and namespace), else one empty row."""
    if not signal_id.isdigit():
        return [ConditionRow(new_row_id())]
    signal = selectors.signal_get(int(signal_id))
    rows = [ConditionRow(new_row_id(), "alertname", "", "equals", signal.alertname)]
    if signal.namespace:
        rows.append(ConditionRow(new_row_id(), "namespace", "", "equals", signal.namespace))
    return rows


@require(Capability.INVESTIGATE)
@require_http_methods(["GET", "POST"])
def silence_create_view(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = SilenceForm(request.POST)
        rows = rows_from_post(request.POST, add_row="add_row" in request.POST)
        if "add_row" not in request.POST:
            status = 400
            if form.is_valid() and rows.valid and "window" in form.cleaned_data:
                starts, ends = form.cleaned_data["window"]
                try:
                    silence = silence_create(
                        conditions=rows.conditions,
                        match_mode=form.cleaned_data["match_mode"],
                        starts_at=starts,
                        ends_at=ends,
                        author=_author(request),
                        comment=form.cleaned_data["comment"],
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(request, f"Silence #{silence.pk} created.")
                    return redirect("alerts:silences")
        else:
            form = SilenceForm(initial=request.POST.dict())
    else:
        form = SilenceForm()
        rows = ConditionRows(_silence_rows_like(request.GET.get("signal", "")), [])
    context = {"section": "rules", "form": form, "rows": rows.rows, **_row_context(), **_datalists()}
    return render(request, "alerts/silences/silence_form.html", context, status=status)


@require(Capability.INVESTIGATE)
@require_safe
def silence_condition_row(request: HttpRequest) -> HttpResponse:
    """htmx: one new, empty condition row for the silence form."""
    return render(
        request,
        "alerts/rules/partials/_condition_row.html",
        {"row": ConditionRow(new_row_id()), **_row_context()},
    )


@require(Capability.INVESTIGATE)
@require_POST
def silence_expire_view(request: HttpRequest, pk: int) -> HttpResponse:
    silence = silence_expire(silence=_silence_get(pk), author=_author(request))
    messages.success(
        request, f"Silence #{silence.pk} expired: matching signals are decided by the rules again."
    )
    return redirect("alerts:silences")
