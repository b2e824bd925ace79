"""Acceptance 3 in real Chromium: an admin builds a rule with two conditions and watches the live
preview change as a condition is edited, saves it and reorders it; a viewer sees the list without
edit controls and gets 403 from every edit endpoint, the htmx partials included."""

from __future__ import annotations

import httpx
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from alerts.models import Integration, RawPayload, Rule, RuleChange, Signal
from alerts.services.integrations import integration_create
from alerts.services.rules import rule_create
from tenants.models import User
from tenants.services import membership_grant
from tests.alerts.rules.test_rule_decisions import _group
from tests.browser.conftest import screenshot_path, sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration]


VIEWER_EMAIL = "viewer-browser@alpha.test"

# In-page fetch with the page's CSRF token, so a 403 can only come from the permission check.
FETCH_ALL = """async (requests) => {
  const FORM = "name=x&action=suppress&direction=up&enabled=0&row_id=a&field=pod&key=&operator=exists&value=";
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  const results = [];
  for (const [method, path] of requests) {
    const response = await fetch(path, {
      method,
      redirect: "manual",
      headers: {
        "X-CSRFToken": token, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded",
      },
      body: method === "POST" ? FORM : undefined,
    });
    const text = await response.text();
    results.push([method, path, response.status, text.includes("your role does not allow")]);
  }
  return results;
}"""


def _post_signals(base_url: str, host: str, token: str) -> None:
    body = _group(
        *[("KubePodCrashLooping", "payments", "critical", f"api-{i}") for i in range(3)],
        *[("KubeMemoryHigh", "payments", "warning", f"mem-{i}") for i in range(2)],
        ("CPUThrottlingHigh", "shop", "info", "web-1"),
    )
    response = httpx.post(
        f"{base_url}/hooks/alertmanager/{token}/", json=body, headers={"Host": host}, timeout=10
    )
    assert response.status_code == 202, response.text


def _row_names(page) -> list[str]:
    return page.locator("[data-testid=rule-row]").evaluate_all("rows => rows.map(r => r.dataset.ruleName)")


