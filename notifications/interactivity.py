"""Slack's interactivity endpoint (public host): feedback button clicks.

Slack calls one URL for the whole app, so it lives on the public host. The request is first proven
to come from Slack (signature, 5-minute window). The organization is then found from the button's
value, which we signed when posting (schema, investigation id, rating), and confirmed against the
payload's `team.id`: the organization named must have that Slack workspace connected, and the
investigation must exist in it; anything else is refused without saying which part failed. Feedback
is recorded inline (one upsert) so Slack gets its 200 well within 3 seconds; refreshing the message
is a job.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from investigations.feedback import FeedbackSource, feedback_record
from investigations.models import Investigation, InvestigationStatus
from notifications import signatures
from notifications.messages import ACTION_PREFIX, FEEDBACK_ACTIONS, feedback_value_read
from notifications.models import SlackConnection
from notifications.services import enqueue_after_commit
from tenants.models import Organization
from tenants.secret_box import SecretUnreadable, decrypt

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def slack_user_key(team_id: str, user_id: str) -> int:
    """A stable negative id for a Slack user (portal user ids are positive), one rating per person."""
    digest = hashlib.sha256(f"{team_id}:{user_id}".encode()).digest()
    return -(int.from_bytes(digest[:7], "big") + 1)


def _refuse(status: int, reason: str) -> HttpResponse:
    logger.warning("notify.slack.interactivity_refused", extra={"status": status, "reason": reason})
    return HttpResponse(status=status)


@csrf_exempt
@require_POST
def interactivity(request: HttpRequest) -> HttpResponse:
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, "too large")
    payload = _payload(request)
    action = _feedback_action(payload)
    claim = feedback_value_read(str(action.get("value") or "")) if action else None
    try:
        _verify(request, body, claim)
    except signatures.BadSignature as error:
        return _refuse(401, str(error))
    if payload is None:
        return _refuse(400, "payload is not JSON")
    if action is None:
        return HttpResponse(status=200)  # other interactions: nothing to do
    team_id = str((payload.get("team") or {}).get("id") or "")
    user = payload.get("user") or {}
    if claim is None or not team_id or not user.get("id"):
        return _refuse(404, "unsigned or incomplete action")
    return _record(claim, team_id, user)


def _payload(request: HttpRequest) -> dict | None:
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _feedback_action(payload: dict | None) -> dict | None:
    if not payload or payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or []
    return next((a for a in actions if str(a.get("action_id", "")).startswith(ACTION_PREFIX)), None)


def _verify(request: HttpRequest, body: bytes, claim: dict | None) -> None:
    """The app's signing secret, or the organization's own app's (pasted tokens); else BadSignature.

    The organization's secret is looked up only for a button value we signed ourselves.
    """
    secrets = [getattr(settings, "SLACK_SIGNING_SECRET", "")]
    if claim is not None:
        secrets.append(_organization_signing_secret(claim["s"]))
    error = signatures.BadSignature("no signing secret is configured")
    for secret in filter(None, secrets):
        try:
            signatures.verify(
                secret=secret,
                timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                signature=request.headers.get("X-Slack-Signature"),
                body=body,
            )
        except signatures.BadSignature as failure:
            error = failure
            continue
        return
    raise error


def _organization_signing_secret(schema: str) -> str:
    organizations = Organization.objects.filter(schema_name=schema, is_active=True).exclude(
        schema_name="public"
    )
    if not organizations.exists():
        return ""
    with schema_context(schema):
        connection = SlackConnection.objects.first()
    if connection is None or not connection.signing_secret_encrypted:
        return ""
    try:
        return decrypt(connection.signing_secret_encrypted)
    except SecretUnreadable:
        return ""


def _record(claim: dict, team_id: str, user: dict) -> HttpResponse:
    schema = claim["s"]
    organization = (
        Organization.objects.filter(schema_name=schema, is_active=True).exclude(schema_name="public").first()
    )
    if organization is None:
        return _refuse(404, "unknown organization")
    with schema_context(schema):
        if not SlackConnection.objects.filter(team_id=team_id).exists():
            return _refuse(404, "team not connected to this organization")
        investigation = Investigation.objects.filter(
            pk=claim["i"], status=InvestigationStatus.COMPLETED
        ).first()
        if investigation is None:
            return _refuse(404, "no such investigation")
        user_id = str(user["id"])[:32]
        name = str(user.get("username") or user.get("name") or user_id)[:100]
        feedback_record(
            investigation,
            slack_user_key(team_id, user_id),
            f"{name} (Slack {user_id})"[:254],
            claim["r"],
            source=FeedbackSource.SLACK,
        )
        enqueue_after_commit("notifications.tasks.refresh_investigation_messages", schema, investigation.pk)
    logger.info(
        "notify.slack.feedback",
        extra={"schema": schema, "investigation": investigation.pk, "rating": claim["r"]},
    )
    label = FEEDBACK_ACTIONS[claim["r"]][0]
    return JsonResponse({"ok": True, "recorded": label})
