"""The Integrations pages: list for members, admin-only actions, the URL shown once (post/redirect/get
with a one-time reveal), test alerts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from alerts.models import AuthKind, Integration, RawPayload, Signal
from tests.alerts.conftest import fixture_bytes
from tests.reveal_pages import no_store, revealed

pytestmark = pytest.mark.django_db

CRASHLOOP = fixture_bytes("alertmanager", "single_crashloop")
GENERIC = json.dumps({"alertname": "PortalTest", "namespace": "payments", "pod": "api-1"})


def _post_url(url: str, body, **headers):
    """POST to an absolute webhook URL through the real endpoint (Host header from the URL)."""
    parts = urlsplit(url)
    client = Client(HTTP_HOST=parts.hostname)
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return client.post(parts.path, data=body, content_type="application/json", **headers)


def _url_on(page) -> str:
    match = re.search(r'data-testid="webhook-url">([^<]+)</code>', page.content.decode())
    assert match, "the page shows no webhook URL"
    return match.group(1)


def _create(client, **fields):
    data = {
        "name": "prod Alertmanager",
        "source": "alertmanager",
        "cluster_name": "",
        "auth_kind": "none",
        **fields,
    }
    return client.post("/integrations/new/", data)


REVEAL = re.compile(r"^/integrations/(\d+)/reveal/([A-Za-z0-9_-]{16,})/$")


def _revealed(client, response):
    """Follow a creating/rotating POST's redirect to its one-time reveal page."""
    return revealed(client, response, REVEAL)


# --- list ------------------------------------------------------------------------------------


def test_integration_list_visible_to_viewer(org, other_org, client_for, make_member, make_hook):
    hook = make_hook(org, "alertmanager", cluster_name="prod-eu")
    hook.post(CRASHLOOP)
    hook.post(b"{not json")

    body = client_for(make_member(org, "viewer"), org).get("/integrations/").content.decode()

    assert "alertmanager test" in body
    assert "Prometheus Alertmanager" in body
    assert "URL token only" in body
    assert "prod-eu" in body
    assert '<span class="badge ok">enabled</span>' in body
    assert re.search(r'<td class="num">1</td>\s*<td class="num">1</td>', body)  # deliveries, alerts
    assert '<span class="count-danger">1</span>' in body  # rejected
    assert "400: " in body  # the last error's text
    assert "Add integration" not in body  # viewers cannot configure
    other = client_for(other_org.owner, other_org).get("/integrations/").content.decode()
    assert "alertmanager test" not in other
    assert "No integrations yet" in other


def test_integration_list_empty_state_offers_create_to_admin(org, client_for, make_member):
    admin_body = client_for(make_member(org, "admin"), org).get("/integrations/").content.decode()
    assert "No integrations yet" in admin_body
    assert 'href="/integrations/new/"' in admin_body
    member_body = client_for(make_member(org, "member"), org).get("/integrations/").content.decode()
    assert 'href="/integrations/new/"' not in member_body


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_integration_actions_forbidden_below_admin(org, client_for, make_member, make_hook, in_schema, role):
    hook = make_hook(org, "generic")
    client = client_for(make_member(org, role), org)
    pk = hook.integration.pk
    paths = [f"/integrations/{pk}/{action}/" for action in ("rotate", "toggle", "delete", "test")]
    for path in ["/integrations/new/", *paths]:
        assert client.get(path).status_code == 403, path
        assert (
            client.post(
                path, {"enabled": "0", "name": "x", "source": "generic", "auth_kind": "none"}
            ).status_code
            == 403
        ), path
    with in_schema(org):
        integration = Integration.objects.get(pk=pk)
        assert (integration.enabled, integration.token_hash) == (True, hook.integration.token_hash)
        assert Integration.objects.count() == 1
        assert Signal.objects.count() == 0
    detail = client.get(f"/integrations/{pk}/")
    assert detail.status_code == 200
    assert 'data-testid="admin-actions"' not in detail.content.decode()


