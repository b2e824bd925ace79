#!/usr/bin/env python3
"""The agent's footprint and the gateway's capacity, measured on real processes. Asserts nothing.

Starts its own web process (uvicorn, as `make run` does), the cluster simulator and the real
agent (`python -m agent`, through the *.localhost resolver shim of opsworker/devtools/demo_cluster),
on the database and Redis of the current settings (an organization, default `demo`, must exist:
`make migrate demo`). Prints:

* the agent's RSS (from /proc) when idle and its peak during a burst of commands;
* command round trip p50/p95 through client API → gateway → agent → simulator → back;
* how many idle long-polling agents one web process holds (simulated agents: asyncio + httpx,
  each holding `GET /agent/v1/commands?wait=25` with its own cluster token), with the web
  process's RSS, threads, open sockets and PostgreSQL connections.

    .venv/bin/python bench/agent_gateway.py
    .venv/bin/python bench/agent_gateway.py --round-trips 100 --burst 400 --idle 100,500,1000,2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCENARIO = ROOT / "agent" / "simulator" / "scenarios" / "crashloop-configmap-wrong-db-host"
POD = "inventory-api-pbr8tqvq6j-t7596"
HEALTHY_POD = "inventory-api-pkhjh6f26-p4vg5"
AGENT_BOOT = (
    "from opsworker.devtools.demo_cluster import resolve_localhost_subdomains as shim; shim(); "
    "import runpy; runpy.run_module('agent', run_name='__main__', alter_sys=True)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (bytes), Threads and open sockets of a process, from /proc."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key == "VmRSS":
                values["rss"] = int(rest.split()[0]) * 1024
            elif key == "Threads":
                values["threads"] = int(rest)
    sockets = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    values["sockets"] = sockets
    return values


def mb(value: float) -> str:
    return f"{value / 1024 / 1024:.1f} MB"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Processes:
    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict, log: Path) -> subprocess.Popen:
        handle = open(log, "w")  # noqa: SIM115
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def pg_connections(database: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
        return cursor.fetchone()[0]


async def hold_polls(port: int, host: str, tokens: list[str], wait: int, settle: float, measure) -> dict:
    """Open one long poll per token, let them settle, call measure(), then drop them."""
    import httpx

    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(wait + 30, connect=30)
    early: list[int] = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=timeout
    ) as client:

        async def poll(token: str) -> None:
            response = await client.get(
                "/agent/v1/commands",
                params={"wait": wait},
                headers={"Host": host, "Authorization": f"Bearer {token}"},
            )
            early.append(response.status_code)

        tasks = []
        for start in range(0, len(tokens), 100):  # ramp in steps, like agents reconnecting
            tasks += [asyncio.create_task(poll(t)) for t in tokens[start : start + 100]]
            await asyncio.sleep(0.2)
        await asyncio.sleep(settle)
        figures = await asyncio.to_thread(measure)
        figures["answered_early"] = len(early)
        figures["early_statuses"] = sorted(set(early))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--org", default="demo")
    parser.add_argument("--round-trips", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200, help="commands in the burst")
    parser.add_argument("--idle", default="100,500,1000", help="idle long-polling agents, per step")
    parser.add_argument("--idle-seconds", type=float, default=8, help="agent idle time before measuring")
    parser.add_argument(
        "--app",
        default="opsworker.asgi:application",
        help="ASGI app for uvicorn (the portal serves the long poll in front of Django)",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsworker.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django_tenants.utils import schema_context

    from agent.simulator import start_simulator
    from clusters.gateway.client import CommandSpec, run_commands
    from clusters.models import Cluster
    from clusters.services import cluster_create
    from tenants.models import Organization
    from tenants.secret_box import digest

    org = Organization.objects.filter(slug=args.org).first()
    if org is None:
        print(f"no organization {args.org!r}: run `make migrate demo` (or pass --org)")
        return 1
    host = org.primary_domain
    schema = org.schema_name
    stamp = time.strftime("%H%M%S")
    logs = ROOT / ".run" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    procs = Processes()
    port = free_port()
    db = settings.DATABASES["default"]
    env = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        DATABASE_POOL_MAX_SIZE=os.environ.get("DATABASE_POOL_MAX_SIZE", "20"),
    )
    bench_clusters: list[int] = []
    sim = start_simulator(str(SCENARIO))
    try:
        web = procs.start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                args.app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ws",
                "websockets-sansio",
                "--lifespan",
                "off",
                "--no-access-log",
            ],
            env,
            logs / "web.log",
        )
        import httpx

        for _ in range(150):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with schema_context(schema):
            made = cluster_create(name=f"bench-agent-{stamp}")
        cluster = made.cluster
        bench_clusters.append(cluster.pk)
        agent_env = dict(
            os.environ,
            OPSWORKER_PORTAL_URL=f"http://{host}:{port}",
            OPSWORKER_ALLOW_INSECURE_PORTAL="1",
            OPSWORKER_CLUSTER_TOKEN=made.token,
            OPSWORKER_KUBE_API_URL=sim.url,
            OPSWORKER_LOG_LEVEL="WARNING",
        )
        agent = procs.start([sys.executable, "-c", AGENT_BOOT], agent_env, logs / "agent.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with schema_context(schema):
                cluster.refresh_from_db()
            if cluster.is_connected:
                break
            time.sleep(0.2)
        else:
            print("the agent did not connect; see", logs / "agent.log")
            return 1

        # 1. agent idle RSS
        time.sleep(args.idle_seconds)
        idle = [proc_status(agent.pid)["rss"] for _ in range(5) if time.sleep(0.2) is None]
        agent_idle = max(idle)

        # 2. round trips, one command at a time
        latencies = []
        with schema_context(schema):
            for _ in range(args.round_trips):
                started = time.perf_counter()
                [result] = run_commands(
                    cluster, [CommandSpec("get", "Pod", "inventory", POD)], wait_seconds=30
                )
                latencies.append((time.perf_counter() - started) * 1000)
                assert result.ok, result

        # 3. burst: concurrent callers, mixed commands; sample the agent's RSS meanwhile
        mix = [
            CommandSpec("logs", "Pod", "inventory", HEALTHY_POD, {"container": "api", "tail_lines": 2000}),
            CommandSpec("list", "Pod", None, None, {}),
            CommandSpec("events", "Pod", "inventory", POD),
            CommandSpec("get", "Deployment", "inventory", "inventory-api"),
        ]
        peak = {"rss": 0}
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak["rss"] = max(peak["rss"], proc_status(agent.pid)["rss"])
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        callers, per_caller = 8, max(1, args.burst // 8)
        failures: list[str] = []

        def caller(index: int) -> None:
            from django.db import connection

            try:
                with schema_context(schema):
                    specs = [mix[(index + i) % len(mix)] for i in range(per_caller)]
                    for result in run_commands(cluster, specs, wait_seconds=120):
                        if not result.ok:
                            failures.append(result.error_code)
            finally:
                connection.close()

        burst_started = time.perf_counter()
        threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        burst_seconds = time.perf_counter() - burst_started
        sampling.set()
        sampler.join()

        print("\n== agent (python -m agent, real process) ==")
        print(f"idle RSS:                 {mb(agent_idle)}")
        print(
            f"peak RSS during burst:    {mb(peak['rss'])}  ({callers * per_caller} commands from {callers} "
            f"concurrent callers in {burst_seconds:.1f} s, "
            f"{callers * per_caller / burst_seconds:.0f} commands/s, "
            f"failures: {len(failures)})"
        )
        print(
            f"round trip (1 get Pod):   p50 {pct(latencies, 0.5):.1f} ms, p95 {pct(latencies, 0.95):.1f} ms, "
            f"max {max(latencies):.1f} ms over {len(latencies)}"
        )

        # 4. idle long-polling agents on one web process
        print(f"\n== one web process (uvicorn {args.app}) holding idle long polls (wait=25) ==")
        base = proc_status(web.pid)
        print(
            f"baseline: RSS {mb(base['rss'])}, threads {base['threads']}, sockets {base['sockets']}, "
            f"PostgreSQL connections {pg_connections(db['NAME'])}"
        )
        for count in [int(x) for x in args.idle.split(",") if x.strip()]:
            tokens = [f"owc_bench_{stamp}_{count}_{i}" for i in range(count)]
            with schema_context(schema):
                rows = Cluster.objects.bulk_create(
                    [
                        Cluster(
                            name=f"bench-idle-{stamp}-{count}-{i}", token_hash=digest(t), token_hint=t[:10]
                        )
                        for i, t in enumerate(tokens)
                    ]
                )
            bench_clusters += [row.pk for row in rows]
            probe: list[float] = []

            def measure(probe: list[float] = probe) -> dict:
                status = proc_status(web.pid)
                status["pg"] = pg_connections(db["NAME"])
                started = time.perf_counter()
                with schema_context(schema):
                    run_commands(cluster, [CommandSpec("get", "Pod", "inventory", POD)], wait_seconds=30)
                probe.append((time.perf_counter() - started) * 1000)
                return status

            figures = asyncio.run(
                hold_polls(port, host, tokens, 25, settle=max(3.0, count / 200), measure=measure)
            )
            per_agent = (figures["rss"] - base["rss"]) / count / 1024
            print(
                f"{count:>5} idle agents: RSS {mb(figures['rss'])} (+{per_agent:.0f} KB/agent), "
                f"threads {figures['threads']}, sockets {figures['sockets']}, "
                f"PostgreSQL connections {figures['pg']}, "
                f"polls answered early {figures['answered_early']} {figures['early_statuses'] or ''}, "
                f"real agent round trip meanwhile {probe[0]:.0f} ms"
            )
            time.sleep(2)
        return 0
    finally:
        procs.stop_all()
        sim.stop()
        with schema_context(schema):
            Cluster.objects.filter(pk__in=bench_clusters).delete()


if __name__ == "__main__":
    sys.exit(main())
