"""`/api/v1/` rules, silences, rules as YAML and the organization's default action.

The same services as the rule editor and silence pages (`alerts.services.rules`), with the same
capabilities: reading needs `view`; silences `investigate` (as their pages); rules, their import and
the default action `configure`.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from alerts.models import Rule, Silence
from alerts.rules.loader import rule_settings
from alerts.services import rules as rule_services
from opsworker.api.auth import ApiAuth, audit
from opsworker.api.bodies import DefaultActionIn, RuleIn, RulePatch, RulesExportOut, RulesImportIn, SilenceIn
from opsworker.api.errors import not_found
from opsworker.api.pagination import paginate
from opsworker.api.schemas import (
    DefaultActionOut,
    ErrorOut,
    RuleOut,
    RuleQuery,
    RulesImportOut,
    SilenceOut,
    SilenceQuery,
    page_of,
)
from opsworker.api.views import path_id
from tenants.roles import Capability

VIEW, INVESTIGATE = ApiAuth(Capability.VIEW), ApiAuth(Capability.INVESTIGATE)
CONFIGURE = ApiAuth(Capability.CONFIGURE)
router = Router()


def _rule_get(pk: int) -> Rule:
    rule = Rule.objects.filter(pk=path_id(pk)).first()
    if rule is None:
        raise not_found("no such rule")
    return rule


# --- rules -----------------------------------------------------------------------------------------


@router.get("/rules/", auth=VIEW, response=page_of(RuleOut), url_name="rule_list")
def rule_list(request: HttpRequest, query: Query[RuleQuery]):
    """Rules in evaluation order: the first match decides."""
    rules = Rule.objects.order_by("position", "pk")
    if query.enabled:
        rules = rules.filter(enabled=query.enabled == "true")
    if query.action:
        rules = rules.filter(action=query.action)
    return paginate(request, rules, query)


@router.post("/rules/", auth=CONFIGURE, response={201: RuleOut, 400: ErrorOut}, url_name="rule_create")
def rule_create(request: HttpRequest, body: RuleIn):
    data = body.model_dump(exclude_unset=True)
    position = data.pop("position", None)
    author = request.auth.actor
    with transaction.atomic():
        rule = rule_services.rule_create(data=data, author=author)
        if position is not None:
            rule_services.rule_move(rule=rule, to_index=position - 1, author=author)
        audit(request, "rule.created", target=rule.name, details={"id": rule.pk})
    rule.refresh_from_db()
    return Status(201, rule)


@router.get("/rules/{int:pk}/", auth=VIEW, response={200: RuleOut, 404: ErrorOut}, url_name="rule_detail")
def rule_detail(request: HttpRequest, pk: int):
    return _rule_get(pk)


def _rule_change(request: HttpRequest, pk: int, sent: dict, *, partial: bool) -> Rule:
    rule = _rule_get(pk)
    author = request.auth.actor
    position = sent.pop("position", None)
    current = None
    if partial:
        current = rule_services.rule_snapshot(rule)
        current.pop("position", None)
    data = {**(current or {}), **sent}
    with transaction.atomic():
        if not partial or data != current:
            rule_services.rule_update(rule=rule, data=data, author=author)
        if position is not None:
            rule_services.rule_move(rule=rule, to_index=position - 1, author=author)
        audit(request, "rule.updated", target=rule.name, details={"id": rule.pk})
    rule.refresh_from_db()
    return rule


@router.put("/rules/{int:pk}/", auth=CONFIGURE, response={200: RuleOut, 400: ErrorOut, 404: ErrorOut})
def rule_replace(request: HttpRequest, pk: int, body: RuleIn):
    """Replace the rule; fields not sent take their defaults."""
    return _rule_change(request, pk, body.model_dump(exclude_unset=True), partial=False)


@router.patch("/rules/{int:pk}/", auth=CONFIGURE, response={200: RuleOut, 400: ErrorOut, 404: ErrorOut})
def rule_patch(request: HttpRequest, pk: int, body: RulePatch):
    """Change only the fields sent."""
    return _rule_change(request, pk, body.model_dump(exclude_unset=True), partial=True)


@router.delete("/rules/{int:pk}/", auth=CONFIGURE, response={204: None, 404: ErrorOut})
def rule_delete(request: HttpRequest, pk: int):
    rule = _rule_get(pk)
    with transaction.atomic():  # the audit record commits with the change
        rule_services.rule_delete(rule=rule, author=request.auth.actor)
        audit(request, "rule.deleted", target=rule.name, details={"id": pk})
    return Status(204, None)


# --- rules as code and the default action ----------------------------------------------------------


@router.get("/rules/export/", auth=VIEW, response=RulesExportOut, url_name="rules_export")
def rules_export(request: HttpRequest):
    """Every rule and the default action as the YAML file the rules page exports."""
    return {"yaml": rule_services.rules_export_yaml()}


@router.post(
    "/rules/import/", auth=CONFIGURE, response={200: RulesImportOut, 400: ErrorOut}, url_name="rules_import"
)
def rules_import(request: HttpRequest, body: RulesImportIn):
    """Replace every rule with the file's, or change nothing and list every problem (400)."""
    with transaction.atomic():
        result = rule_services.rules_import_yaml(text=body.yaml, author=request.auth.actor)
        audit(request, "rules.imported", details={"created": result.created, "removed": result.removed})
    return {"created": result.created, "removed": result.removed}


