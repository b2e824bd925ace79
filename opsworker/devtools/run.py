"""`make run`: web server, worker and scheduler in the foreground; Ctrl-C stops them all.

A tiny supervisor: it starts each process with its output prefixed; when one of them exits it is
started again after a growing pause (1 s, 2 s, 4 s ... 30 s; back to 1 s once it has run for a
minute), and says so, while the others keep running. Ctrl-C / SIGTERM stops everything.

Ports come from the environment, then `.env` (the same rules as the settings: what is already
in the environment wins), so the URL printed here is the one the server binds.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from opsworker.devtools import demo_cluster

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
HEALTHY_AFTER_SECONDS = 60.0


def load_dotenv(path: Path = ROOT / ".env") -> None:
    """Fill os.environ from `.env` without overriding what is already set (as the settings do)."""
    from opsworker.env import _load_dotenv  # importing opsworker.env loads the default .env: only on demand

    _load_dotenv(path)


def processes(host: str, port: str) -> list[tuple[str, list[str]]]:
    return [
        (
            "web",
            # uvicorn with deadlines for the request head and body, trusting no forwarded headers
            # of its own (opsworker/serve.py).
            [PYTHON, "-m", "opsworker.serve", "--host", host, "--port", port],
        ),
        (
            "worker",
            [
                PYTHON,
                "manage.py",
                "rqworker",
                "maintenance",  # first: the sweeper is never starved by an investigations backlog
                "investigations",
                "notifications",
                "default",
                "--with-scheduler",
            ],
        ),
        # RQ's cron scheduler that waits out Redis outages (opsworker/scheduler.py).
        ("scheduler", [PYTHON, "-m", "opsworker.scheduler"]),
        # The demo organization's simulated cluster and its real agent.
        *demo_cluster.processes(),
    ]


def _pump(name: str, stream, write: Callable[[str], None]) -> None:
    for line in iter(stream.readline, ""):
        write(f"{name:>9} | {line}")


@dataclasses.dataclass
class Child:
    name: str
    command: list[str]
    env: dict
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None


class Supervisor:
    """Runs children, restarts any that exits (with backoff) until stop() is called."""

    def __init__(
        self,
        children: list[tuple[str, list[str], dict]],
        *,
        write: Callable[[str], None] | None = None,
        backoff_first: float = BACKOFF_FIRST_SECONDS,
        backoff_max: float = BACKOFF_MAX_SECONDS,
        healthy_after: float = HEALTHY_AFTER_SECONDS,
    ) -> None:
        self.children = [Child(name, command, env) for name, command, env in children]
        self.write = write or self._stdout
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.healthy_after = healthy_after
        self.stopping = threading.Event()

    @staticmethod
    def _stdout(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def say(self, text: str) -> None:
        self.write(f"[run] {text}\n")

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.command,
            cwd=ROOT,
            env=child.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # our Ctrl-C handling stops them in order
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        threading.Thread(
            target=_pump, args=(child.name, child.process.stdout, self.write), daemon=True
        ).start()

    def _check(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self.say(f"starting {child.name} again (restart {child.restarts})")
                self._start(child)
            return
        code = child.process.poll() if child.process else None
        if code is None:
            return
        ran = now - child.started_at
        child.failures_in_a_row = 1 if ran >= self.healthy_after else child.failures_in_a_row + 1
        pause = min(self.backoff_first * 2 ** (child.failures_in_a_row - 1), self.backoff_max)
        self.say(
            f"{child.name} exited with code {code} after {ran:.0f} s; restarting it in {pause:.0f} s "
            "(the other processes keep running)"
        )
        child.restart_at = now + pause

    def run(self) -> int:
        for child in self.children:
            self._start(child)
        while not self.stopping.wait(0.3):
            for child in self.children:
                self._check(child)
        self._stop_all()
        return 0

    def stop(self, *_args) -> None:
        self.stopping.set()

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.say("stopped")


def configuration(dotenv: Path = ROOT / ".env") -> dict:
    """Host, port and the environment for the children, after `.env` is loaded."""
    load_dotenv(dotenv)
    host = os.environ.get("OPSWORKER_HOST", "127.0.0.1")
    port = os.environ.get("OPSWORKER_PORT", "8000")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "opsworker.settings.dev")
    simulator_port = env.setdefault("OPSWORKER_DEMO_SIMULATOR_PORT", "8001")
    # "Fire a sample incident" on the demo's Alerts page reaches the simulator and our own webhook.
    env.setdefault("OPSWORKER_DEMO_SIMULATOR_URL", f"http://127.0.0.1:{simulator_port}")
    env.setdefault("OPSWORKER_DEMO_PORTAL_URL_INTERNAL", f"http://127.0.0.1:{port}")
    env.setdefault("OPSWORKER_DEMO_PORTAL_HOST", f"demo.localhost:{port}")
    return {"host": host, "port": port, "env": env}


def main() -> int:
    config = configuration()
    host, port, env = config["host"], config["port"], config["env"]
    children = []
    for name, command in processes(host, port):
        # The web process gets a bounded connection pool; forking workers must not share one.
        proc_env = (
            dict(env, DATABASE_POOL_MAX_SIZE=env.get("DATABASE_POOL_MAX_SIZE", "20"))
            if name == "web"
            else env
        )
        children.append((name, command, proc_env))
    print(
        f"\n  OpsWorker is starting: open http://demo.localhost:{port}/ (Ctrl-C stops everything)\n",
        flush=True,
    )
    supervisor = Supervisor(children)
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGTERM, supervisor.stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
