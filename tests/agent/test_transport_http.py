"""The HTTP transport against a portal double, with the simulator behind the agent."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agent import __version__
from agent.allowlist import Limits
from agent.executor import Executor
from agent.protocol import PROTOCOL_VERSION
from agent.simulator import start_simulator
from agent.transports.base import EXIT_OK, EXIT_PROTOCOL, MAX_COMMANDS_PER_MESSAGE, Backoff, Session
from agent.transports.http import HttpTransport
from tests.agent.agent_fixtures import OOM_POD, OOM_SCENARIO, api_client_for, cmd
from tests.agent.portal_double import TOKEN, PortalDouble, wait_for


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with start_simulator(OOM_SCENARIO) as simulator:
        yield simulator


def make_transport(sim: Any, portal_url: str, token: str = TOKEN) -> HttpTransport:
    session = Session(Executor(api_client_for(sim.url), Limits(), request_timeout=10), concurrency=2)
    return HttpTransport(
        portal_url=portal_url,
        token=token,
        session=session,
        poll_wait_seconds=1,
        heartbeat_seconds=30,
        backoff=Backoff(0.05, 0.4),
        unauthorized_backoff=Backoff(0.05, 0.4),
    )


class Running:
    """Runs a transport in a thread; stops it and keeps its exit code."""

    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.exit_code = self.transport.run()

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.transport.stop()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the agent did not stop"


def test_http_round_trip_hello_commands_results(sim: Any) -> None:
    with PortalDouble() as portal, Running(make_transport(sim, portal.url)) as running:
        # given a connected agent
        wait_for(lambda: running.transport.connected.is_set())

        # when the portal hands out commands, one of them hostile
        portal.send(
            cmd("c-get", "get", "Pod", "search", OOM_POD),
            cmd("c-logs", "logs", "Pod", "search", OOM_POD, tail_lines=5),
            cmd("c-del", "delete", "Pod", "search", OOM_POD),
            cmd("c-404", "get", "Pod", "search", "gone"),
        )
        wait_for(lambda: len(portal.results) >= 4)
        # and the heartbeat interval from the hello reply (1 s) is honoured
        wait_for(lambda: len(portal.heartbeats) >= 1)

    # then every command got exactly one result with the agreed shape
    results = portal.results_by_id()
    assert set(results) == {"c-get", "c-logs", "c-del", "c-404"}
    assert results["c-get"]["ok"] and results["c-get"]["data"]["metadata"]["name"] == OOM_POD
    assert results["c-logs"]["ok"] and len(results["c-logs"]["data"].splitlines()) == 5
    assert results["c-del"]["error"]["code"] == "refused"
    assert results["c-404"]["error"]["code"] == "not_found"
    for result in results.values():
        assert set(result) >= {"command_id", "ok", "data", "error", "truncated", "redactions", "duration_ms"}
    # and hello, heartbeat and auth follow the protocol
    hello = portal.hellos[0]
    assert (hello["protocol"], hello["agent_version"]) == (PROTOCOL_VERSION, __version__)
    assert hello["kubernetes_version"] == "v1.29.8-eks-a737599"
    assert "Pod" in hello["capabilities"]["kinds"] and hello["capabilities"]["metrics"] is True
    stats = portal.heartbeats[0]["stats"]
    assert set(stats) == {"commands_run", "commands_refused", "rss_bytes", "uptime_seconds"}
    assert stats["rss_bytes"] > 0
    assert set(portal.auth_headers) == {"Bearer cluster-token"}
    assert running.exit_code == EXIT_OK
    assert running.transport.cluster_name == "prod-eu-1"


def test_http_version_mismatch_exits_with_a_clear_error(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    with PortalDouble() as portal:
        portal.protocol_range = (7, 9)
        transport = make_transport(sim, portal.url)

        with caplog.at_level(logging.ERROR, logger="agent.transport.http"):
            code = transport.run()

    assert code == EXIT_PROTOCOL
    record = next(r for r in caplog.records if r.getMessage() == "agent.protocol.unsupported")
    assert (record.min_protocol, record.max_protocol) == (7, 9)
    assert "does not speak this agent's protocol" in record.reason
    assert len(portal.hellos) == 1  # no retry loop


def test_http_backs_off_while_portal_is_down_then_reconnects(sim: Any) -> None:
    # given a port where nothing listens yet (bound, not listening: connections are refused)
    placeholder = socket.socket()
    placeholder.bind(("127.0.0.1", 0))
    port = placeholder.getsockname()[1]
    transport = make_transport(sim, f"http://127.0.0.1:{port}")

    with Running(transport):
        # when the agent has failed a few times
        wait_for(lambda: len(transport.backoff.history) >= 3)
        placeholder.close()
        # and the portal comes up on that port
        with PortalDouble(port=port) as portal:
            wait_for(lambda: transport.connected.is_set())
            portal.send(cmd("c1", "get", "Node", None, "ip-10-42-1-17.eu-west-1.compute.internal"))
            wait_for(lambda: len(portal.results) == 1)

    # then the delays grew between attempts and the session works after reconnecting
    history = transport.backoff.history
    assert all(later >= earlier for earlier, later in itertools.pairwise(history[:3]))
    assert portal.results[0]["ok"] is True


def test_http_backs_off_on_5xx_then_connects(sim: Any) -> None:
    with PortalDouble() as portal:
        portal.hello_statuses = [503, 502]
        transport = make_transport(sim, portal.url)
        with Running(transport):
            wait_for(lambda: transport.connected.is_set())

    assert len(portal.hellos) == 3
    assert len(transport.backoff.history) == 2


def test_http_unauthorized_is_logged_and_retried_without_crashing(
    sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with PortalDouble(token="the-right-token") as portal:
        transport = make_transport(sim, portal.url, token="revoked-token")
        with caplog.at_level(logging.ERROR, logger="agent.transport.http"), Running(transport) as running:
            # when the portal keeps answering 401
            wait_for(lambda: len(portal.hellos) == 0 and len(transport.unauthorized_backoff.history) >= 2)

            # then the agent is still alive, retrying, and said why
            assert running.thread.is_alive()
            assert not transport.connected.is_set()

    assert any(r.getMessage() == "agent.portal.unauthorized" and "401" in r.reason for r in caplog.records)
    assert running.exit_code == EXIT_OK


def test_http_answers_commands_beyond_the_per_message_cap_without_running_them(sim: Any) -> None:
    with PortalDouble() as portal, Running(make_transport(sim, portal.url)) as running:
        wait_for(lambda: running.transport.connected.is_set())
        portal.send(
            *[cmd(f"n-{i}", "get", "Namespace", None, "search") for i in range(MAX_COMMANDS_PER_MESSAGE + 3)]
        )
        wait_for(lambda: len(portal.results) == MAX_COMMANDS_PER_MESSAGE + 3)

    results = portal.results_by_id()
    assert all(results[f"n-{i}"]["ok"] for i in range(MAX_COMMANDS_PER_MESSAGE))
    overflow = [results[f"n-{i}"] for i in range(MAX_COMMANDS_PER_MESSAGE, MAX_COMMANDS_PER_MESSAGE + 3)]
    assert [r["error"]["code"] for r in overflow] == ["invalid"] * 3


def test_http_splits_result_batches_the_portal_finds_too_large(sim: Any) -> None:
    with PortalDouble() as portal:
        # given a portal refusing result bodies above 3000 bytes: one 5-line log result (~0.8 KB)
        # fits, eight together do not, and the whole 29-line log (~3.7 KB) never fits
        portal.max_results_body = 3000
        with Running(make_transport(sim, portal.url)) as running:
            wait_for(lambda: running.transport.connected.is_set())
            portal.send(*[cmd(f"c-{i}", "logs", "Pod", "search", OOM_POD, tail_lines=5) for i in range(8)])
            portal.send(cmd("c-huge", "logs", "Pod", "search", OOM_POD, tail_lines=1000))
            wait_for(lambda: len(portal.results_by_id()) >= 9)
    # then every result arrived, in smaller batches, and the one that can never fit says why
    results = portal.results_by_id()
    assert portal.results_413 >= 1
    assert all(results[f"c-{i}"]["ok"] and len(results[f"c-{i}"]["data"].splitlines()) == 5 for i in range(8))
    assert results["c-huge"]["ok"] is False
    assert "larger than the portal accepts" in results["c-huge"]["error"]["message"]
