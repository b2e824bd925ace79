"""Webhook URLs and copy-paste setup snippets for each source, shown on the integrations page."""

from __future__ import annotations

import json

from alerts.models import AuthKind, Integration, Source
from tenants.links import host_url
from tenants.models import Organization

# The Datadog "Payload" we document and expect (keys per shared/reference/webhook-formats.md §4.3).
DATADOG_TEMPLATE = {
    "id": "$ID",
    "alert_id": "$ALERT_ID",
    "alert_cycle_key": "$ALERT_CYCLE_KEY",
    "aggreg_key": "$AGGREG_KEY",
    "alert_transition": "$ALERT_TRANSITION",
    "alert_type": "$ALERT_TYPE",
    "alert_priority": "$ALERT_PRIORITY",
    "alert_title": "$ALERT_TITLE",
    "alert_status": "$ALERT_STATUS",
    "alert_scope": "$ALERT_SCOPE",
    "alert_query": "$ALERT_QUERY",
    "alert_metric": "$ALERT_METRIC",
    "event_type": "$EVENT_TYPE",
    "title": "$EVENT_TITLE",
    "body": "$EVENT_MSG",
    "text_only_msg": "$TEXT_ONLY_MSG",
    "tags": "$TAGS",
    "hostname": "$HOSTNAME",
    "date": "$DATE",
    "last_updated": "$LAST_UPDATED",
    "link": "$LINK",
    "snapshot": "$SNAPSHOT",
    "org": {"id": "$ORG_ID", "name": "$ORG_NAME"},
}


def webhook_url(organization: Organization, source: str, token: str) -> str:
    return f"{host_url(organization.primary_domain)}/hooks/{source}/{token}/"


def setup_snippet(integration: Integration, url: str) -> dict[str, str]:
    """{"title", "language", "code", "steps"} for the integration's source, with its URL filled in."""
    builder = {
        Source.ALERTMANAGER: _alertmanager,
        Source.GRAFANA: _grafana,
        Source.DATADOG: _datadog,
        Source.CLOUDWATCH: _cloudwatch,
        Source.GENERIC: _generic,
    }[integration.source]
    return builder(integration, url)


def _auth_line(integration: Integration) -> str:
    return {
        AuthKind.NONE: "",
        AuthKind.BEARER: "the bearer token you chose",
        AuthKind.BASIC: f"user {integration.auth_username} and the password you chose",
        AuthKind.HEADER: f"the header {integration.auth_header} with the secret you chose",
        AuthKind.HMAC: f"an HMAC-SHA256 signature in {integration.auth_header}",
    }[integration.auth_kind]


def _alertmanager(integration: Integration, url: str) -> dict[str, str]:
    http_config = ""
    if integration.auth_kind == AuthKind.BEARER:
        http_config = (
            "\n        http_config:\n          authorization:\n            type: Bearer\n"
            "            credentials: <the bearer token>"
        )
    elif integration.auth_kind == AuthKind.BASIC:
        http_config = (
            "\n        http_config:\n          basic_auth:\n"
            f"            username: {integration.auth_username}\n"
            "            password: <the password>"
        )
    elif integration.auth_kind == AuthKind.HEADER:
        http_config = (
            f"\n        http_config:\n          http_headers:\n            {integration.auth_header}:\n"
            "              secrets: [<the secret>]"
        )
    code = (
        "route:\n  routes:\n    - receiver: opsworker\n      continue: true  # keep yours\n"
        "receivers:\n  - name: opsworker\n    webhook_configs:\n"
        f"      - url: {url}\n        send_resolved: true\n        max_alerts: 0{http_config}"
    )
    return {
        "title": "alertmanager.yml",
        "language": "yaml",
        "code": code,
        "steps": "Add the receiver and route to alertmanager.yml and reload Alertmanager (POST /-/reload). "
        "Resolved notifications close alerts here, so keep send_resolved on.",
    }


