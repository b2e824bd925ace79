"""Block Kit content of investigation messages, escaping of hostile alert text, signed button values."""

from __future__ import annotations

import base64
import json

import pytest

from notifications.messages import (
    BACKTICK_STANDIN,
    escape,
    feedback_value,
    feedback_value_read,
    investigation_message,
)
from tests.notifications.conftest import RESULT

pytestmark = pytest.mark.django_db

PORTAL = "http://alpha.localhost:8000"


def _texts(message: dict) -> list[str]:
    """Every mrkdwn string Slack would parse (section texts, context elements, the fallback text)."""
    texts = [message["text"]]
    for block in message["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        if block["type"] == "context":
            texts.extend(e["text"] for e in block["elements"])
    return texts


def _message(org, investigation, in_schema) -> dict:
    from investigations.models import Investigation

    with in_schema(org):
        fresh = Investigation.objects.select_related("signal__matched_rule").get(pk=investigation.pk)
        return investigation_message(fresh, schema=org.schema, portal_url=PORTAL)


def test_message_completed_has_alert_cause_resources_commands_link_and_buttons(
    org, make_investigation, in_schema
):
    investigation = make_investigation(org)

    message = _message(org, investigation, in_schema)

    blocks = message["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "KubePodOOMKilled", "emoji": False},
    }
    text = "\n".join(_texts(message))
    assert "Pod shop/checkout-7d9f-abcde was OOMKilled" in text
    assert "*Severity:* critical" in text and "*Cluster:* prod-eu-1" in text and "*Namespace:* shop" in text
    assert "*Root cause:* checkout is OOMKilled at its 256Mi limit" in text
    assert "*Category:* `oom-killed` · *Confidence:* 86% · *Resource:* Deployment shop/checkout" in text
    assert (
        "*Affected resources*\n• Deployment shop/checkout\n"
        "• Pod shop/checkout-7d9f-abcde\n• Service shop/checkout" in text
    )
    assert "ConfigMap" not in text  # only the alerting/workload/service roles are "affected"
    assert (
        "*1. Raise the memory limit*\nThe heap does not fit in the limit.\n```kubectl -n shop set resources"
        in text
    )
    assert "```kubectl -n shop rollout status deployment/checkout```" in text
    assert f"<{PORTAL}/investigations/{investigation.pk}/|Open in OpsWorker>" in text
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "feedback:accurate",
        "feedback:partial",
        "feedback:needs_improvement",
    ]
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Accurate",
        "Partially accurate",
        "Needs improvement",
    ]
    assert feedback_value_read(actions["elements"][1]["value"]) == {
        "s": org.schema,
        "i": investigation.pk,
        "r": "partial",
    }


def test_message_failed_says_why_and_has_no_buttons(org, make_investigation, in_schema):
    investigation = make_investigation(
        org, status="failed", failure_reason="no cluster named 'prod-eu-1' is connected to this organization"
    )

    message = _message(org, investigation, in_schema)

    text = "\n".join(_texts(message))
    assert "Investigation failed" in text
    assert "*Why it failed:* no cluster named 'prod-eu-1' is connected to this organization" in text
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    assert "Root cause" not in text


def test_message_escapes_hostile_alert_text(org, make_investigation, in_schema):
    hostile = "<!channel> Disk & <@U0BOSS> <https://evil.example|click here>"
    result = json.loads(json.dumps(RESULT))
    result["root_cause"]["summary"] = "<!here> summary"
    result["recommendations"][0]["commands"] = ["echo ``` <!everyone>"]
    investigation = make_investigation(
        org, alertname=hostile, summary=hostile, cluster="<!subteam^S1>", result=result
    )

    message = _message(org, investigation, in_schema)

    for text in _texts(message):
        for raw in ("<!channel>", "<@U0BOSS>", "<https://evil", "<!here>", "<!everyone>", "<!subteam"):
            assert raw not in text
    joined = "\n".join(_texts(message))
    assert "&lt;!channel&gt; Disk &amp; &lt;@U0BOSS&gt; &lt;https://evil.example|click here&gt;" in joined
    assert "*Cluster:* &lt;!subteam^S1&gt;" in joined
    # The code block cannot be closed early.
    assert f"echo {BACKTICK_STANDIN * 3} &lt;!everyone&gt;" in joined
    # The header is plain_text, which Slack never parses for mentions or links.
    assert message["blocks"][0]["text"]["type"] == "plain_text"


def test_escape_removes_control_characters_and_clips():
    assert escape("a\x00b\x1bc", 10) == "a b c"
    assert escape("x" * 20, 10) == "x" * 9 + "…"


def test_feedback_value_refuses_tampering(org):
    value = feedback_value(org.schema, 7, "accurate")
    assert feedback_value_read(value)["i"] == 7
    _payload, signature = value.rsplit(":", 1)
    other = base64.urlsafe_b64encode(b'{"s":"org_alpha","i":8,"r":"accurate"}').decode().rstrip("=")
    forged = f"{other}:{signature}"
    assert feedback_value_read(forged) is None
    assert feedback_value_read("not-signed") is None