def test_integration_detail_of_other_org_is_404(org, other_org, client_for, make_hook):
    hook = make_hook(org, "generic")
    other = client_for(other_org.owner, other_org)
    pk = hook.integration.pk
    assert other.get(f"/integrations/{pk}/").status_code == 404
    for action in ("rotate", "toggle", "delete", "test"):
        assert other.post(f"/integrations/{pk}/{action}/").status_code == 404, action
    assert (
        client_for(org.owner, other_org).get(f"/integrations/{pk}/").status_code == 403
    )  # not a member there


# --- create ----------------------------------------------------------------------------------


def test_integration_create_shows_url_once_and_it_works(org, other_org, client_for, make_member, in_schema):
    client = client_for(make_member(org, "admin"), org)

    page = _revealed(client, _create(client, name="prod AM", cluster_name="prod-eu"))

    assert no_store(page)
    url = _url_on(page)
    token = url.rstrip("/").rsplit("/", 1)[1]
    body = page.content.decode()
    assert "shown only once" in body
    assert "alertmanager.yml" in body and "send_resolved: true" in body
    assert "js/copy.js" in body and 'data-copy-target="webhook-url"' in body
    with in_schema(org):
        integration = Integration.objects.get(name="prod AM")
        assert (integration.source, integration.cluster_name, integration.auth_kind) == (
            "alertmanager",
            "prod-eu",
            "none",
        )
        assert token not in integration.token_hash
    # a second view of the detail page does not contain the token, only its hint
    detail = client.get(f"/integrations/{integration.pk}/").content.decode()
    assert token not in detail
    assert f"/hooks/alertmanager/{token[:6]}…" in detail
    # the URL works through the real endpoint, and only on this organization's host
    assert _post_url(url, CRASHLOOP).status_code == 202
    assert (
        Client(HTTP_HOST=other_org.domain)
        .post(urlsplit(url).path, data=CRASHLOOP, content_type="application/json")
        .status_code
        == 404
    )


@pytest.mark.parametrize(
    ("fields", "expected", "headers"),
    [
        (
            {"auth_kind": "bearer", "bearer_token": "bearer-secret-1"},
            {"auth_kind": "bearer"},
            {"HTTP_AUTHORIZATION": "Bearer bearer-secret-1"},
        ),
        (
            {"auth_kind": "basic", "basic_username": "am", "basic_password": "basic-pass-1"},
            {"auth_kind": "basic", "auth_username": "am"},
            {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"am:basic-pass-1").decode()},
        ),
        (
            {"auth_kind": "header", "header_name": "X-Webhook-Token", "header_value": "header-secret-1"},
            {"auth_kind": "header", "auth_header": "X-Webhook-Token"},
            {"HTTP_X_WEBHOOK_TOKEN": "header-secret-1"},
        ),
    ],
)
def test_integration_create_each_auth_kind(org, client_for, in_schema, fields, expected, headers):
    client = client_for(org.owner, org)
    page = _revealed(client, _create(client, source="generic", **fields))
    url = _url_on(page)
    with in_schema(org):
        integration = Integration.objects.get()
        for name, value in expected.items():
            assert getattr(integration, name) == value
    assert _post_url(url, GENERIC).status_code == 401  # the URL alone is not enough
    assert _post_url(url, GENERIC, **headers).status_code == 202


def test_integration_create_hmac_defaults_the_signature_header(org, client_for, in_schema):
    client = client_for(org.owner, org)
    page = _revealed(
        client,
        _create(client, source="grafana", auth_kind="hmac", hmac_secret="grafana-hmac-1", hmac_header=""),
    )
    url = _url_on(page)
    assert (
        "HMAC Signature - Secret: &lt;the secret&gt;, Header: X-Grafana-Alerting-Signature"
        in page.content.decode()
    )
    with in_schema(org):
        integration = Integration.objects.get()
        assert (integration.auth_kind, integration.auth_header) == ("hmac", "X-Grafana-Alerting-Signature")
    body = fixture_bytes("grafana", "single_firing")
    signature = hmac.new(b"grafana-hmac-1", body, hashlib.sha256).hexdigest()
    assert _post_url(url, body).status_code == 401
    assert _post_url(url, body, HTTP_X_GRAFANA_ALERTING_SIGNATURE=signature).status_code == 202


def test_integration_create_form_documents_grafana_header_default(org, client_for):
    body = client_for(org.owner, org).get("/integrations/new/").content.decode()
    assert 'value="X-Grafana-Alerting-Signature"' in body
    assert "X-Grafana-Alert-Signature" in body
    assert 'placeholder="X-Webhook-Token"' in body
    assert "Allow SNS raw message delivery" in body


