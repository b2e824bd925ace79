"""A scenario lab: the real portal gateway, the real agent process and the cluster simulator, so a
scenario folder can be investigated exactly as production would (`manage.py investigate_scenario`).

The lab organization `scenario-lab` holds one cluster whose agent talks to a uvicorn serving this
project on a free loopback port; the simulator is swapped from scenario to scenario in place.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from agent.simulator import start_simulator
from agent.simulator.timeshift import offset_to_now, parse_time, shift
from alerts.models import Integration, Signal, Source
from alerts.services.integrations import integration_create, integration_rotate_token
from clusters.models import Cluster
from clusters.services import cluster_create, cluster_set_token
from investigations.models import Investigation
from investigations.runner import run_investigation_now
from investigations.services import investigation_for_signal
from tenants.services import organization_setup, public_tenant_ensure

ROOT = Path(settings.BASE_DIR)
LAB_SLUG = "scenario-lab"
LAB_CLUSTER = "scenario-lab"
SOURCES = (Source.ALERTMANAGER, Source.GRAFANA, Source.DATADOG, Source.CLOUDWATCH)


class LabError(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScenarioLab:
    def __init__(self, *, startup_seconds: float = 60):
        self.startup_seconds = startup_seconds
        self.processes: list[subprocess.Popen] = []
        self.simulator = None
        self.schema = ""
        self.last_rejected: list[dict] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> ScenarioLab:
        public_tenant_ensure(domain=settings.BASE_DOMAIN)
        setup = organization_setup(
            name="Scenario lab",
            slug=LAB_SLUG,
            domain=f"{LAB_SLUG}.{settings.BASE_DOMAIN}",
            owner_email=f"lab@{LAB_SLUG}.invalid",
        )
        self.schema = setup.organization.schema_name
        self.domain = setup.domain.domain
        token = secrets.token_urlsafe(32)
        with schema_context(self.schema):
            cluster = Cluster.objects.filter(name=LAB_CLUSTER).first()
            if cluster is None:
                cluster = cluster_create(name=LAB_CLUSTER, created_by="investigate_scenario").cluster
            cluster_set_token(cluster=cluster, token=token)
            Cluster.objects.filter(pk=cluster.pk).update(last_seen_at=None)
            # One integration per source; a fresh URL token each run (tokens are stored hashed).
            self.hook_tokens = {source: self._hook_token(source) for source in SOURCES}
        self.cluster_id = cluster.pk
        try:
            self.simulator = start_simulator(None)
            self._start_web()
            self._start_agent(token)
            self._wait_connected()
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None

    @staticmethod
    def _hook_token(source: str) -> str:
        name = f"scenario lab {source}"
        integration = Integration.objects.filter(name=name).first()
        if integration is None:
            return integration_create(
                name=name,
                source=source,
                cluster_name=LAB_CLUSTER,
                # CloudWatch scenarios carry SNS envelopes signed by nobody: their Message is
                # posted as SNS raw delivery, which the integration must allow.
                allow_raw_delivery=source == Source.CLOUDWATCH,
            ).token
        return integration_rotate_token(integration=integration).token

    def _env(self) -> dict[str, str]:
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return dict(
            os.environ,
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "opsworker.settings.dev"),
            DATABASE_URL=f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            OPSWORKER_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )

    def _start_web(self) -> None:
        self.port = _free_port()
        self.portal = f"http://127.0.0.1:{self.port}"
        (ROOT / ".run").mkdir(exist_ok=True)
        log = open(ROOT / ".run" / "scenario-lab-web.log", "w")  # noqa: SIM115 (kept open while the process runs)
        self.processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "opsworker.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--lifespan",
                    "off",
                    "--no-access-log",
                    "--ws",
                    "websockets-sansio",
                ],
                cwd=ROOT,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.portal}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise LabError("the lab's web server did not start; see .run/scenario-lab-web.log")

    def _start_agent(self, token: str) -> None:
        env = self._env()
        env.update(
            OPSWORKER_PORTAL_URL=self.portal,
            OPSWORKER_PORTAL_HOST=f"{self.domain}:{self.port}",
            OPSWORKER_CLUSTER_TOKEN=token,
            OPSWORKER_KUBE_API_URL=self.simulator.url,
            OPSWORKER_POLL_WAIT_SECONDS="10",
            OPSWORKER_HEARTBEAT_SECONDS="5",
        )
        log = open(ROOT / ".run" / "scenario-lab-agent.log", "w")  # noqa: SIM115
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "agent"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        )

    def _wait_connected(self) -> None:
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            with schema_context(self.schema):
                if Cluster.objects.get(pk=self.cluster_id).is_connected:
                    return
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.2)
        raise LabError(
            "the agent did not connect; see .run/scenario-lab-agent.log and .run/scenario-lab-web.log"
        )

    # -- investigating ---------------------------------------------------------------------------

    def investigate(self, folder: str | Path, source: str | None = None) -> tuple[Investigation, float]:
        """Load the scenario into the simulator, post its alert to the lab's webhook for `source`
        (default: the scenario's `alert_source`, else Alertmanager), and investigate its first
        firing alert as a rule would open it: the runner reads the rest of the delivery's group."""
        folder = Path(folder)
        source = source or scenario_source(folder)
        if source not in SOURCES:
            raise LabError(f"{folder.name}: unknown alert source {source!r}; use one of {', '.join(SOURCES)}")
        # As production sees it: the scenario's capture (and its alert) happened now, so "changed
        # 9 minutes ago" is measured against the real clock.
        cluster = self.simulator.load(str(folder.resolve()), shift_to_now=True)
        offset = offset_to_now(
            cluster.capture.get("originalCapturedAt"), parse_time(cluster.capture.get("capturedAt", ""))
        )
        started = time.perf_counter()
        signal_ids = self._post_alert(folder, source, offset)
        with schema_context(self.schema):
            signals = list(Signal.objects.filter(pk__in=signal_ids).order_by("pk"))
            firing = [s for s in signals if s.status == "firing"] or signals
            if not firing:
                raise LabError(f"{folder.name}: alert.json holds no alert")
            investigation = investigation_for_signal(
                firing[0], cluster=LAB_CLUSTER, trigger="manual", requested_by="investigate_scenario"
            )
            investigation.save()
            finished = run_investigation_now(investigation.pk)
        return finished, time.perf_counter() - started

    def _post_alert(self, folder: Path, source: str, offset: timedelta | None) -> list[int]:
        """POST alert.json through the real webhook (adapters, ingestion, rules); the stored signal ids.

        Its timestamps move by the scenario's `offset`, like the cluster's."""
        payload = json.loads((folder / "alert.json").read_bytes())
        headers = {"Host": f"{self.domain}:{self.port}", "Content-Type": "application/json"}
        if (
            source == Source.CLOUDWATCH
            and isinstance(payload, dict)
            and payload.get("Type") == "Notification"
        ):
            message = payload.get("Message") or ""
            payload = json.loads(message) if isinstance(message, str) and message.startswith("{") else message
            headers["x-amz-sns-rawdelivery"] = "true"
        if offset is not None:
            payload = shift(payload, offset)
        body = json.dumps(payload).encode() if not isinstance(payload, str) else payload.encode()
        url = f"{self.portal}/hooks/{source}/{self.hook_tokens[source]}/"
        response = httpx.post(url, content=body, headers=headers, timeout=30)
        if response.status_code != 202:
            raise LabError(
                f"{folder.name}: the {source} webhook answered {response.status_code}: {response.text[:300]}"
            )
        answer = response.json()
        if answer.get("rejected"):
            raise LabError(f"{folder.name}: the {source} webhook rejected alerts: {answer['rejected']}")
        return [item["id"] for item in answer.get("signals", [])]


def scenario_source(folder: Path) -> str:
    """The format of a scenario's alert.json: `alert_source` in expected.json, else Alertmanager."""
    expected = folder / "expected.json"
    if expected.is_file():
        return json.loads(expected.read_text()).get("alert_source") or Source.ALERTMANAGER
    return Source.ALERTMANAGER
