"""`make run`: web server, worker and scheduler in the foreground; Ctrl-C stops them all.

A tiny supervisor: it starts each process with its output prefixed, and when one of them exits
(or on Ctrl-C / SIGTERM) it stops the others and exits with that process's code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable


def processes(host: str, port: str) -> list[tuple[str, list[str]]]:
    from opsworker.devtools import demo_cluster

    return [
        (
            "web",
            [
                PYTHON,
                "-m",
                "uvicorn",
                "opsworker.asgi:application",
                "--host",
                host,
                "--port",
                port,
                "--ws",
                "websockets-sansio",
                "--no-access-log",
                "--lifespan",
                "off",
            ],
        ),
        (
            "worker",
            [
                PYTHON,
                "manage.py",
                "rqworker",
                "investigations",
                "notifications",
                "default",
                "--with-scheduler",
            ],
        ),
        ("scheduler", [PYTHON, "manage.py", "rqcron", "opsworker.cron"]),
        # The demo organization's simulated cluster and its real agent.
        *demo_cluster.processes(),
    ]


def _pump(name: str, stream) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:>9} | {line}")
        sys.stdout.flush()


def main() -> int:
    host = os.environ.get("OPSWORKER_HOST", "127.0.0.1")
    port = os.environ.get("OPSWORKER_PORT", "8000")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "opsworker.settings.dev")
    # "Fire a sample incident" on the demo's Alerts page reaches the simulator and our own webhook.
    env.setdefault(
        "OPSWORKER_DEMO_SIMULATOR_URL", f"http://127.0.0.1:{env.get('OPSWORKER_DEMO_SIMULATOR_PORT', '8001')}"
    )
    env.setdefault("OPSWORKER_DEMO_PORTAL_URL_INTERNAL", f"http://127.0.0.1:{port}")
    env.setdefault("OPSWORKER_DEMO_PORTAL_HOST", f"demo.localhost:{port}")
    running: dict[str, subprocess.Popen] = {}
    for name, command in processes(host, port):
        # The web process gets a bounded connection pool; forking workers must not share one.
        proc_env = (
            dict(env, DATABASE_POOL_MAX_SIZE=env.get("DATABASE_POOL_MAX_SIZE", "20"))
            if name == "web"
            else env
        )
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=proc_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # our Ctrl-C handling stops them in order
        )
        running[name] = proc
        threading.Thread(target=_pump, args=(name, proc.stdout), daemon=True).start()

    stopping = threading.Event()

    def stop(*_args) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping.is_set():
        for name, proc in running.items():
            if proc.poll() is not None:
                print(f"[run] {name} exited with code {proc.returncode}; stopping the others", flush=True)
                code = proc.returncode or 1
                stopping.set()
                break
        time.sleep(0.3)

    for proc in running.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in running.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("[run] stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
