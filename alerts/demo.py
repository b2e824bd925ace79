"""The demo organization's "Fire a sample incident": load a scenario into the simulated cluster and
post its alert through the real webhook, so a newcomer watches a real investigation run.

Enabled only when `make run` tells the portal where the demo simulator listens
(OPSWORKER_DEMO_SIMULATOR_URL) and only for the demo organization.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from django.conf import settings

from tenants.jobs import tenant_job

logger = logging.getLogger(__name__)

SCENARIOS = Path(settings.BASE_DIR) / "agent" / "simulator" / "scenarios"
INTEGRATION_TOKEN_FILE = Path(settings.BASE_DIR) / ".run" / "demo-integration-token"


def demo_enabled(organization) -> bool:
    return bool(settings.DEMO_SIMULATOR_URL) and organization is not None and organization.slug == "demo"


def demo_scenarios() -> list[dict[str, str]]:
    """The bundled scenarios a newcomer can fire: slug and a one-line story."""
    rows = []
    for folder in sorted(SCENARIOS.iterdir()):
        expected = folder / "expected.json"
        if not (folder / "cluster.json").is_file() or not expected.is_file():
            continue
        data = json.loads(expected.read_text())
        rows.append(
            {
                "slug": folder.name,
                "category": data.get("root_cause_category", ""),
                "summary": (data.get("summary") or "")[:160],
            }
        )
    return rows


class DemoError(Exception):
    pass


def fresh_alert(folder: Path) -> bytes:
    """The scenario's alert as a new episode: new fingerprints, starting now."""
    alert = json.loads((folder / "alert.json").read_text())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for item in alert.get("alerts") or []:
        item["startsAt"] = now
        item["fingerprint"] = uuid.uuid4().hex[:16]
    return json.dumps(alert).encode()


@tenant_job
def fire_sample_incident(schema_name: str, slug: str) -> dict:
    """Job: load `slug` into the demo simulator, then post its alert to the demo webhook."""
    folder = SCENARIOS / slug
    if slug not in {row["slug"] for row in demo_scenarios()}:
        raise DemoError(f"unknown scenario {slug!r}")
    load = httpx.post(
        f"{settings.DEMO_SIMULATOR_URL}/_simulator/load",
        # Captured now: a change 41 minutes before the alert reads as 41 minutes, not 552 days.
        json={"scenario": str(folder), "shift_to_now": True},
        timeout=10,
    )
    if load.status_code != 200:
        raise DemoError(f"the simulator refused the scenario: {load.text[:300]}")
    token = INTEGRATION_TOKEN_FILE.read_text().strip()
    response = httpx.post(
        f"{settings.DEMO_PORTAL_URL}/hooks/alertmanager/{token}/",
        content=fresh_alert(folder),
        headers={"Content-Type": "application/json", "Host": settings.DEMO_PORTAL_HOST},
        timeout=10,
    )
    logger.info("alerts.demo.fired", extra={"scenario": slug, "status": response.status_code})
    return {"scenario": slug, "status": response.status_code, "body": response.json()}
