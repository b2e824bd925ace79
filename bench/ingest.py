#!/usr/bin/env python3
"""Ingestion throughput and acknowledgement latency against a running `make run`.

Starts nothing itself. Drives one integration's webhook from several concurrent clients for a
fixed time with real Alertmanager payloads — one alert per request, then groups of 50 — and does
the same against the baseline endpoint (same stack, one plain INSERT per alert; the server must run
with OPSWORKER_BENCH_BASELINE_ENDPOINT=true). Prints alerts/s and p50/p95/p99 of the time from
sending a request to its 202.

    .venv/bin/python bench/ingest.py                      # creates a benchmark integration in 'demo'
    .venv/bin/python bench/ingest.py --seconds 20 --clients 8 --webhook-token TOKEN
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "alerts" / "sources" / "fixtures" / "alertmanager" / "single_crashloop.json"


def make_token(org: str) -> str:
    """Create a benchmark integration in `org` through the management command; return its token."""
    output = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_integration",
            "--org",
            org,
            "--source",
            "alertmanager",
            "--name",
            f"benchmark {time.strftime('%H:%M:%S')}",
            "--rate-limit",
            "100000000",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    url = json.loads(output[output.index("{") :])["webhook_url"]
    return url.rstrip("/").rsplit("/", 1)[1]


def payload(alerts: int) -> bytes:
    """A real Alertmanager group whose alerts are all new series (so each one is stored)."""
    template = json.loads(FIXTURE.read_text())
    alert = template["alerts"][0]
    group = []
    for _ in range(alerts):
        item = json.loads(json.dumps(alert))
        suffix = uuid.uuid4().hex[:12]
        item["labels"]["pod"] = f"payments-api-7d9f8b6c5-{suffix}"
        item["fingerprint"] = suffix + "0000"
        group.append(item)
    template["alerts"] = group
    return json.dumps(template).encode()


def run(url: str, host: str, alerts_per_request: int, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    bodies = [payload(alerts_per_request) for _ in range(64)]

    def client(index: int) -> None:
        with httpx.Client(headers={"Host": host, "Content-Type": "application/json"}, timeout=30) as http:
            n = index
            while time.monotonic() < stop_at:
                body = bodies[n % len(bodies)] if alerts_per_request > 1 else payload(1)
                n += clients
                started = time.perf_counter()
                response = http.post(url, content=body)
                elapsed = time.perf_counter() - started
                with lock:
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code == 202:
                        latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    accepted = len(latencies)
    ordered = sorted(latencies) or [float("nan")]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return {
        "requests_ok": accepted,
        "statuses": statuses,
        "alerts_per_s": accepted * alerts_per_request / wall,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--host", default="demo.localhost", help="organization host name")
    parser.add_argument("--org", default="demo", help="organization slug (to create the integration)")
    parser.add_argument("--webhook-token", help="an existing alertmanager integration's token")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()

    try:
        httpx.get(f"{args.base_url}/healthz", timeout=3).raise_for_status()
    except httpx.HTTPError:
        print(f"no server at {args.base_url}: start `make run` first", file=sys.stderr)
        return 2
    token = args.webhook_token or make_token(args.org)
    targets = [("webhook", f"{args.base_url}/hooks/alertmanager/{token}/")]
    baseline = f"{args.base_url}/bench/baseline/{token}/"
    probe = httpx.post(baseline, content=payload(1), headers={"Host": args.host}, timeout=10)
    if probe.status_code == 202:
        targets.append(("baseline", baseline))
    else:
        print(
            "baseline endpoint off: restart make run with OPSWORKER_BENCH_BASELINE_ENDPOINT=true to compare\n"
        )

    print(f"{args.clients} clients, {args.seconds:.0f} s per run, host {args.host}")
    print(
        f"{'endpoint':<10} {'alerts/req':>10} {'requests':>9} {'alerts/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8}  other statuses"
    )
    for name, url in targets:
        for per_request in (1, 50):
            result = run(url, args.host, per_request, args.clients, args.seconds)
            others = {k: v for k, v in result["statuses"].items() if k != 202}
            print(
                f"{name:<10} {per_request:>10} {result['requests_ok']:>9} {result['alerts_per_s']:>9.0f} "
                f"{result['p50_ms']:>8.1f} {result['p95_ms']:>8.1f} {result['p99_ms']:>8.1f}  {others or ''}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
