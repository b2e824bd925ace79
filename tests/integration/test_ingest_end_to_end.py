"""End to end over real HTTP: a webhook post to a live server, matching an `investigate` rule, yields
a signal and a pending investigation; a real worker announces it; the Alerts page of that
organization (only) shows it."""

import httpx
import pytest
from django_tenants.utils import schema_context

from alerts.models import Integration, RawPayload, Rule, RuleChange, Signal
from alerts.services.integrations import integration_create
from alerts.services.rules import rule_create
from investigations.models import Investigation
from tests.alerts.conftest import fixture_bytes
from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration


def _signed_in(base_url: str, host: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, headers={"Host": host}, follow_redirects=False, timeout=10)
    page = client.get("/accounts/login/")
    token = client.cookies.get("csrftoken")
    response = client.post(
        "/accounts/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"http://{host}/accounts/login/"},
    )
    assert page.status_code == 200 and response.status_code == 302, response.text[:500]
    return client


def test_webhook_to_alerts_page_through_real_server_and_worker(
    committed, live_server_url, run_worker, clean_queues
):
    alpha, beta = committed["alpha"], committed["beta"]
    with schema_context(alpha.schema):
        made = integration_create(name="e2e alertmanager", source="alertmanager")
        rule = rule_create(
            data={
                "name": "e2e investigate",
                "conditions": [{"field": "namespace", "operator": "exists"}],
                "action": "investigate",
            },
            author="e2e@alpha.test",
        )
    try:
        # given a real HTTP post to alpha's webhook
        response = httpx.post(
            f"{live_server_url}/hooks/alertmanager/{made.token}/",
            content=fixture_bytes("alertmanager", "single_crashloop"),
            headers={"Host": alpha.domain, "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        body = response.json()
        # then the signal and a pending investigation are stored before the 202
        with schema_context(alpha.schema):
            signal = Signal.objects.get(pk=body["signals"][0]["id"])
            investigation = Investigation.objects.get(pk=body["investigations"][0])
            assert investigation.status == "pending" and investigation.signal_id == signal.pk
        # and a real worker runs the announcement job inside alpha's schema
        worker = run_worker(queues=("default",))
        assert worker.returncode == 0, worker.stderr[-2000:]
        assert "alerts.tasks.signals_announce" in worker.stderr + worker.stdout
        # and alpha's Alerts page lists it; beta's does not, and beta stored nothing
        alpha_page = _signed_in(live_server_url, alpha.domain, alpha.owner.email).get("/alerts/")
        beta_page = _signed_in(live_server_url, beta.domain, beta.owner.email).get("/alerts/")
        assert alpha_page.status_code == beta_page.status_code == 200
        assert "KubePodCrashLooping" in alpha_page.text
        assert "KubePodCrashLooping" not in beta_page.text
        with schema_context(beta.schema):
            assert Signal.objects.count() == 0 and Investigation.objects.count() == 0
    finally:
        with schema_context(alpha.schema):
            Investigation.objects.all().delete()
            Signal.objects.all().delete()
            RawPayload.objects.all().delete()
            Integration.objects.filter(pk=made.integration.pk).delete()
            RuleChange.objects.all().delete()
            Rule.objects.filter(pk=rule.pk).delete()
