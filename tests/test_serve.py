"""`python -m opsworker.serve` as a real process: slow clients are cut off, forwarded headers judged.

Bounded waits only: each test allows far more time than the configured timeouts (2 s here) and
asserts the connection was closed within that bound, never how fast.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 2
BOUND_SECONDS = 40  # generous: a byte every 0.5 s for this long would be 80 bytes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(_orgs, django_db_blocker):
    """(host, port) of `python -m opsworker.serve` on the test database and Redis DB."""
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
    port = _free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        OPSWORKER_HEADER_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
        OPSWORKER_BODY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
        OPSWORKER_TRUSTED_PROXIES="",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "opsworker.serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"opsworker.serve did not start:\n{process.stdout.read()}")
        time.sleep(0.2)
    yield "127.0.0.1", port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _trickle_until_closed(sock: socket.socket, data: bytes) -> tuple[bool, bytes]:
    """Send `data` one byte every 0.5 s; (closed by the server within the bound, bytes it answered)."""
    sock.settimeout(0.5)
    received, deadline = b"", time.monotonic() + BOUND_SECONDS
    for byte in data:
        if time.monotonic() > deadline:
            break
        try:
            sock.sendall(bytes([byte]))
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def test_serve_closes_a_connection_whose_head_trickles(server):
    with socket.create_connection(server) as sock:
        head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: " + b"a" * 200
        closed, answered = _trickle_until_closed(sock, head)
    assert closed
    assert answered == b"" or answered.startswith(b"HTTP/1.1 408")


def test_serve_answers_408_to_a_body_that_trickles(server):
    with socket.create_connection(server) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 300\r\n\r\n")
        closed, answered = _trickle_until_closed(sock, b"x" * 300)
    assert closed
    assert answered.startswith(b"HTTP/1.1 408")
    assert b"request body was not sent in time" in answered


def test_serve_silent_connection_is_closed(server):
    with socket.create_connection(server) as sock:
        sock.settimeout(BOUND_SECONDS)
        assert sock.recv(4096) == b""


def test_serve_ordinary_requests_and_keep_alive_still_work(server):
    with httpx.Client(base_url=f"http://{server[0]}:{server[1]}") as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200


def test_serve_rotating_forwarded_for_from_an_untrusted_peer_is_throttled(server, _orgs, django_db_blocker):
    # Given a client at 127.0.0.1 (not a configured proxy) sending a new X-Forwarded-For each time
    from tenants import security
    from tenants.audit import AuditEvent

    alpha = _orgs["alpha"]
    emails = [f"xff-{n}@example.com" for n in range(14)]

    def clear():
        security.signin_address_clear("127.0.0.1")
        for email in emails:
            security.signin_failures_clear(email)

    clear()
    try:
        with httpx.Client(
            base_url=f"http://{server[0]}:{server[1]}", headers={"Host": alpha.domain}
        ) as client:
            page = client.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            statuses = [
                client.post(
                    "/accounts/login/",
                    data={"username": email, "password": "Summer2026!", "csrfmiddlewaretoken": token},
                    headers={"X-Forwarded-For": f"198.51.100.{n}", "Referer": f"http://{alpha.domain}/"},
                ).status_code
                for n, email in enumerate(emails)
            ]
        # Then the address it really comes from is slowed: the header changed nothing
        assert statuses[0] == 200
        assert statuses[-1] == 429
    finally:
        clear()
        with django_db_blocker.unblock():
            AuditEvent.objects.filter(actor_email__in=emails).delete()
