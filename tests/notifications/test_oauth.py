"""Connecting Slack: OAuth v2 end to end against a local server (state checked), pasted tokens, test."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db

from tests.notifications.conftest import BOT_TOKEN
from tests.notifications.slack_server import Reply

pytestmark = pytest.mark.django_db

INSTALL = "/settings/notifications/slack/install/"
CALLBACK = "/settings/notifications/slack/oauth/callback/"
TOKEN = "/settings/notifications/slack/token/"
TEST = "/settings/notifications/slack/test/"
OAUTH_OK = {
    "ok": True,
    "access_token": BOT_TOKEN,
    "token_type": "bot",
    "scope": "chat:write",
    "bot_user_id": "U0BOT",
    "app_id": "A0APP",
    "team": {"id": "T0NEW0001", "name": "Acme Corp"},
    "enterprise": None,
    "authed_user": {"id": "U0ADMIN"},
}


def _start(client) -> dict[str, str]:
    response = client.get(INSTALL)
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _connection(org, in_schema):
    from notifications.models import SlackConnection

    with in_schema(org):
        return SlackConnection.objects.first()


def test_oauth_install_redirects_to_slack_with_scope_and_signed_state(org, client_for, slack_api):
    response = client_for(org.owner, org).get(INSTALL)

    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{slack_api.url}/oauth/v2/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == ["1234.5678"] and query["scope"] == ["chat:write"]
    assert query["redirect_uri"] == [f"http://{org.domain}:8000{CALLBACK}"]
    assert len(query["state"][0]) > 40


def test_oauth_callback_exchanges_the_code_and_stores_the_token_encrypted(
    org, client_for, slack_api, in_schema
):
    from notifications.services import connection_token

    client = client_for(org.owner, org)
    query = _start(client)
    slack_api.script("oauth.v2.access", Reply(200, OAUTH_OK))

    response = client.get(CALLBACK, {"code": "code-123", "state": query["state"]}, follow=True)

    assert "Connected to the Slack workspace Acme Corp." in response.content.decode()
    [exchange] = slack_api.calls_to("oauth.v2.access")
    assert exchange.body["code"] == "code-123" and exchange.body["redirect_uri"] == query["redirect_uri"]
    basic = base64.b64decode(exchange.headers["authorization"].split()[1]).decode()
    assert basic == "1234.5678:client-secret-xyz"
    connection = _connection(org, in_schema)
    assert (connection.team_id, connection.team_name, connection.method) == (
        "T0NEW0001",
        "Acme Corp",
        "oauth",
    )
    assert connection.installed_by == org.owner.email
    with in_schema(org):
        with db.cursor() as cursor:
            cursor.execute("SELECT bot_token_encrypted FROM investigations_slackconnection")
            [(raw,)] = cursor.fetchall()
        assert BOT_TOKEN not in raw
        assert connection_token(connection) == BOT_TOKEN
    assert BOT_TOKEN not in response.content.decode()


def test_oauth_callback_refuses_a_tampered_state(org, client_for, slack_api, in_schema):
    client = client_for(org.owner, org)
    query = _start(client)
    slack_api.script("oauth.v2.access", Reply(200, OAUTH_OK))

    response = client.get(CALLBACK, {"code": "c", "state": query["state"][:-2] + "xx"}, follow=True)

    assert "not valid" in response.content.decode()
    assert slack_api.calls_to("oauth.v2.access") == [] and _connection(org, in_schema) is None


def test_oauth_callback_refuses_an_expired_state(org, client_for, slack_api, in_schema, monkeypatch):
    from notifications import oauth

    client = client_for(org.owner, org)
    query = _start(client)
    monkeypatch.setattr(oauth, "STATE_MAX_AGE_SECONDS", -1)  # as if ten minutes had passed

    response = client.get(CALLBACK, {"code": "c", "state": query["state"]}, follow=True)

    assert "took too long" in response.content.decode()
    assert slack_api.calls_to("oauth.v2.access") == [] and _connection(org, in_schema) is None


def test_oauth_callback_refuses_state_from_another_admin_or_organization(
    org, other_org, client_for, make_member, slack_api, in_schema
):
    state = _start(client_for(org.owner, org))["state"]
    other_admin = make_member(org, "admin")

    # Another admin of the same organization (another session) presents alpha owner's state.
    first = client_for(other_admin, org).get(CALLBACK, {"code": "c", "state": state}, follow=True)
    # The owner of beta presents it on beta's host.
    second = client_for(other_org.owner, other_org).get(CALLBACK, {"code": "c", "state": state}, follow=True)

    assert "started elsewhere" in first.content.decode() and "started elsewhere" in second.content.decode()
    assert slack_api.calls_to("oauth.v2.access") == []
    assert _connection(org, in_schema) is None and _connection(other_org, in_schema) is None


def test_oauth_callback_state_is_single_use(org, client_for, slack_api, in_schema):
    client = client_for(org.owner, org)
    state = _start(client)["state"]
    slack_api.script("oauth.v2.access", Reply(200, OAUTH_OK))
    client.get(CALLBACK, {"code": "c", "state": state})

    replay = client.get(CALLBACK, {"code": "c2", "state": state}, follow=True)

    assert "started elsewhere" in replay.content.decode()
    assert len(slack_api.calls_to("oauth.v2.access")) == 1


def test_oauth_callback_reports_slacks_refusal(org, client_for, slack_api, in_schema):
    client = client_for(org.owner, org)
    state = _start(client)["state"]
    slack_api.script("oauth.v2.access", Reply(200, {"ok": False, "error": "invalid_code"}))

    response = client.get(CALLBACK, {"code": "c", "state": state}, follow=True)

    assert "Slack refused the installation: invalid_code" in response.content.decode()
    assert _connection(org, in_schema) is None


def test_pasted_token_is_validated_with_auth_test_and_stored(org, client_for, slack_api, in_schema):
    slack_api.script(
        "auth.test",
        Reply(
            200, {"ok": True, "team": "Pasted Co", "team_id": "T0PASTE01", "user_id": "U0BOT", "bot_id": "B1"}
        ),
    )

    response = client_for(org.owner, org).post(TOKEN, {"token": BOT_TOKEN}, follow=True)

    assert "Connected to the Slack workspace Pasted Co." in response.content.decode()
    [check] = slack_api.calls_to("auth.test")
    assert check.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    connection = _connection(org, in_schema)
    assert (connection.team_id, connection.method, connection.bot_user_id) == ("T0PASTE01", "pasted", "U0BOT")
    assert BOT_TOKEN not in connection.bot_token_encrypted


def test_pasted_token_refused_by_slack_is_not_stored(org, client_for, slack_api, in_schema):
    slack_api.script("auth.test", Reply(200, {"ok": False, "error": "invalid_auth"}))

    response = client_for(org.owner, org).post(TOKEN, {"token": "xoxb-wrong"})

    assert response.status_code == 400
    assert "Slack refused this token: invalid_auth" in response.content.decode()
    assert _connection(org, in_schema) is None


def test_pasted_user_token_is_refused_without_calling_slack(org, client_for, slack_api, in_schema):
    response = client_for(org.owner, org).post(TOKEN, {"token": "xoxp-user-token"})
    assert response.status_code == 400 and slack_api.calls == []


def test_send_test_message_posts_to_the_default_channel(org, client_for, slack_api, connect_slack, in_schema):
    from notifications.models import SlackDelivery

    connect_slack(org, default_channel="#ops")

    response = client_for(org.owner, org).post(TEST, follow=True)

    assert "Test message posted to #ops." in response.content.decode()
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.body["channel"] == "#ops" and "OpsWorker is connected" in call.body["text"]
    with in_schema(org):
        assert SlackDelivery.objects.get().kind == "test"


def test_send_test_message_shows_slacks_error(org, client_for, slack_api, connect_slack):
    connect_slack(org, default_channel="#private")
    slack_api.script("chat.postMessage", Reply(200, {"ok": False, "error": "not_in_channel"}))

    response = client_for(org.owner, org).post(TEST, follow=True)

    assert "Test message failed: not_in_channel" in response.content.decode()