def _grafana(integration: Integration, url: str) -> dict[str, str]:
    lines = [
        "Alerting → Contact points → + Add contact point",
        "  Integration:  Webhook",
        f"  URL:          {url}",
        "  HTTP Method:  POST (PUT also works)",
    ]
    if integration.auth_kind == AuthKind.BEARER:
        lines.append("  Authorization Header - Scheme: Bearer, Credentials: <the bearer token>")
    elif integration.auth_kind == AuthKind.BASIC:
        lines.append(f"  Basic Auth - Username: {integration.auth_username}, Password: <the password>")
    elif integration.auth_kind == AuthKind.HMAC:
        lines.append(f"  HMAC Signature - Secret: <the secret>, Header: {integration.auth_header}")
        if integration.auth_timestamp_header:
            lines.append(f"                   Timestamp header: {integration.auth_timestamp_header}")
    elif integration.auth_kind == AuthKind.HEADER:
        lines.append(f"  Extra headers - {integration.auth_header}: <the secret>")
    lines.append("  Custom Payload: leave empty (we read Grafana's default payload)")
    return {
        "title": "Grafana contact point",
        "language": "text",
        "code": "\n".join(lines),
        "steps": "Then route alerts to it in a notification policy. Grafana 9+ unified alerting and the "
        "legacy dashboard-alert payload are both understood.",
    }


def _datadog(integration: Integration, url: str) -> dict[str, str]:
    headers = {}
    if integration.auth_kind == AuthKind.BEARER:
        headers = {"Authorization": "Bearer $OPSWORKER_TOKEN"}
    elif integration.auth_kind == AuthKind.HEADER:
        headers = {integration.auth_header: "$OPSWORKER_TOKEN"}
    custom = f"\nCustom Headers:\n{json.dumps(headers, indent=2)}" if headers else ""
    code = (
        f"Integrations → Webhooks → New\n  Name: opsworker\n  URL:  {url}\n"
        f"Payload:\n{json.dumps(DATADOG_TEMPLATE, indent=2)}{custom}"
    )
    return {
        "title": "Datadog webhook",
        "language": "text",
        "code": code,
        "steps": "Add @webhook-opsworker to a monitor's message. Keep the payload as given: its keys tell "
        "us the alert id, cycle (episode), transition and the Kubernetes tags. Datadog's default payload "
        "also works, with less detail."
        + (" Put the secret in a hidden custom variable OPSWORKER_TOKEN." if headers else ""),
    }


def _cloudwatch(integration: Integration, url: str) -> dict[str, str]:
    code = (
        "aws sns subscribe \\\n  --topic-arn arn:aws:sns:<region>:<account>:<topic> \\\n"
        f"  --protocol https \\\n  --notification-endpoint '{url}'"
    )
    return {
        "title": "SNS subscription (AWS CLI)",
        "language": "shell",
        "code": code,
        "steps": "Point your alarms' ALARM and OK actions at the topic. We confirm the subscription "
        "automatically and verify every message's SNS signature. Leave raw message delivery off.",
    }


def _generic(integration: Integration, url: str) -> dict[str, str]:
    auth = ""
    if integration.auth_kind == AuthKind.BEARER:
        auth = " \\\n  -H 'Authorization: Bearer <the bearer token>'"
    elif integration.auth_kind == AuthKind.HEADER:
        auth = f" \\\n  -H '{integration.auth_header}: <the secret>'"
    elif integration.auth_kind == AuthKind.BASIC:
        auth = f" \\\n  -u '{integration.auth_username}:<the password>'"
    body = {
        "alertname": "PaymentsApiDown",
        "status": "firing",
        "severity": "critical",
        "summary": "payments-api returns 503",
        "namespace": "payments",
        "pod": "payments-api-7d9f-abcde",
        "cluster": "prod-eu",
    }
    code = (
        f"curl -X POST '{url}'{auth} \\\n  -H 'Content-Type: application/json' \\\n  -d '{json.dumps(body)}'"
    )
    return {
        "title": "curl",
        "language": "shell",
        "code": code,
        "steps": 'Send one alert object, or {"alerts": [...]} for several. Send the same alert with '
        '"status": "resolved" to close it.',
    }
