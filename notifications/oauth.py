"""Slack OAuth v2 ("Add to Slack") on the organization's host.

The state is signed (django.core.signing) with the organization's schema, the admin's user id and
a nonce kept in their session, and expires after 10 minutes: a callback is accepted only on the same
organization, for the same signed-in admin, in the same browser session, shortly after it started.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing

from notifications import slack
from notifications.models import InstallMethod, SlackConnection
from notifications.services import connection_save

STATE_SALT = "opsworker.slack.oauth"
STATE_MAX_AGE_SECONDS = 600
SESSION_KEY = "slack_oauth_nonce"


class StateInvalid(Exception):
    """The callback's state is missing, tampered with, expired, or not this admin's."""


def client_id() -> str:
    return getattr(settings, "SLACK_CLIENT_ID", "")


def client_secret() -> str:
    return getattr(settings, "SLACK_CLIENT_SECRET", "")


def oauth_configured() -> bool:
    return bool(client_id() and client_secret())


def state_make(*, schema: str, user_id: int, session) -> str:
    nonce = secrets.token_urlsafe(16)
    session[SESSION_KEY] = nonce
    return signing.dumps({"s": schema, "u": user_id, "n": nonce}, salt=STATE_SALT)


def state_check(state: str, *, schema: str, user_id: int, session) -> None:
    try:
        data = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise StateInvalid("the Slack authorization took too long; start again") from None
    except signing.BadSignature:
        raise StateInvalid("the Slack authorization state is not valid; start again") from None
    nonce = session.pop(SESSION_KEY, None)
    if data.get("s") != schema or data.get("u") != user_id or not nonce or data.get("n") != nonce:
        raise StateInvalid("this Slack authorization was started elsewhere; start again")


def authorize_redirect(*, state: str, redirect_uri: str) -> str:
    query = urlencode(
        {"client_id": client_id(), "scope": slack.SCOPES, "state": state, "redirect_uri": redirect_uri}
    )
    return f"{slack.authorize_url()}?{query}"


def code_exchange(*, code: str, redirect_uri: str, installed_by: str) -> SlackConnection:
    """oauth.v2.access: trade the code for the bot token and store the installation."""
    data = slack.call(
        slack.client().oauth_v2_access,
        client_id=client_id(),
        client_secret=client_secret(),
        code=code,
        redirect_uri=redirect_uri,
    )
    token = data.get("access_token") or ""
    if data.get("token_type") != "bot" or not token.startswith("xoxb-"):
        raise slack.SlackFailure("no_bot_token", "Slack did not return a bot token")
    team = data.get("team") or {}
    return connection_save(
        token=token,
        team_id=str(team.get("id") or ""),
        team_name=str(team.get("name") or ""),
        bot_user_id=str(data.get("bot_user_id") or ""),
        app_id=str(data.get("app_id") or ""),
        scopes=str(data.get("scope") or ""),
        method=InstallMethod.OAUTH,
        installed_by=installed_by,
    )
