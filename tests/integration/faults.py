"""Fault-test machinery: a test-owned redis-server that can be stopped and started, and the
product's processes (web, worker, scheduler, agent) pointed at it.

Never the shared Redis: every process gets `TEST_REDIS_URL` of the private server, which the test
settings read for queues, the Channels layer and the cache.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, _free_port


class PrivateRedis:
    """`redis-server --port P --save "" --appendonly no`: a restart loses everything, like a crash."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"private redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # a crash, not a shutdown: nothing saved, connections cut
            self.process.wait(timeout=10)
            self.process = None


def process_env(committed_db: dict, redis_url: str, **extra: str) -> dict:
    db = committed_db
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        TEST_REDIS_URL=redis_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )


# Short periods so recovery happens within the test's bounded waits (never asserted as timings).
FAST_RECOVERY = {
    "OPSWORKER_INVESTIGATION_LEASE_SECONDS": "4",
    "OPSWORKER_INVESTIGATION_LEASE_RENEW_SECONDS": "1",
    "OPSWORKER_INVESTIGATION_SWEEP_SECONDS": "2",
    "OPSWORKER_INVESTIGATION_REQUEUE_AFTER_SECONDS": "3",
    "OPSWORKER_AGENT_POLL_RECHECK_SECONDS": "1",
}


def worker_command() -> list[str]:
    # As `make run` starts it: with RQ's scheduler child (delayed jobs and retries).
    return [
        *(sys.executable, "manage.py", "rqworker"),
        *("maintenance", "investigations", "notifications", "default", "--with-scheduler"),
    ]


def scheduler_command() -> list[str]:
    return [sys.executable, "-m", "opsworker.scheduler"]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (the worker's work horse), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def sigkill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def wait_for(predicate, *, timeout: float, interval: float = 0.2, message: str = "") -> None:
    """Bounded wait: poll `predicate` until true, fail with `message` (never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(message or "condition not reached")


def require_redis_server() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")


__all__ = ["FAST_RECOVERY", "ROOT", "PrivateRedis", "process_env"]
