"""Rows for services, endpoints, nodes, events, storage, autoscaling and ingress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .columns import Obj, age, dig, join, name_of, since


def service_row(obj: Obj, now: datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    ingress = dig(obj, "status", "loadBalancer", "ingress", default=[])
    external = join(
        [i.get("ip") or i.get("hostname", "") for i in ingress] + list(spec.get("externalIPs") or []),
        "<pending>" if spec.get("type") == "LoadBalancer" else "<none>",
    )
    ports = [
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    ]
    return [
        name_of(obj),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        external,
        join(ports),
        age(obj, now),
        join([f"{k}={v}" for k, v in (spec.get("selector") or {}).items()]),
    ]


def endpoints_row(obj: Obj, now: datetime) -> list[Any]:
    addresses = [
        f"{a.get('ip')}:{p.get('port')}"
        for subset in obj.get("subsets") or []
        for a in subset.get("addresses") or []
        for p in subset.get("ports") or [{}]
    ]
    shown = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [name_of(obj), shown or "<none>", age(obj, now)]


def node_row(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    state = {"True": "Ready", "False": "NotReady"}.get(ready.get("status"), "Unknown")
    if dig(obj, "spec", "unschedulable"):
        state += ",SchedulingDisabled"
    labels = dig(obj, "metadata", "labels", default={})
    roles = [k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")]
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    info = status.get("nodeInfo") or {}
    return [
        name_of(obj),
        state,
        join(roles),
        age(obj, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def event_row(obj: Obj, now: datetime) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or dig(obj, "metadata", "creationTimestamp")
    first = obj.get("firstTimestamp") or obj.get("eventTime")
    count = obj.get("count") or 1
    last_seen = since(last, now)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {since(first, now)})"
    source = obj.get("source") or {}
    return [
        last_seen,
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
        obj.get("message", ""),
        involved.get("fieldPath", ""),
        join([source.get("component", ""), source.get("host", "")], "") or obj.get("reportingComponent", ""),
        since(first, now),
        count,
        name_of(obj),
    ]


def pvc_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        name_of(obj),
        status.get("phase", ""),
        spec.get("volumeName", ""),
        dig(status, "capacity", "storage", default=""),
        _access_modes(status.get("accessModes")),
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        age(obj, now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _access_modes(modes: list[str] | None) -> str:
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return ",".join(short.get(m, m) for m in modes or [])


def pv_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef") or {}
    return [
        name_of(obj),
        dig(spec, "capacity", "storage", default=""),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        status.get("phase", ""),
        f"{claim['namespace']}/{claim['name']}" if claim.get("name") else "",
        spec.get("storageClassName", ""),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        age(obj, now),
    ]


def storageclass_row(obj: Obj, now: datetime) -> list[Any]:
    annotations = dig(obj, "metadata", "annotations", default={})
    default = annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
    return [
        name_of(obj) + (" (default)" if default else ""),
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy", "Delete"),
        obj.get("volumeBindingMode", "Immediate"),
        "true" if obj.get("allowVolumeExpansion") else "false",
        age(obj, now),
    ]


def hpa_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    targets = []
    for metric in spec.get("metrics") or []:
        if metric.get("type") == "Resource":
            name = dig(metric, "resource", "name", default="")
            target = dig(metric, "resource", "target", default={})
            current = next(
                (
                    dig(m, "resource", "current", default={})
                    for m in status.get("currentMetrics") or []
                    if dig(m, "resource", "name") == name
                ),
                {},
            )
            if "averageUtilization" in target:
                shown = (
                    f"{current['averageUtilization']}%" if "averageUtilization" in current else "<unknown>"
                )
                targets.append(f"{name}: {shown}/{target['averageUtilization']}%")
            else:
                wanted = target.get("averageValue") or target.get("value", "")
                targets.append(f"{name}: {current.get('averageValue', '<unknown>')}/{wanted}")
    return [
        name_of(obj),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        ", ".join(targets) or "<none>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", ""),
        status.get("currentReplicas", 0),
        age(obj, now),
    ]


def ingress_row(obj: Obj, now: datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    hosts = [r.get("host", "") for r in spec.get("rules") or []]
    ingress = dig(obj, "status", "loadBalancer", "ingress", default=[])
    return [
        name_of(obj),
        spec.get("ingressClassName") or "<none>",
        join(hosts, "*") if hosts else "*",
        join([i.get("ip") or i.get("hostname", "") for i in ingress], ""),
        "80, 443" if spec.get("tls") else "80",
        age(obj, now),
    ]