def test_integration_create_cloudwatch_raw_delivery(org, client_for, in_schema):
    client = client_for(org.owner, org)
    page = _revealed(client, _create(client, name="aws", source="cloudwatch", allow_raw_delivery="on"))
    url = _url_on(page)
    assert "aws sns subscribe" in page.content.decode()
    raw = fixture_bytes("cloudwatch", "raw_delivery_ec2")
    assert _post_url(url, raw).status_code == 202
    with in_schema(org):
        assert Integration.objects.get().allow_raw_delivery is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"auth_kind": "bearer", "bearer_token": "short"}, "at least 8 characters"),
        (
            {"auth_kind": "header", "header_name": "X Webhook Token", "header_value": "long-enough-1"},
            "is not a usable header name",
        ),
        (
            {"auth_kind": "basic", "basic_username": "", "basic_password": "long-enough-1"},
            "needs a user name",
        ),
        (
            {"source": "cloudwatch", "auth_kind": "bearer", "bearer_token": "long-enough-1"},
            "SNS can only add HTTP basic",
        ),
        ({"name": ""}, "This field is required"),
    ],
)
def test_integration_create_shows_validation_errors(org, client_for, in_schema, fields, message):
    response = _create(client_for(org.owner, org), **fields)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert 'class="form-errors"' in body
    assert 'data-testid="webhook-url"' not in body
    with in_schema(org):
        assert Integration.objects.count() == 0


def test_integration_create_escapes_name(org, client_for):
    client = client_for(org.owner, org)
    page = _revealed(client, _create(client, name="<script>alert(1)</script>"))
    assert "<script>alert(1)</script>" not in page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/integrations/").content.decode()


# --- detail and actions ----------------------------------------------------------------------


def test_integration_detail_shows_setup_counts_and_deliveries(
    org, other_org, client_for, make_member, make_hook
):
    hook = make_hook(org, "datadog")
    hook.post(fixture_bytes("datadog", "template_triggered"))
    hook.post(b"[1, 2")  # rejected: malformed JSON
    body = (
        client_for(make_member(org, "viewer"), org)
        .get(f"/integrations/{hook.integration.pk}/")
        .content.decode()
    )
    assert f"/hooks/datadog/{hook.token[:6]}…" in body
    assert hook.token not in body
    assert "Datadog webhook" in body
    assert "alert_cycle_key" in body and "$ALERT_CYCLE_KEY" in body  # the template keys are documented
    assert "Payload keys we read" in body
    traffic = body.split("<h2>Traffic</h2>")[1].split("</table>")[0]
    assert re.search(r"<th>Deliveries</th><td>1</td>", traffic)
    assert re.search(r"<th>Rejected</th><td>1</td>", traffic)
    deliveries = body.split("<h2>Recent deliveries</h2>")[1]
    assert deliveries.count("<time data-relative") == 1
    assert (
        client_for(other_org.owner, other_org).get(f"/integrations/{hook.integration.pk}/").status_code == 404
    )


def test_integration_detail_generic_documents_the_format(org, client_for, make_hook):
    hook = make_hook(org, "generic")
    body = client_for(org.owner, org).get(f"/integrations/{hook.integration.pk}/").content.decode()
    assert 'data-testid="generic-format"' in body
    assert "workload_kind" in body and "fingerprint" in body


def test_integration_rotate_confirms_then_replaces_the_url(org, client_for, make_hook, in_schema):
    hook = make_hook(org, "generic")
    client = client_for(org.owner, org)
    path = f"/integrations/{hook.integration.pk}/rotate/"

    confirm = client.get(path)
    assert confirm.status_code == 200 and "Rotate the token" in confirm.content.decode()
    page = _revealed(client, client.post(path))

    new_url = _url_on(page)
    assert hook.token not in new_url
    assert "The previous URL has stopped working" in page.content.decode()
    assert hook.post(GENERIC).status_code == 404  # the old URL
    assert _post_url(new_url, GENERIC).status_code == 202
    new_token = new_url.rstrip("/").rsplit("/", 1)[1]
    assert new_token not in client.get(f"/integrations/{hook.integration.pk}/").content.decode()


