"""The demo organization's simulated cluster for `make run`: the simulator and a real agent.

    python -m opsworker.devtools.demo_cluster simulator   # scenario as a Kubernetes API on :8001
    python -m opsworker.devtools.demo_cluster agent       # `python -m agent` for demo-cluster

`manage.py ensure_demo_cluster` registers the cluster and writes its token to
`.run/demo-cluster-token`; the agent waits for that file. Imports no Django (the agent must not),
except `opsworker.env`'s `.env` reader when run on its own.

The portal is reached as `demo.localhost`, which is what selects the demo organization. glibc does
not resolve `*.localhost` (browsers and systemd-resolved do), so this launcher maps `*.localhost` to
127.0.0.1 inside the agent process before starting it; the Host header stays `demo.localhost`.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
TOKEN_FILE = Path(os.environ.get("OPSWORKER_DEMO_TOKEN_FILE") or ROOT / ".run" / "demo-cluster-token")
SCENARIOS = ROOT / "agent" / "simulator" / "scenarios"


def scenario_dir() -> Path:
    """OPSWORKER_DEMO_SCENARIO, else the first bundled scenario (alphabetically)."""
    chosen = os.environ.get("OPSWORKER_DEMO_SCENARIO")
    if chosen:
        return Path(chosen)
    return sorted(p for p in SCENARIOS.iterdir() if (p / "cluster.json").is_file())[0]


def simulator_port() -> str:
    return os.environ.get("OPSWORKER_DEMO_SIMULATOR_PORT", "8001")


def portal_url() -> str:
    port = os.environ.get("OPSWORKER_PORT", "8000")
    return os.environ.get("OPSWORKER_DEMO_PORTAL_URL", f"http://demo.localhost:{port}")


def processes() -> list[tuple[str, list[str]]]:
    """(name, argv) pairs for the `make run` supervisor."""
    module = "opsworker.devtools.demo_cluster"
    return [
        ("simulator", [PYTHON, "-m", module, "simulator"]),
        ("agent", [PYTHON, "-m", module, "agent"]),
    ]


def run_simulator() -> int:
    argv = ["--scenario", str(scenario_dir()), "--host", "127.0.0.1", "--port", simulator_port()]
    sys.argv = [sys.argv[0], *argv]
    import runpy

    runpy.run_module("agent.simulator", run_name="__main__", alter_sys=True)
    return 0


def resolve_localhost_subdomains() -> None:
    """Make `*.localhost` resolve to 127.0.0.1 in this process (RFC 6761 says it should)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def run_agent() -> int:
    waited = False
    while not TOKEN_FILE.is_file():
        if not waited:
            print(f"demo agent: waiting for {TOKEN_FILE} (run `manage.py ensure_demo_cluster`)", flush=True)
            waited = True
        time.sleep(2)
    os.environ.update(
        OPSWORKER_PORTAL_URL=portal_url(),
        OPSWORKER_ALLOW_INSECURE_PORTAL="1",  # plain http to demo.localhost on this machine
        OPSWORKER_CLUSTER_TOKEN_FILE=str(TOKEN_FILE),
        OPSWORKER_KUBE_API_URL=f"http://127.0.0.1:{simulator_port()}",
    )
    os.environ.pop("OPSWORKER_CLUSTER_TOKEN", None)
    resolve_localhost_subdomains()
    from agent.__main__ import main  # late: the agent runs in this process once the environment is set

    return main()


if __name__ == "__main__":
    # Standalone runs read `.env` like `make run` does: importing opsworker.env fills os.environ from it
    # without overriding what is set (imported here so that importing this module has no such effect).
    import opsworker.env  # noqa: F401

    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which == "simulator":
        sys.exit(run_simulator())
    if which == "agent":
        sys.exit(run_agent())
    print("usage: python -m opsworker.devtools.demo_cluster simulator|agent", file=sys.stderr)
    sys.exit(64)
