"""Notification pages: admins configure, members and viewers read; nothing crosses organizations."""

from __future__ import annotations

import pytest

from tests.notifications.slack_server import Reply

pytestmark = pytest.mark.django_db

BASE = "/settings/notifications/"
ADMIN_GETS = [BASE, BASE + "slack/install/", BASE + "slack/oauth/callback/"]
ADMIN_POSTS = [
    BASE,
    BASE + "slack/token/",
    BASE + "slack/disconnect/",
    BASE + "slack/test/",
    BASE + "routes/",
    BASE + "routes/1/delete/",
    BASE + "digest/send/",
]
READ_PAGES = [BASE + "deliveries/", BASE + "digest/"]


def _form(**overrides) -> dict:
    data = {
        "default_channel": "#ops",
        "digest_enabled": "on",
        "digest_channel": "#daily-ops",
        "digest_time": "08:30",
        "digest_timezone": "Europe/Berlin",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_pages_configuration_is_forbidden_below_admin(org, client_for, make_member, slack_api, role):
    client = client_for(make_member(org, role), org)
    for url in ADMIN_GETS:
        assert client.get(url).status_code == 403, url
    for url in ADMIN_POSTS:
        assert client.post(url, _form()).status_code == 403, url
    assert slack_api.calls == []


def test_pages_viewer_can_read_deliveries_and_digest(org, client_for, make_member):
    client = client_for(make_member(org, "viewer"), org)
    for url in READ_PAGES:
        assert client.get(url).status_code == 200, url


def test_pages_admin_role_may_configure(org, client_for, make_member):
    assert client_for(make_member(org, "admin"), org).get(BASE).status_code == 200


def test_settings_page_saves_routing_and_digest(org, client_for, in_schema):
    from notifications.routing import settings_get

    response = client_for(org.owner, org).post(BASE, _form(always_default="on"), follow=True)

    assert "Notification settings saved." in response.content.decode()
    with in_schema(org):
        saved = settings_get()
    assert (saved.default_channel, saved.digest_channel, saved.digest_timezone, str(saved.digest_time)) == (
        "#ops",
        "#daily-ops",
        "Europe/Berlin",
        "08:30:00",
    )
    assert saved.always_default and saved.updated_by == org.owner.email


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("default_channel", "#ops, <!channel>", "Not a Slack channel name or id"),
        ("digest_timezone", "Mars/Olympus", "Unknown time zone"),
    ],
)
def test_settings_page_refuses_invalid_values(org, client_for, in_schema, field, value, message):
    from notifications.models import NotificationSettings

    response = client_for(org.owner, org).post(BASE, _form(**{field: value}))

    assert response.status_code == 400 and message in response.content.decode()
    with in_schema(org):
        assert not NotificationSettings.objects.filter(default_channel="#ops").exists()


def test_cluster_override_added_removed_and_invisible_to_other_org(org, other_org, client_for, in_schema):
    from notifications.models import NotificationRoute

    client = client_for(org.owner, org)
    client.post(BASE + "routes/", {"cluster_name": "prod-eu-1", "channel": "#eu-oncall"})
    with in_schema(org):
        route = NotificationRoute.objects.get()
    assert (route.cluster_name, route.channel) == ("prod-eu-1", "#eu-oncall")
    assert "#eu-oncall" in client.get(BASE).content.decode()

    other = client_for(other_org.owner, other_org)
    assert "#eu-oncall" not in other.get(BASE).content.decode()
    assert other.post(BASE + f"routes/{route.pk}/delete/").status_code == 404  # not in beta's schema

    client.post(BASE + f"routes/{route.pk}/delete/")
    with in_schema(org):
        assert not NotificationRoute.objects.exists()


def test_delivery_list_shows_failures_and_stays_in_its_organization(
    org, other_org, client_for, slack_api, connect_slack, make_investigation
):
    from notifications.tasks import send_investigation_notifications

    connect_slack(org, default_channel="#gone")
    investigation = make_investigation(org)
    slack_api.script("chat.postMessage", Reply(200, {"ok": False, "error": "channel_not_found"}))
    send_investigation_notifications(org.schema, investigation.pk)

    page = client_for(org.owner, org).get(BASE + "deliveries/?status=failed").content.decode()
    assert f"Investigation #{investigation.pk}" in page and "channel_not_found" in page
    assert (
        "channel_not_found" in client_for(org.owner, org).get(BASE).content.decode()
    )  # settings: recent failures
    other = client_for(other_org.owner, other_org).get(BASE + "deliveries/").content.decode()
    assert "channel_not_found" not in other and "Nothing sent yet" in other


def test_digest_page_and_send_now(org, client_for, slack_api, connect_slack, in_schema):
    from alerts.models import Signal

    connect_slack(org, digest_channel="#daily-ops")
    with in_schema(org):
        Signal.objects.create(
            source="generic", fingerprint="p1", status="firing", alertname="CPUThrottlingHigh"
        )
    client = client_for(org.owner, org)

    page = client.get(BASE + "digest/").content.decode()
    assert 'data-testid="digest-total">1<' in page and "CPUThrottlingHigh" in page

    response = client.post(BASE + "digest/send/", follow=True)
    assert "Digest posted to #daily-ops." in response.content.decode()
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.body["channel"] == "#daily-ops" and "CPUThrottlingHigh: 0 → *1*" in str(call.body["blocks"])


def test_pages_answer_empty_requests_without_server_errors(org, client_for, slack_api):
    # What the project's role-by-URL matrix does once these URLs are included.
    client = client_for(org.owner, org)
    for url in ADMIN_GETS + READ_PAGES:
        assert client.get(url).status_code < 500, url
    for url in ADMIN_POSTS:
        assert client.post(url).status_code in (200, 302, 400, 404), url
    assert slack_api.calls == []  # nothing reaches Slack without a connection