@router.get("/rules/default-action/", auth=VIEW, response=DefaultActionOut, url_name="default_action")
def default_action_get(request: HttpRequest):
    """What happens to a signal no rule or silence matches."""
    return {"default_action": rule_settings().default_action}


@router.put("/rules/default-action/", auth=CONFIGURE, response={200: DefaultActionOut, 400: ErrorOut})
def default_action_set(request: HttpRequest, body: DefaultActionIn):
    with transaction.atomic():
        rule_services.default_action_set(action=body.default_action, author=request.auth.actor)
        audit(request, "rules.default_action", details={"default_action": body.default_action})
    return {"default_action": rule_settings().default_action}


# --- silences --------------------------------------------------------------------------------------


def _silence_get(pk: int) -> Silence:
    silence = Silence.objects.filter(pk=path_id(pk)).first()
    if silence is None:
        raise not_found("no such silence")
    return silence


@router.get("/silences/", auth=VIEW, response=page_of(SilenceOut), url_name="silence_list")
def silence_list(request: HttpRequest, query: Query[SilenceQuery]):
    """Silences, latest start first; `active=true` for the ones in force now."""
    request.api_now = now = timezone.now()
    silences = Silence.objects.order_by("-starts_at", "-pk")
    live = Q(starts_at__lte=now, ends_at__gt=now, expired_early_at__isnull=True)
    if query.active == "true":
        silences = silences.filter(live)
    elif query.active == "false":
        silences = silences.exclude(live)
    return paginate(request, silences, query)


@router.post(
    "/silences/", auth=INVESTIGATE, response={201: SilenceOut, 400: ErrorOut}, url_name="silence_create"
)
def silence_create(request: HttpRequest, body: SilenceIn):
    """Suppress matching signals for a while; the comment says why, to everyone."""
    request.api_now = timezone.now()
    with transaction.atomic():
        silence = rule_services.silence_create(
            conditions=body.conditions,
            match_mode=body.match_mode,
            starts_at=body.starts_at or request.api_now,
            ends_at=body.ends_at,
            author=request.auth.actor,
            comment=body.comment,
        )
        audit(request, "silence.created", target=f"silence #{silence.pk}")
    return Status(201, silence)


@router.get(
    "/silences/{int:pk}/", auth=VIEW, response={200: SilenceOut, 404: ErrorOut}, url_name="silence_detail"
)
def silence_detail(request: HttpRequest, pk: int):
    request.api_now = timezone.now()
    return _silence_get(pk)


@router.post(
    "/silences/{int:pk}/expire/",
    auth=INVESTIGATE,
    response={200: SilenceOut, 404: ErrorOut},
    url_name="silence_expire",
)
def silence_expire(request: HttpRequest, pk: int):
    """End a silence now (no change if it has already ended)."""
    with transaction.atomic():
        silence = rule_services.silence_expire(silence=_silence_get(pk), author=request.auth.actor)
        audit(request, "silence.expired", target=f"silence #{silence.pk}")
    request.api_now = timezone.now()
    return silence
