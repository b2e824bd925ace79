"""Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>[/<version>]."""

from __future__ import annotations

import re
from typing import Any

from .cluster import Cluster
from .kinds import Kind, group_versions

DEFAULT_GIT_VERSION = "v1.30.0"
READ_VERBS = ["get", "list", "watch"]
# Resources `kubectl get all` covers.
_CATEGORY_ALL = {
    ("", "pods"), ("", "services"), ("", "replicationcontrollers"), ("apps", "daemonsets"),
    ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"), ("batch", "jobs"),
    ("batch", "cronjobs"), ("autoscaling", "horizontalpodautoscalers"),
}  # fmt: skip


def version_info(cluster: Cluster) -> dict[str, Any]:
    """`GET /version`, from x-capture.kubernetesVersion (e.g. `v1.29.8-eks-a737599`)."""
    git_version = str(cluster.capture.get("kubernetesVersion") or DEFAULT_GIT_VERSION)
    if not git_version.startswith("v"):
        git_version = "v" + git_version
    m = re.match(r"v(\d+)\.(\d+)(.*)", git_version)
    major, minor = (m[1], m[2] + ("+" if "-" in m[3] else "")) if m else ("1", "30")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": str(cluster.capture.get("capturedAt") or "2024-01-01T00:00:00Z"),
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """`GET /api`: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(cluster: Cluster) -> dict[str, Any]:
    """`GET /apis`: every non-core group the cluster serves."""
    groups = group_versions(cluster.served_kinds)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in groups.items()],
    }


def api_group(cluster: Cluster, group: str) -> dict[str, Any] | None:
    """`GET /apis/<group>`, or None when the cluster does not serve the group."""
    versions = group_versions(cluster.served_kinds).get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def _resource(kind: Kind) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "name": kind.plural,
        "singularName": kind.singular_name,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": READ_VERBS,
    }
    if kind.short_names:
        resource["shortNames"] = list(kind.short_names)
    if (kind.group, kind.plural) in _CATEGORY_ALL:
        resource["categories"] = ["all"]
    return resource


def api_resource_list(cluster: Cluster, group: str, version: str) -> dict[str, Any] | None:
    """`GET /api/v1` or `/apis/<group>/<version>`, or None when not served."""
    kinds = [k for k in cluster.served_kinds if (k.group, k.version) == (group, version)]
    if not kinds:
        return None
    resources = []
    for kind in kinds:
        resources.append(_resource(kind))
        if (kind.group, kind.plural) == ("", "pods"):
            resources.append(
                {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": kinds[0].group_version,
        "resources": resources,
    }