# --- shown once: post/redirect/get ------------------------------------------------------------


def test_integration_create_reload_shows_nothing_and_creates_nothing(org, other_org, client_for, in_schema):
    # given: an admin created an integration and saw its URL on the reveal page
    client = client_for(org.owner, org)
    response = _create(client, name="prod AM")
    with in_schema(org):
        assert Integration.objects.count() == 1
    token = _url_on(_revealed(client, response)).rstrip("/").rsplit("/", 1)[1]
    # when: the page is reloaded (a GET: the browser never re-sends the POST)
    again = client.get(response["Location"])
    # then: the URL is not shown again, the page says how to get a new one, and nothing was created
    body = again.content.decode()
    assert again.status_code == 200 and no_store(again)
    assert token not in body and 'data-testid="webhook-url"' not in body
    assert "already shown" in body and 'data-testid="secret-gone"' in body
    with in_schema(org):
        integration = Integration.objects.get()
    assert f'href="/integrations/{integration.pk}/rotate/"' in body
    with in_schema(org):
        assert Integration.objects.count() == 1
    with in_schema(other_org):
        assert not Integration.objects.exists()


def test_integration_reveal_keeps_no_plaintext_in_the_session(org, client_for):
    client = client_for(org.owner, org)
    response = _create(client, name="prod AM")
    stored = json.dumps(dict(client.session.items()))
    token = _url_on(_revealed(client, response)).rstrip("/").rsplit("/", 1)[1]
    assert token not in stored


def test_integration_reveal_is_bound_to_the_session_and_the_organization(
    org, other_org, client_for, make_member, make_hook, in_schema
):
    # given: an admin's pending reveal
    client = client_for(org.owner, org)
    response = _create(client, name="prod AM")
    location = response["Location"]
    _pk, key = REVEAL.match(location).groups()
    make_hook(other_org, "generic")  # the other organization has integrations of its own
    # then: another admin of the same organization (another session) gets 404
    colleague = client_for(make_member(org, "admin"), org)
    assert colleague.get(location).status_code == 404
    # another organization's owner: 403 on this host, 404 on their own
    assert client_for(other_org.owner, org).get(location).status_code == 403
    assert client_for(other_org.owner, other_org).get(location).status_code == 404
    # the key does not open another integration of the same organization either
    other = make_hook(org, "generic").integration
    assert client.get(f"/integrations/{other.pk}/reveal/{key}/").status_code == 404
    # none of this used up the reveal: its owner still sees the URL, once
    assert _url_on(client.get(location))
    with in_schema(org):
        assert Integration.objects.count() == 2


def test_integration_rotate_reload_does_not_rotate_again(org, client_for, make_hook, in_schema):
    hook = make_hook(org, "generic")
    client = client_for(org.owner, org)
    response = client.post(f"/integrations/{hook.integration.pk}/rotate/")
    new_url = _url_on(_revealed(client, response))
    with in_schema(org):
        rotated_hash = Integration.objects.get().token_hash

    again = client.get(response["Location"])

    assert again.status_code == 200 and no_store(again)
    assert new_url not in again.content.decode() and "already shown" in again.content.decode()
    with in_schema(org):
        assert Integration.objects.get().token_hash == rotated_hash != hook.integration.token_hash
    assert _post_url(new_url, GENERIC).status_code == 202


def test_integration_reveal_needs_configure(org, client_for, make_member, make_hook):
    hook = make_hook(org, "generic")
    path = f"/integrations/{hook.integration.pk}/reveal/{'k' * 22}/"
    assert client_for(make_member(org, "member"), org).get(path).status_code == 403
    assert client_for(org.owner, org).get(path).status_code == 404  # no such reveal


def test_integration_toggle_disables_and_enables(org, client_for, make_hook, in_schema):
    hook = make_hook(org, "generic")
    client = client_for(org.owner, org)
    path = f"/integrations/{hook.integration.pk}/toggle/"

    response = client.post(path, {"enabled": "0"})
    assert response.status_code == 302
    assert hook.post(GENERIC).status_code == 404
    assert "disabled" in client.get(response["Location"]).content.decode()

    client.post(path, {"enabled": "1"})
    assert hook.post(GENERIC).status_code == 202
    assert client.get(path).status_code == 405  # a change needs POST


