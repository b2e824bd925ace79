"""Slack's interactivity endpoint on the public host: signed feedback clicks, and every refusal."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from notifications.messages import feedback_value
from notifications.signatures import sign
from tests.notifications.conftest import SIGNING_SECRET, TEAM_ID
from tests.notifications.slack_server import Reply

pytestmark = [pytest.mark.django_db]

URL = "/slack/interactivity/"
REFRESH = "notifications.tasks.refresh_investigation_messages"


def _body(value: str, team_id: str = TEAM_ID, user_id: str = "U0ALICE") -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": "alice", "team_id": team_id},
        "container": {"type": "message", "channel_id": "C0OPS", "message_ts": "1700000000.000001"},
        "actions": [{"action_id": "feedback:accurate", "type": "button", "value": value}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """post(body, secret=..., timestamp=..., host=...) -> response; after-commit hooks run."""

    def send(
        body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, host: str = "localhost"
    ):
        timestamp = int(time.time()) if timestamp is None else timestamp
        with django_capture_on_commit_callbacks(execute=True):
            return Client(HTTP_HOST=host).post(
                URL,
                body,
                content_type="application/x-www-form-urlencoded",
                HTTP_X_SLACK_REQUEST_TIMESTAMP=str(timestamp),
                HTTP_X_SLACK_SIGNATURE=sign(secret, str(timestamp), body),
            )

    return send


def _feedback(org, in_schema) -> list:
    from investigations.feedback import InvestigationFeedback

    with in_schema(org):
        return list(InvestigationFeedback.objects.all())


def test_interactivity_signed_click_records_feedback_and_refreshes_the_message(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    connect_slack(org)
    investigation = make_investigation(org)

    response = post(_body(feedback_value(org.schema, investigation.pk, "partial")))

    assert response.status_code == 200
    [feedback] = _feedback(org, in_schema)
    assert (feedback.investigation_id, feedback.rating, feedback.source) == (
        investigation.pk,
        "partial",
        "slack",
    )
    assert feedback.user_id < 0 and "U0ALICE" in feedback.email
    [job] = jobs.enqueued
    assert (job.queue, job.func, job.args) == ("notifications", REFRESH, (org.schema, investigation.pk))


def test_interactivity_same_slack_user_changes_their_rating(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    connect_slack(org)
    investigation = make_investigation(org)
    post(_body(feedback_value(org.schema, investigation.pk, "accurate")))
    post(_body(feedback_value(org.schema, investigation.pk, "needs_improvement")))
    post(_body(feedback_value(org.schema, investigation.pk, "accurate"), user_id="U0BOB"))

    ratings = sorted(f.rating for f in _feedback(org, in_schema))
    assert ratings == ["accurate", "needs_improvement"]


def test_interactivity_refresh_job_shows_the_counts_on_the_posted_message(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    from notifications.tasks import send_investigation_notifications

    connect_slack(org)
    investigation = make_investigation(org)
    send_investigation_notifications(org.schema, investigation.pk)

    post(_body(feedback_value(org.schema, investigation.pk, "accurate")))
    jobs.run()

    [update] = slack_api.calls_to("chat.update")
    assert "Feedback so far: Accurate 1" in update.body["blocks"][-1]["elements"][0]["text"]


def test_interactivity_bad_signature_is_401(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    connect_slack(org)
    investigation = make_investigation(org)

    response = post(_body(feedback_value(org.schema, investigation.pk, "accurate")), secret="not-the-secret")

    assert response.status_code == 401
    assert _feedback(org, in_schema) == [] and jobs.enqueued == []


def test_interactivity_old_timestamp_is_401(
    org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    connect_slack(org)
    investigation = make_investigation(org)
    six_minutes_ago = int(time.time()) - 6 * 60

    response = post(
        _body(feedback_value(org.schema, investigation.pk, "accurate")), timestamp=six_minutes_ago
    )

    assert response.status_code == 401
    assert _feedback(org, in_schema) == []


def test_interactivity_missing_headers_is_401(slack_api):
    response = Client(HTTP_HOST="localhost").post(
        URL, b"payload=%7B%7D", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 401


def test_interactivity_refuses_another_organizations_investigation(
    org, other_org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    # Alpha's workspace clicks a button whose value names beta's investigation (beta uses another workspace).
    connect_slack(org)
    connect_slack(other_org, team_id="T0BETA001")
    theirs = make_investigation(other_org)

    response = post(_body(feedback_value(other_org.schema, theirs.pk, "accurate"), team_id=TEAM_ID))

    assert response.status_code == 404
    assert _feedback(other_org, in_schema) == [] and _feedback(org, in_schema) == []


def test_interactivity_refuses_a_forged_investigation_id(
    org, other_org, slack_api, connect_slack, make_investigation, in_schema, jobs, post
):
    connect_slack(org)
    theirs = make_investigation(other_org)
    mine = make_investigation(org)
    forged = json.dumps({"s": org.schema, "i": theirs.pk + 1000, "r": "accurate"})

    unsigned = post(_body(forged))
    missing = post(_body(feedback_value(org.schema, mine.pk + 1000, "accurate")))

    assert (unsigned.status_code, missing.status_code) == (404, 404)
    assert _feedback(org, in_schema) == []


def test_interactivity_is_not_served_on_organization_hosts(org, slack_api, post):
    # Slack calls one URL for the whole app: the public host's.
    assert post(_body("x"), host=org.domain).status_code in (302, 404)


def test_interactivity_accepts_the_own_app_signing_secret_of_a_pasted_token(
    org, client_for, slack_api, make_investigation, in_schema, jobs, post, settings
):
    from notifications.services import connection_from_pasted_token

    slack_api.script(
        "auth.test", Reply(200, {"ok": True, "team": "Own", "team_id": TEAM_ID, "user_id": "U0BOT"})
    )
    with in_schema(org):
        connection_from_pasted_token(
            token="xoxb-own-app-token", installed_by="owner@alpha.test", signing_secret="own-app-secret"
        )
    investigation = make_investigation(org)
    body = _body(feedback_value(org.schema, investigation.pk, "accurate"))

    assert post(body, secret="some-other-secret").status_code == 401
    assert post(body, secret="own-app-secret").status_code == 200
    assert [f.rating for f in _feedback(org, in_schema)] == ["accurate"]
