"""`python -m agent` as a process: configuration from the environment, exit codes, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.simulator import start_simulator
from agent.transports.base import EXIT_CONFIG, EXIT_OK, EXIT_PROTOCOL
from tests.agent.agent_fixtures import OOM_POD, OOM_SCENARIO, cmd
from tests.agent.portal_double import TOKEN, PortalDouble, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with start_simulator(OOM_SCENARIO) as simulator:
        yield simulator


def agent_process(env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPSWORKER_")}
    return subprocess.Popen(
        [sys.executable, "-m", "agent"],
        cwd=ROOT,
        env=clean | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_main_serves_commands_and_stops_on_sigterm(sim: Any) -> None:
    with PortalDouble() as portal:
        process = agent_process(
            {
                "OPSWORKER_PORTAL_URL": portal.url,
                "OPSWORKER_CLUSTER_TOKEN": TOKEN,
                "OPSWORKER_KUBE_API_URL": sim.url,
                "OPSWORKER_LOG_LEVEL": "DEBUG",
                "OPSWORKER_POLL_WAIT_SECONDS": "1",
            }
        )
        try:
            wait_for(lambda: bool(portal.hellos))
            portal.send(cmd("m-1", "get", "Pod", "search", OOM_POD))
            wait_for(lambda: bool(portal.results))
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)

    assert process.returncode == EXIT_OK
    assert portal.results[0]["command_id"] == "m-1" and portal.results[0]["ok"] is True
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert "agent.portal.connected" in events and "agent.stopping" in events
    assert TOKEN not in stderr  # the token is never logged


def test_main_exits_2_on_protocol_mismatch(sim: Any) -> None:
    with PortalDouble() as portal:
        portal.protocol_range = (5, 6)
        process = agent_process(
            {
                "OPSWORKER_PORTAL_URL": portal.url,
                "OPSWORKER_CLUSTER_TOKEN": TOKEN,
                "OPSWORKER_KUBE_API_URL": sim.url,
                "OPSWORKER_LOG_LEVEL": "DEBUG",
            }
        )
        _, stderr = process.communicate(timeout=60)

    assert process.returncode == EXIT_PROTOCOL
    assert "agent.protocol.unsupported" in stderr


def test_main_exits_1_with_every_configuration_problem() -> None:
    process = agent_process({"OPSWORKER_TRANSPORT": "http", "OPSWORKER_MAX_LIST_ITEMS": "-3"})
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == EXIT_CONFIG
    assert "OPSWORKER_PORTAL_URL is required" in stderr
    assert "OPSWORKER_MAX_LIST_ITEMS must be between 1 and 10000" in stderr
