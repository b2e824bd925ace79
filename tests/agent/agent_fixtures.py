"""Shared test data for the agent's tests: a small scenario with credentials in it, command builders.

Imported explicitly by the agent's test modules (the simulator's tests own `conftest.py`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SHARED_EXAMPLES = Path("/work/shared/scenarios/examples")
OOM_SCENARIO = SHARED_EXAMPLES / "oomkilled-low-memory-limit"
OOM_POD = "search-indexer-7f8c9d6b5-h7m3p"

LEAKY_LOG = (
    "2025-03-15T10:00:00Z INFO starting api\n"
    "2025-03-15T10:00:01Z INFO connecting to postgres://orders:Sup3rS3cret@db.shop.svc:5432/orders\n"
    "2025-03-15T10:00:02Z DEBUG outgoing call Authorization: Bearer abcdefghijklmnopqrstuvwxyz\n"
    "2025-03-15T10:00:03Z INFO ready on :8080\n"
)


def deadline(seconds: float = 60) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def cmd(
    cid: str, op: str, kind: str, namespace: str | None = None, name: str | None = None, **params: Any
) -> dict:
    """A protocol command dict, valid for a minute."""
    return {
        "id": cid,
        "op": op,
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "params": params,
        "deadline": deadline(),
    }


def _pod(name: str, labels: dict[str, str], env: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": f"uid-{name}",
            "labels": labels,
            "creationTimestamp": "2025-03-15T09:00:00Z",
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "api", "image": "shop/api:1.0", "env": env}],
        },
        "status": {"phase": "Running"},
    }


def leaky_cluster() -> dict[str, Any]:
    """A cluster.json whose Pod env, ConfigMap and logs hold credentials (and no metrics API)."""
    env = [
        {"name": "DB_HOST", "value": "db.shop.svc"},
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "STRIPE_API_KEY", "value": "sk_live_51HqLyjWDarjtT1zdp7dc"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": f"node-{i}", "labels": {"kubernetes.io/hostname": f"node-{i}"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
        for i in (1, 2, 3)
    ]
    items += [
        _pod("api-1", {"app": "api"}, env),
        _pod("api-2", {"app": "api"}, env),
        _pod("worker-1", {"app": "worker"}, [{"name": "QUEUE", "value": "orders"}]),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "api-config", "namespace": "shop"},
            "data": {"application.properties": "server.port=8080\nspring.datasource.password=Sup3rS3cret\n"},
        },
    ]
    return {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {},
        "x-capture": {
            "cluster": "test",
            "kubernetesVersion": "v1.30.1",
            "capturedAt": "2025-03-15T10:35:00Z",
        },
        "items": items,
        "logs": {"shop/api-1/api": LEAKY_LOG},
        "previous_logs": {},
    }


def write_scenario(directory: Path, cluster: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cluster.json").write_text(json.dumps(cluster), encoding="utf-8")
    return directory


def api_client_for(url: str, token: str | None = None) -> Any:
    """The agent's own client builder, pointed at `url` (the simulator)."""
    from agent.config import KubeSettings
    from agent.executor import api_client_from_settings

    return api_client_from_settings(KubeSettings(api_url=url, api_token=token))
