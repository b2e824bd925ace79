"""The agent runs in customers' clusters without Django: importing it must not pull Django in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MODULES = [
    "agent",
    "agent.protocol",
    "agent.allowlist",
    "agent.redaction",
    "agent.config",
    "agent.executor",
    "agent.executor.calls",
    "agent.executor.shaping",
    "agent.transports.base",
    "agent.transports.http",
    "agent.transports.sqs",
    "agent.__main__",
]


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", MODULES)
def test_no_django_importing_agent_module(module: str) -> None:
    modules = imported_after(f"import {module}")

    assert module in modules
    assert not any(m == "django" or m.startswith("django.") for m in modules)


def test_no_django_protocol_and_allowlist_use_only_the_standard_library() -> None:
    # the portal imports these two; they must not drag the kubernetes client or HTTP libraries along
    modules = imported_after("import agent.protocol, agent.allowlist, agent.redaction")

    for heavy in ("kubernetes", "httpx", "boto3", "botocore", "urllib3", "yaml"):
        assert heavy not in modules, heavy
