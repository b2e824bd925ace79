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
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from agent.simulator import start_simulator
from alerts.models import Integration, Source
from alerts.services.ingest import RequestRecord, signals_ingest
from alerts.services.integrations import integration_create
from alerts.sources import get_adapter
from clusters.models import Cluster
from clusters.services import cluster_create, cluster_set_token
from investigations.models import Investigation
from investigations.runner import run_investigation_now
from tenants.services import organization_setup, public_tenant_ensure

ROOT = Path(settings.BASE_DIR)
LAB_SLUG = "scenario-lab"
LAB_CLUSTER = "scenario-lab"


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
            self.integration = (
                Integration.objects.filter(name="scenario lab").first()
                or integration_create(
                    name="scenario lab", source=Source.ALERTMANAGER, cluster_name=LAB_CLUSTER
                ).integration
            )
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

    def investigate(self, folder: str | Path) -> tuple[Investigation, float]:
        """Load the scenario into the simulator, ingest its alert, and investigate its first firing alert."""
        folder = Path(folder)
        self.simulator.load(str(folder.resolve()))
        body = (folder / "alert.json").read_bytes()
        alerts = get_adapter(Source.ALERTMANAGER).parse(json.loads(body), headers={})
        started = time.perf_counter()
        with schema_context(self.schema):
            result = signals_ingest(
                integration=self.integration,
                request=RequestRecord(
                    "POST",
                    "application/json",
                    {},
                    body.decode(),
                    len(body),
                    None,
                    note=f"scenario {folder.name}",
                ),
                alerts=alerts,
            )
            signals = [s for s, _o in result.signals]
            firing = [s for s in signals if s.status == "firing"] or signals
            if not firing:
                raise LabError(f"{folder.name}: alert.json holds no alert")
            signal = firing[0]
            investigation = Investigation.objects.create(
                signal=signal,
                trigger="manual",
                cluster=LAB_CLUSTER,
                namespace=signal.namespace,
                requested_by="investigate_scenario",
            )
            finished = run_investigation_now(investigation.pk)
        return finished, time.perf_counter() - started
