"""Integration fixtures: committed data and a real `rqworker` process on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def committed(_orgs, django_db_blocker):
    """Database access without the per-test transaction, so other processes see the rows.

    Tests clean up what they create (the session's organizations stay).
    """
    with django_db_blocker.unblock():
        yield _orgs
        from django.db import connection

        connection.set_schema_to_public()


@pytest.fixture
def clean_queues(settings):
    """Empty the test Redis DB's queues before and after, so a burst worker runs only our jobs."""
    import django_rq

    def empty():
        # Redis DB 15 belongs to the test suite alone: queues, rate limits, announce windows.
        django_rq.get_connection("default").flushdb()

    empty()
    yield
    empty()


@pytest.fixture
def run_worker(committed):
    """run_worker() runs a real `manage.py rqworker --burst` on all queues against the test DB."""
    from django.db import connection

    def run(
        queues=("maintenance", "investigations", "notifications", "default"), timeout=120
    ) -> subprocess.CompletedProcess:
        db = connection.settings_dict
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="opsworker.settings.test",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        )
        return subprocess.run(
            [sys.executable, "manage.py", "rqworker", *queues, "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server_url(committed):
    """A real uvicorn serving the ASGI app on the test database: yields 'http://127.0.0.1:PORT'."""
    import time

    import httpx
    from django.db import connection

    db = connection.settings_dict
    port = _free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "opsworker.serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("uvicorn did not start:\n" + (process.stdout.read() if process.stdout else ""))
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class RestartablePortal:
    """A uvicorn serving the ASGI app on a fixed port that a test can kill and start again."""

    def __init__(self, port: int, env: dict, log_path: Path, app: str = "opsworker.asgi:application") -> None:
        self.app = app
        self.port = port
        self.env = env
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import time

        import httpx

        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "opsworker.serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError("uvicorn did not start:\n" + self.log_path.read_text())

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, open long polls are cut mid-wait."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None


@pytest.fixture(params=["opsworker.asgi:application"])
def restartable_portal(committed, tmp_path, request):
    """Like live_server_url, but the test can kill() and start() the server on the same port.

    Serves the portal's ASGI app, which answers the agents' long poll in front of Django
    (clusters/gateway/longpoll.py)."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    server = RestartablePortal(_free_port(), env, tmp_path / "uvicorn.log", app=request.param)
    server.start()
    yield server
    server.stop()
