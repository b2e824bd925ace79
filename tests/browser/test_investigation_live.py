"""Acceptance 1 and 5 in real Chromium: an alert fires, a real worker investigates through the real
agent and the cluster simulator, and the open pages fill in live (steps, topology, root cause)
without a reload; a reload mid-way loses and duplicates nothing. Takes the page's screenshot."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.conftest import screenshot_path, sign_in
from tests.conftest import PASSWORD
from tests.integration.conftest import run_worker  # noqa: F401 - reused fixture
from tests.integration.test_investigation_end_to_end import SCENARIO, connected_cluster  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.integration]


STAGES = ["extract", "topology", "collect", "analyze", "recommend"]


def _stage_ids(page) -> list[str]:
    return page.locator("[data-testid=step]").evaluate_all("rows => rows.map(r => r.id)")


def test_investigation_page_fills_in_live(
    committed,
    live_server_url,
    new_page,
    connected_cluster,  # noqa: F811 - the imported fixture
    run_worker,  # noqa: F811 - the imported fixture
    clean_queues,
):
    from alerts.models import Integration, RawPayload, Rule, RuleChange, Signal
    from alerts.services.integrations import integration_create
    from alerts.services.rules import rule_create
    from investigations.feedback import InvestigationFeedback
    from investigations.models import Investigation

    alpha = committed["alpha"]
    base = live_server_url.replace("127.0.0.1", alpha.domain)
    with schema_context(alpha.schema):
        hook = integration_create(name="browser prometheus", source="alertmanager")
        rule_create(
            data={
                "name": "Investigate production",
                "action": "investigate",
                "target_cluster": connected_cluster.name,
                "conditions": [{"field": "namespace", "operator": "exists"}],
            },
            author=alpha.owner.email,
        )
    worker = None
    try:
        # given an engineer watching the investigations list
        listing = new_page()
        sign_in(listing, base, alpha.owner.email, PASSWORD)
        listing.goto(f"{base}/investigations/")
        expect(listing.locator(".live-dot.on").first).to_be_visible()

        # when an alert fires and matches the investigate rule
        response = httpx.post(
            f"{live_server_url}/hooks/alertmanager/{hook.token}/",
            content=(SCENARIO / "alert.json").read_bytes(),
            headers={"Host": alpha.domain, "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        investigation_id = response.json()["investigations"][0]

        # and they open its page before any worker has picked it up
        page = listing.context.new_page()
        page.goto(f"{base}/investigations/{investigation_id}/")
        expect(page.locator("#investigation-header")).to_have_attribute("data-status", "pending")
        expect(page.locator("[data-testid=step][data-status=waiting]")).to_have_count(5)
        expect(page.locator(".inv-page .live-dot.on").first).to_be_visible()

        # then a real worker runs it while the browser watches
        outcome = {}
        worker = threading.Thread(
            target=lambda: outcome.update(run=run_worker(queues=("investigations", "default"))), daemon=True
        )
        worker.start()

        # the steps stream in without a reload
        expect(page.locator("#step-extract")).to_have_attribute("data-status", "ok", timeout=60_000)
        # a reload mid-way shows everything so far (from the database) and keeps following
        page.reload()
        assert _stage_ids(page) == [f"step-{stage}" for stage in STAGES]
        expect(page.locator("#step-extract")).to_have_attribute("data-status", "ok")

        # the topology and the root cause appear live
        expect(page.locator("[data-testid=topology-svg]")).to_be_visible(timeout=90_000)
        expect(page.locator("[data-testid=root-cause-category]")).to_have_text(
            "Out of memory (OOMKilled)", timeout=90_000
        )
        expect(page.locator("#investigation-header")).to_have_attribute("data-status", "completed")
        for stage in STAGES:
            expect(page.locator(f"#step-{stage}")).to_have_attribute("data-status", "ok")
        # nothing duplicated by the live fragments after the reload
        assert _stage_ids(page) == [f"step-{stage}" for stage in STAGES]
        assert page.locator("#root-cause").count() == 1 and page.locator("#topology").count() == 1
        root = page.locator(".topo-node.is-root")
        expect(root).to_have_count(1)
        # the primary root-cause resource of whichever OOM scenario the suite runs (shared or ours)
        expected = json.loads((SCENARIO / "expected.json").read_text())
        primary = next(r for r in expected["root_cause_resources"] if r.get("role") == "primary")
        expect(root).to_have_attribute("data-name", primary["name"])
        expect(page.locator(".topo-node.is-alerting")).to_have_count(1)
        # the page finished live: re-run is enabled and the feedback form loaded for this member
        expect(page.locator("[data-testid=rerun]")).to_be_enabled()
        expect(page.locator("[data-testid=feedback-submit]")).to_be_visible()
        # citations jump to their evidence
        first_cite = page.locator("[data-testid=explanation] a.cite").first
        target = first_cite.get_attribute("href")
        first_cite.click()
        expect(page.locator(target)).to_be_in_viewport()
        # a node opens what was collected about it
        root.click()
        panel_id = root.get_attribute("href").lstrip("#")
        expect(page.locator(f"#{panel_id}")).to_be_visible()
        expect(page.locator(f"#{panel_id}")).to_contain_text(primary["name"])

        # the list the engineer left open shows the new investigation, completed, without a reload
        row = listing.locator(f"#investigation-row-{investigation_id}")
        expect(row).to_have_attribute("data-status", "completed", timeout=30_000)
        expect(listing.locator(f"#investigation-row-{investigation_id}")).to_have_count(1)

        # the catch-up a reconnecting socket receives, applied once more, changes nothing
        page.evaluate(
            "url => htmx.ajax('GET', url, {source: document.body, swap: 'none'})",
            f"/investigations/{investigation_id}/live/",
        )
        expect(page.locator("#investigation-header")).to_have_attribute("data-status", "completed")
        assert _stage_ids(page) == [f"step-{stage}" for stage in STAGES]
        for section in ("#investigation-header", "#root-cause", "#recommendations", "#topology", "#evidence"):
            assert page.locator(section).count() == 1, section
        expect(page.locator(".topo-node.is-root")).to_have_count(1)

        # a fresh load of the completed page is identical in structure, and feedback works
        page.goto(f"{base}/investigations/{investigation_id}/")
        assert _stage_ids(page) == [f"step-{stage}" for stage in STAGES]
        page.locator("input[name=rating][value=accurate]").check()
        page.fill("textarea[name=comment]", "Spot on: the FINOPS right-sizing halved the limit.")
        page.click("[data-testid=feedback-submit]")
        expect(page.locator("[data-testid=feedback-item]")).to_have_count(1)
        expect(page.locator(".fb-saved")).to_be_visible()
        page.evaluate("window.scrollTo(0, 0)")
        page.goto(f"{base}/investigations/{investigation_id}/")
        page.screenshot(path=str(screenshot_path("investigation.png")), full_page=True)

        worker.join(timeout=120)
        assert outcome["run"].returncode == 0, outcome["run"].stderr[-3000:]
    finally:
        if worker is not None:
            worker.join(timeout=120)
        with schema_context(alpha.schema):
            InvestigationFeedback.objects.all().delete()
            Investigation.objects.all().delete()
            Signal.objects.all().delete()
            RawPayload.objects.all().delete()
            Integration.objects.filter(pk=hook.integration.pk).delete()
            RuleChange.objects.all().delete()
            Rule.objects.all().delete()
