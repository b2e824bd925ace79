"""Layered layout of an investigation's resource graph, drawn as server-rendered SVG.

Columns follow the request path: ingress → service → workload → replicaset → pod → node, config
and storage. Names are never trusted: the template escapes them; this module only computes
coordinates and truncates labels.
"""

from __future__ import annotations

from typing import Any

BOX_W, BOX_H = 196, 48
COL_GAP, ROW_GAP = 44, 14
PAD = 12
MAX_PER_COLUMN = 12

_LAYER_OF_KIND = {
    "Ingress": 0,
    "Certificate": 0,
    "Service": 1,
    "HorizontalPodAutoscaler": 1,
    "NetworkPolicy": 1,
    "CronJob": 2,
    "Deployment": 2,
    "StatefulSet": 2,
    "DaemonSet": 2,
    "Job": 2,
    "ReplicaSet": 3,
    "Pod": 4,
    "Node": 5,
    "ConfigMap": 5,
    "Secret": 5,
    "ServiceAccount": 5,
    "PersistentVolumeClaim": 5,
    "Endpoints": 5,
    "PersistentVolume": 6,
    "StorageClass": 6,
}
_SHORT_KIND = {
    "HorizontalPodAutoscaler": "HPA",
    "PersistentVolumeClaim": "PVC",
    "PersistentVolume": "PV",
    "ClusterRoleBinding": "ClusterRoleBind.",
    "NetworkPolicy": "NetPol",
    "CertificateRequest": "CertRequest",
    "ValidatingWebhookConfiguration": "ValidatingWebhook",
    "MutatingWebhookConfiguration": "MutatingWebhook",
    "ValidatingAdmissionPolicy": "AdmissionPolicy",
}
_LAYER_OF_ROLE = {
    "ingress": 0,
    "certificate": 0,
    "service": 1,
    "autoscaler": 1,
    "policy": 1,
    "workload": 2,
    "owned": 3,
    "pod": 4,
}


def _key(node: dict) -> str:
    if node.get("namespace"):
        return f"{node.get('kind', '')}/{node['namespace']}/{node.get('name', '')}"
    return f"{node.get('kind', '')}/{node.get('name', '')}"


def _same(ref: dict | None, node: dict) -> bool:
    if not ref:
        return False
    return (ref.get("kind"), ref.get("namespace") or "", ref.get("name")) == (
        node.get("kind"),
        node.get("namespace") or "",
        node.get("name"),
    )


def _short(name: str, limit: int = 23) -> str:
    """Middle ellipsis: pod names differ at the end, so keep both ends."""
    if len(name) <= limit:
        return name
    head = (limit - 1) * 3 // 5
    return f"{name[:head]}…{name[-(limit - 1 - head) :]}"


