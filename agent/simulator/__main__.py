"""`python -m agent.simulator --scenario DIR [--host 127.0.0.1] [--port 0] [--token T]`.

Prints one JSON line `{"url": "http://127.0.0.1:PORT"}` once listening, then serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .cluster import ScenarioError
from .server import Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent.simulator",
        description="Serve a scenario's cluster.json as a read-only Kubernetes API on loopback.",
    )
    parser.add_argument("--scenario", help="scenario folder holding cluster.json (default: an empty cluster)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN' (default: accept any)")
    args = parser.parse_args(argv)

    try:
        simulator = Simulator(args.scenario, host=args.host, port=args.port, token=args.token)
    except (ValueError, OSError) as exc:  # ScenarioError is a ValueError
        kind = "scenario" if isinstance(exc, ScenarioError) else "bind"
        print(f"simulator: {kind} error: {exc}", file=sys.stderr)
        return 2

    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    simulator.start()
    print(json.dumps({"url": simulator.url}), flush=True)
    done.wait()
    simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