def test_rule_editor_in_chromium(committed, live_server_url, clean_queues, new_page):
    alpha = committed["alpha"]
    base = live_server_url.replace("127.0.0.1", alpha.domain)
    with schema_context(alpha.schema):
        made = integration_create(name="browser alertmanager", source="alertmanager")
        rule_create(
            data={
                "name": "Shop noise",
                "conditions": [{"field": "namespace", "operator": "equals", "value": "shop"}],
                "action": "suppress",
            },
            author=alpha.owner.email,
        )
    viewer = User.objects.create_user(VIEWER_EMAIL, PASSWORD)
    membership_grant(user=viewer, organization=alpha.organization, role="viewer")
    try:
        # given six signals that arrived through the real webhook
        _post_signals(live_server_url, alpha.domain, made.token)

        # when an admin builds a rule with two conditions
        admin = new_page()
        sign_in(admin, base, alpha.owner.email, PASSWORD)
        admin.goto(f"{base}/rules/new/")
        admin.fill("input[name=name]", "Payments incidents")
        rows = admin.locator("[data-testid=condition-row]")
        first = rows.nth(0)
        first.locator("select[name=field]").select_option("namespace")
        first.locator("select[name=operator]").select_option("equals")
        first.locator("input[name=value]").fill("payments")
        matched = admin.locator("[data-testid=preview-matched]")
        expect(matched).to_have_text("5")

        admin.click("[data-testid=add-condition]")
        expect(rows).to_have_count(2)
        second = rows.nth(1)
        second.locator("select[name=field]").select_option("severity")
        second.locator("select[name=operator]").select_option("severity_at_least")
        second.locator("input[name=value]").fill("critical")
        # then the preview follows each edit of a condition
        expect(matched).to_have_text("3")
        second.locator("input[name=value]").fill("warning")
        expect(matched).to_have_text("5")
        second.locator("input[name=value]").fill("critical")
        expect(matched).to_have_text("3")
        expect(admin.locator("[data-testid=preview-decided]")).to_have_text("3")

        # and a bad regex is flagged at its row while typing, without saving anything
        first.locator("select[name=operator]").select_option("regex")
        first.locator("input[name=value]").fill("pay(")
        expect(first.locator("[data-testid=condition-error]")).to_have_text(
            "Invalid regular expression: missing ): pay("
        )
        expect(second.locator("[data-testid=condition-error]")).to_have_text("")
        first.locator("input[name=value]").fill("^pay")
        expect(first.locator("[data-testid=condition-error]")).to_have_text("")
        expect(matched).to_have_text("3")
        # a third row narrows the match; removing it (in the page, no reload) widens it again
        admin.click("[data-testid=add-condition]")
        expect(rows).to_have_count(3)
        rows.nth(2).locator("select[name=field]").select_option("pod")
        rows.nth(2).locator("input[name=value]").fill("api-0")
        expect(matched).to_have_text("1")
        rows.nth(2).locator("[data-remove-row]").click()
        expect(rows).to_have_count(2)
        expect(matched).to_have_text("3")
        admin.screenshot(path=str(screenshot_path("rule-editor.png")), full_page=True)

        # the same in-page fetch is allowed for the admin (so the viewer's 403s below mean something)
        allowed = admin.evaluate(FETCH_ALL, [["POST", "/rules/preview/"], ["GET", "/rules/condition-row/"]])
        assert [status for *_rest, status, _denied in allowed] == [200, 200]

        # when the admin saves, the rule is listed last; moving it up makes it first
        admin.click("[data-testid=save-rule]")
        admin.wait_for_url("**/rules/#rule-*")
        assert _row_names(admin) == ["Shop noise", "Payments incidents"]
        admin.locator("[data-rule-name='Payments incidents'] [data-testid=move-up]").click()
        admin.wait_for_load_state()
        expect(admin.locator("[data-testid=rule-row]").first).to_have_attribute(
            "data-rule-name", "Payments incidents"
        )
        admin.locator("[data-rule-name='Payments incidents'] [data-testid=move-down]").click()
        expect(admin.locator("[data-testid=rule-row]").first).to_have_attribute(
            "data-rule-name", "Shop noise"
        )
        admin.locator("[data-rule-name='Payments incidents'] [data-testid=move-up]").click()
        expect(admin.locator("[data-testid=rule-row]").first).to_have_attribute(
            "data-rule-name", "Payments incidents"
        )
        with schema_context(alpha.schema):
            saved = Rule.objects.get(name="Payments incidents")
            assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == [
                "Payments incidents",
                "Shop noise",
            ]
            assert saved.conditions == [
                {"field": "namespace", "operator": "regex", "value": "^pay"},
                {"field": "severity", "operator": "severity_at_least", "value": "critical"},
            ]

        # a viewer sees the list but no edit controls
        page = new_page()
        sign_in(page, base, VIEWER_EMAIL, PASSWORD)
        page.goto(f"{base}/rules/")
        assert _row_names(page) == ["Payments incidents", "Shop noise"]
        for control in (
            "[data-testid=new-rule]",
            "[data-testid=rule-toggle]",
            "[data-testid=move-up]",
            "[data-testid=move-down]",
            "[data-testid=import-link]",
            "a[href*='/edit/']",
            "a[href*='/delete/']",
            "form[action*='/duplicate/']",
            "form[action='/rules/default-action/']",
        ):
            expect(page.locator(control)).to_have_count(0)

        # and gets 403 from every edit endpoint, pages and htmx partials, GET and POST
        endpoints = [
            "/rules/new/",
            f"/rules/{saved.pk}/edit/",
            f"/rules/{saved.pk}/toggle/",
            f"/rules/{saved.pk}/move/",
            f"/rules/{saved.pk}/duplicate/",
            f"/rules/{saved.pk}/delete/",
            f"/rules/{saved.pk}/preview/",
            "/rules/preview/",
            "/rules/condition-row/",
            "/silences/condition-row/",
            "/silences/new/",
            "/rules/default-action/",
            "/rules/import/",
        ]
        results = page.evaluate(
            FETCH_ALL, [[method, path] for path in endpoints for method in ("GET", "POST")]
        )
        refused = [(method, path) for method, path, status, denied in results if status == 403 and denied]
        assert refused == [(method, path) for method, path, *_rest in results], results
        assert len(refused) == 2 * len(endpoints)
        with schema_context(alpha.schema):
            assert list(Rule.objects.order_by("position").values_list("name", "enabled")) == [
                ("Payments incidents", True),
                ("Shop noise", True),
            ]
    finally:
        with schema_context(alpha.schema):
            Signal.objects.all().delete()
            RawPayload.objects.all().delete()
            Integration.objects.filter(pk=made.integration.pk).delete()
            RuleChange.objects.all().delete()
            Rule.objects.all().delete()
        User.objects.filter(email=VIEWER_EMAIL).delete()