def test_integration_delete_keeps_signals(org, client_for, make_hook, in_schema):
    hook = make_hook(org, "generic")
    signal_id = hook.post(GENERIC).json()["signals"][0]["id"]
    client = client_for(org.owner, org)
    path = f"/integrations/{hook.integration.pk}/delete/"

    confirm = client.get(path).content.decode()
    assert "are kept" in confirm
    response = client.post(path)

    assert response.status_code == 302 and response["Location"] == "/integrations/"
    with in_schema(org):
        assert not Integration.objects.exists()
        assert Signal.objects.filter(pk=signal_id, integration=None).exists()
        assert RawPayload.objects.count() == 1
    assert hook.post(GENERIC).status_code == 404
    detail = client.get(f"/alerts/{signal_id}/").content.decode()
    assert "PortalTest" in detail and "integration deleted" in detail
    assert "PortalTest" in client.get("/alerts/").content.decode()


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "datadog", "cloudwatch", "generic"])
def test_integration_test_alert_creates_a_signal(org, other_org, client_for, make_hook, in_schema, source):
    hook = make_hook(org, source, cluster_name="prod-eu")
    client = client_for(org.owner, org)

    response = client.post(f"/integrations/{hook.integration.pk}/test/")

    assert response.status_code == 302
    signal_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert response["Location"] == f"/alerts/{signal_id}/"
    with in_schema(org):
        signal = Signal.objects.get(pk=signal_id)
        assert signal.labels["opsworker_test"] == "true"
        assert (signal.source, signal.status, signal.namespace, signal.cluster) == (
            source,
            "firing",
            "opsworker-test",
            "prod-eu",
        )
        assert signal.decision == "record"  # about the pipeline: never investigates the made-up pod
        assert not signal.investigations.exists()
        assert signal.first_payload.note.startswith("test alert sent from the portal by owner@alpha.test")
        assert Integration.objects.get(pk=hook.integration.pk).deliveries_total == 1
    detail = client.get(response["Location"]).content.decode()
    assert "test alert" in detail and "Test alert sent through" in detail
    assert str(signal.alertname) in client.get("/alerts/").content.decode()
    assert (
        str(signal.alertname) not in client_for(other_org.owner, other_org).get("/alerts/").content.decode()
    )


def test_integration_test_alert_twice_makes_two_alerts(org, client_for, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    client = client_for(org.owner, org)
    first = client.post(f"/integrations/{hook.integration.pk}/test/")["Location"]
    second = client.post(f"/integrations/{hook.integration.pk}/test/")["Location"]
    assert first != second
    with in_schema(org):
        assert Signal.objects.count() == 2


# --- management command ----------------------------------------------------------------------


def test_create_integration_command_prints_a_working_url(org, other_org, in_schema):
    out = io.StringIO()
    call_command(
        "create_integration",
        "--org",
        org.organization.slug,
        "--source",
        "generic",
        "--name",
        "cli",
        "--bearer",
        "cli-bearer-1",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert printed["auth"] == AuthKind.BEARER
    assert _post_url(printed["webhook_url"], GENERIC).status_code == 401
    response = _post_url(printed["webhook_url"], GENERIC, HTTP_AUTHORIZATION="Bearer cli-bearer-1")
    assert response.status_code == 202
    with in_schema(other_org):
        assert not Integration.objects.exists()


def test_integration_actions_need_the_csrf_token(org, make_hook, in_schema):
    hook = make_hook(org, "generic")
    client = Client(HTTP_HOST=org.domain, enforce_csrf_checks=True)
    client.force_login(org.owner)
    form = client.get(f"/integrations/{hook.integration.pk}/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in form
    for action in ("rotate", "toggle", "delete", "test"):
        assert client.post(f"/integrations/{hook.integration.pk}/{action}/").status_code == 403, action
    assert (
        client.post("/integrations/new/", {"name": "x", "source": "generic", "auth_kind": "none"}).status_code
        == 403
    )
    with in_schema(org):
        assert Integration.objects.get().token_hash == hook.integration.token_hash
        assert Integration.objects.count() == 1
