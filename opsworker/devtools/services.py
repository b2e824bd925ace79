"""Make sure the local PostgreSQL and Redis that the configuration points at are up (dev and CI).

Run as `python -m opsworker.devtools.services`. Only services on this machine are touched: a
DATABASE_URL or REDIS_URL pointing elsewhere is checked, never started. Exit code 0 when both
answer, 1 with an instruction a person can follow otherwise.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# `make test` uses its own Redis DB number but the same server.
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/opsworker"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _say(message: str) -> None:
    print(f"[services] {message}", flush=True)


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_for(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(host, port):
            return True
        time.sleep(0.25)
    return False


def ensure_postgres(url: str) -> bool:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if _port_open(host, port):
        return _ensure_database(parts)
    if host not in LOCAL_HOSTS:
        _say(f"PostgreSQL at {host}:{port} does not answer; it is not local, so start it where it runs.")
        return False
    clusters = sorted(glob.glob("/etc/postgresql/*/main"))
    if shutil.which("pg_ctlcluster") and clusters:
        version = Path(clusters[-1]).parent.name
        _say(f"starting PostgreSQL {version} (pg_ctlcluster {version} main start)")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )
        if _wait_for(host, port, 30):
            return _ensure_database(parts)
        _say(f"PostgreSQL {version} did not start; see /var/log/postgresql/postgresql-{version}-main.log")
        return False
    if shutil.which("pg_ctl") and os.environ.get("PGDATA"):
        _say("starting PostgreSQL with pg_ctl (PGDATA)")
        log = Path(__file__).resolve().parents[2] / ".run" / "postgres.log"
        log.parent.mkdir(exist_ok=True)
        subprocess.run(["pg_ctl", "start", "-w", "-l", str(log)], check=False)
        if _wait_for(host, port, 30):
            return _ensure_database(parts)
    _say(
        "PostgreSQL is not installed or not running. Install it with "
        "`apt-get install -y postgresql` (Debian/Ubuntu) or `brew install postgresql@15 && "
        "brew services start postgresql@15` (macOS), or set DATABASE_URL to a server you have."
    )
    return False


def _ensure_database(parts) -> bool:
    """Create the configured database when the server is up but the database is missing."""
    import psycopg

    name = parts.path.lstrip("/") or "opsworker"
    admin = psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            _say(f"creating database {name}")
            admin.execute(f'CREATE DATABASE "{name}"')
    return True


def ensure_redis(url: str) -> bool:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if _port_open(host, port):
        return True
    if host not in LOCAL_HOSTS:
        _say(f"Redis at {host}:{port} does not answer; it is not local, so start it where it runs.")
        return False
    if shutil.which("redis-server"):
        _say(f"starting Redis on {host}:{port}")
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
            capture_output=True,
        )
        if _wait_for(host, port, 15):
            return True
        _say("Redis did not start; run `redis-server --port 6379` by hand to see why.")
        return False
    _say(
        "Redis is not installed. Install it with `apt-get install -y redis-server` (Debian/Ubuntu) or "
        "`brew install redis` (macOS), or set REDIS_URL to a server you have."
    )
    return False


def main() -> int:
    from opsworker import env  # noqa: F401  (loads .env into the environment)

    db_ok = ensure_postgres(os.environ.get("DATABASE_URL", DEFAULT_DB))
    redis_ok = ensure_redis(os.environ.get("REDIS_URL", DEFAULT_REDIS))
    if db_ok and redis_ok:
        _say("PostgreSQL and Redis are up")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
