"""The Slack Web API client (slack_sdk) and how its failures are classified.

Every call goes through `slack_sdk.WebClient` with `base_url=settings.SLACK_API_BASE_URL`, so tests
(and air-gapped installs with a proxy) point it at a local server. Rate limits: a 429 carries
`Retry-After`; short waits are slept inline (Slack's posting limit is about one message per second
per channel), long ones are handed back to the caller to reschedule.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://slack.com/api/"
DEFAULT_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
SCOPES = "chat:write"
TIMEOUT_SECONDS = 10

# Errors retrying cannot fix: the channel, token or message is wrong until someone changes it.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "msg_too_long",
        "no_permission",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "token_revoked",
        "cant_update_message",
        "message_not_found",
        "missing_scope",
        "team_access_not_granted",
        "ekm_access_denied",
        "invalid_code",
        "bad_redirect_uri",
        "invalid_client_id",
        "bad_client_secret",
    }
)

# Test seam: tests replace it to see the waits without sleeping.
sleep: Callable[[float], None] = time.sleep


def api_base_url() -> str:
    url = getattr(settings, "SLACK_API_BASE_URL", "") or DEFAULT_API_BASE_URL
    return url if url.endswith("/") else url + "/"


def authorize_url() -> str:
    return getattr(settings, "SLACK_AUTHORIZE_URL", "") or DEFAULT_AUTHORIZE_URL


def max_inline_wait_seconds() -> float:
    return float(getattr(settings, "SLACK_RATE_LIMIT_MAX_WAIT_SECONDS", 10))


def client(token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=api_base_url(), timeout=TIMEOUT_SECONDS)


@dataclasses.dataclass
class SlackFailure(Exception):
    """A Slack call failed: `code` is Slack's error (or `http_<status>`/`network`)."""

    code: str
    detail: str = ""
    retry_after: float | None = None  # set for rate limits we did not wait out

    @property
    def permanent(self) -> bool:
        return self.code in PERMANENT_ERRORS

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


def _retry_after(error: SlackApiError) -> float:
    headers = getattr(error.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def call(method: Callable[..., Any], /, *, max_rate_limit_waits: int = 3, **kwargs: Any) -> dict[str, Any]:
    """Call one WebClient method; wait out short 429s; raise `SlackFailure` for everything else."""
    waits = 0
    while True:
        try:
            response = method(**kwargs)
            return dict(response.data) if hasattr(response, "data") else dict(response)
        except SlackApiError as error:
            status = getattr(error.response, "status_code", 0)
            data = getattr(error.response, "data", {}) or {}
            code = data.get("error") if isinstance(data, dict) else None
            if status == 429 or code == "ratelimited":
                wait = _retry_after(error)
                if waits < max_rate_limit_waits and wait <= max_inline_wait_seconds():
                    waits += 1
                    logger.info("notify.slack.rate_limited", extra={"wait": wait, "attempt": waits})
                    sleep(wait)
                    continue
                raise SlackFailure("ratelimited", f"Slack asked to retry after {wait:g} s", wait) from None
            raise SlackFailure(code or f"http_{status}", _needed(data)) from None
        except SlackClientError as error:  # network, timeouts, unparsable answers
            raise SlackFailure("network", str(error)[:300]) from None
        except OSError as error:
            raise SlackFailure("network", str(error)[:300]) from None


def _needed(data: Any) -> str:
    if isinstance(data, dict) and data.get("needed"):
        return f"needs scope {data['needed']}"
    return ""


def token_hint(token: str) -> str:
    return f"{token[:5]}…{token[-4:]}" if len(token) > 12 else "…"