def topology_layout(
    topology: dict,
    *,
    evidence: list[dict] | None = None,
    root: dict | None = None,
    alerting: dict | None = None,
) -> dict[str, Any]:
    """Boxes, edges and per-node panels for `_topology.html` (coordinates in SVG user units)."""
    raw_nodes = [n for n in topology.get("nodes") or [] if isinstance(n, dict)]
    missing_by_key: dict[str, list[str]] = {}
    for item in topology.get("missing") or []:
        if isinstance(item, dict):
            missing_by_key.setdefault(_key(item), []).append(str(item.get("referenced_by") or ""))
    seen: dict[str, dict] = {}
    for node in raw_nodes:
        seen.setdefault(_key(node), node)
    for key, _by in missing_by_key.items():  # referenced but absent and not drawn yet
        if key not in seen:
            kind, _, rest = key.partition("/")
            namespace, _, name = rest.rpartition("/")
            seen[key] = {"kind": kind, "namespace": namespace, "name": name, "role": "reference"}

    columns: dict[int, list[dict]] = {}
    nodes = []
    for index, (key, node) in enumerate(seen.items()):
        layer = _LAYER_OF_KIND.get(node.get("kind", ""), _LAYER_OF_ROLE.get(node.get("role", ""), 5))
        item = {
            "id": f"obj-{index + 1}",
            "key": key,
            "kind": node.get("kind", ""),
            "namespace": node.get("namespace", ""),
            "name": node.get("name", ""),
            "label": _short(node.get("name", "")),
            "kind_label": _short(_SHORT_KIND.get(node.get("kind", ""), node.get("kind", "")), 16),
            "role": node.get("role", ""),
            "root": _same(root, node),
            "alerting": node.get("role") == "alerting" or _same(alerting, node),
            "missing": key in missing_by_key,
            "referenced_by": sorted(set(missing_by_key.get(key, []))),
            "layer": layer,
            "evidence": [e for e in evidence or [] if _same(e.get("resource"), node)],
            "relations": [],
        }
        nodes.append(item)
        columns.setdefault(layer, []).append(item)

    # Marked nodes first in their column, so they are never in the folded "+N more".
    for members in columns.values():
        members.sort(key=lambda n: (not n["root"], not n["alerting"], n["missing"], n["name"]))
    drawn: dict[str, dict] = {}
    hidden: list[dict] = []
    column_x = {}
    for position, layer in enumerate(sorted(columns)):
        column_x[layer] = PAD + position * (BOX_W + COL_GAP)
    tallest = max((min(len(m), MAX_PER_COLUMN + 1) for m in columns.values()), default=0)
    height = PAD * 2 + tallest * (BOX_H + ROW_GAP) - ROW_GAP + 14
    more_boxes = []
    for layer, members in columns.items():
        shown = members if len(members) <= MAX_PER_COLUMN + 1 else members[:MAX_PER_COLUMN]
        column_height = len(shown) * (BOX_H + ROW_GAP) - ROW_GAP
        offset = (height - column_height) // 2
        for row, node in enumerate(shown):
            node["x"], node["y"] = column_x[layer], offset + row * (BOX_H + ROW_GAP)
            drawn[node["key"]] = node
        if len(members) > len(shown):
            hidden.extend(members[len(shown) :])
            more_boxes.append(
                {
                    "x": column_x[layer],
                    "y": offset + len(shown) * (BOX_H + ROW_GAP),
                    "count": len(members) - len(shown),
                }
            )
    by_key = {n["key"]: n for n in nodes}
    edges = []
    for edge in topology.get("edges") or []:
        if not isinstance(edge, dict):
            continue
        source, target = by_key.get(str(edge.get("from"))), by_key.get(str(edge.get("to")))
        relation = str(edge.get("relation") or "")
        if source:
            source["relations"].append(
                {"text": relation, "other": target or {"key": edge.get("to")}, "out": True}
            )
        if target:
            target["relations"].append(
                {"text": relation, "other": source or {"key": edge.get("from")}, "out": False}
            )
        if not (source and target and source["key"] in drawn and target["key"] in drawn):
            continue
        edges.append(
            {"path": _path(source, target), "relation": relation, "source": source, "target": target}
        )
    width = PAD * 2 + len(columns) * (BOX_W + COL_GAP) - COL_GAP if columns else 0
    return {
        "nodes": nodes,
        "drawn": list(drawn.values()),
        "hidden": hidden,
        "more": more_boxes,
        "edges": edges,
        "width": max(width, 0),
        "height": max(height, 0),
        "box_w": BOX_W,
        "box_h": BOX_H,
        "has_root": any(n["root"] for n in nodes),
        "has_alerting": any(n["alerting"] for n in nodes),
        "has_missing": any(n["missing"] for n in nodes),
    }


def _path(source: dict, target: dict) -> str:
    """A cubic curve from the side of one box to the facing side of the other."""
    sy, ty = source["y"] + BOX_H / 2, target["y"] + BOX_H / 2
    if source["x"] == target["x"]:  # same column: loop out on the right
        x = source["x"] + BOX_W
        bulge = x + COL_GAP * 0.6
        return f"M{x},{sy} C{bulge},{sy} {bulge},{ty} {x},{ty}"
    if source["x"] < target["x"]:
        x1, x2 = source["x"] + BOX_W, target["x"]
    else:
        x1, x2 = source["x"], target["x"] + BOX_W
    mid = (x1 + x2) / 2
    return f"M{x1},{sy} C{mid},{sy} {mid},{ty} {x2},{ty}"
