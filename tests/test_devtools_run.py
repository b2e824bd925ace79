"""`make run`'s supervisor: ports from `.env` like the settings, and a crashed child is restarted
while the others keep running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from opsworker.devtools.run import Supervisor

ROOT = Path(__file__).resolve().parent.parent
PORT_VARIABLES = (
    "OPSWORKER_HOST",
    "OPSWORKER_PORT",
    "OPSWORKER_DEMO_SIMULATOR_PORT",
    "OPSWORKER_DEMO_SIMULATOR_URL",
    "OPSWORKER_DEMO_PORTAL_URL_INTERNAL",
    "OPSWORKER_DEMO_PORTAL_HOST",
)


def _configuration(tmp_path: Path, dotenv: str, **environ: str) -> dict:
    """What run.py would start with, computed in a fresh interpreter (loading .env changes os.environ)."""
    (tmp_path / ".env").write_text(dotenv)
    env = {k: v for k, v in os.environ.items() if k not in PORT_VARIABLES}
    env.update(environ)
    code = (
        "import json, sys; from pathlib import Path; from opsworker.devtools.run import configuration; "
        "c = configuration(Path(sys.argv[1])); "
        "print(json.dumps({'port': c['port'], 'host': c['host'], "
        "**{k: c['env'].get(k) for k in sys.argv[2:]}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / ".env"), *PORT_VARIABLES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def test_devtools_run_reads_ports_from_dotenv(tmp_path):
    config = _configuration(tmp_path, "OPSWORKER_PORT=8300\nOPSWORKER_DEMO_SIMULATOR_PORT='8301'\n")
    assert config["port"] == "8300"
    assert config["OPSWORKER_DEMO_SIMULATOR_URL"] == "http://127.0.0.1:8301"
    assert config["OPSWORKER_DEMO_PORTAL_URL_INTERNAL"] == "http://127.0.0.1:8300"
    assert config["OPSWORKER_DEMO_PORTAL_HOST"] == "demo.localhost:8300"


def test_devtools_run_environment_wins_over_dotenv(tmp_path):
    config = _configuration(tmp_path, "OPSWORKER_PORT=8300\n", OPSWORKER_PORT="8400")
    assert config["port"] == "8400"
    assert config["OPSWORKER_DEMO_PORTAL_HOST"] == "demo.localhost:8400"
    assert config["OPSWORKER_DEMO_SIMULATOR_URL"] == "http://127.0.0.1:8001"


def test_devtools_supervisor_restarts_a_crashed_child_and_keeps_the_others(tmp_path):
    # given a child that crashes at once and one that keeps running
    lines: list[str] = []
    supervisor = Supervisor(
        [
            ("flaky", [sys.executable, "-c", "print('flaky up'); raise SystemExit(3)"], dict(os.environ)),
            ("steady", [sys.executable, "-c", "import time; time.sleep(120)"], dict(os.environ)),
        ],
        write=lines.append,
        backoff_first=0.2,
        backoff_max=0.5,
    )
    runner = threading.Thread(target=supervisor.run, daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum("starting flaky again" in line for line in lines) < 2:
            time.sleep(0.1)
        steady = next(c for c in supervisor.children if c.name == "steady")
        # then the crashed one was restarted, twice, and said so; the other was never stopped
        assert sum("starting flaky again" in line for line in lines) >= 2, lines
        assert any("flaky exited with code 3" in line and "restarting it in" in line for line in lines)
        assert sum("flaky up" in line for line in lines) >= 2
        assert steady.process.poll() is None and steady.restarts == 0
    finally:
        supervisor.stop()
        runner.join(timeout=20)
    # and stopping ends every child
    assert all(c.process.poll() is not None for c in supervisor.children)
    assert lines[-1] == "[run] stopped\n"


def test_links_use_the_port_make_run_binds_unless_told_otherwise():
    # ensure_demo printed "open: http://demo.localhost:8000/" while make run served 8400.
    def link_port(**environ: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("OPSWORKER_PORT", "OPSWORKER_URL_PORT")}
        env.update(environ, DJANGO_SETTINGS_MODULE="opsworker.settings.dev")
        code = "from django.conf import settings; print(settings.PUBLIC_URL_PORT)"
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert link_port(OPSWORKER_PORT="8400") == "8400"
    assert link_port(OPSWORKER_PORT="8400", OPSWORKER_URL_PORT="443") == "443"
