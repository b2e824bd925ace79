"""Table rows per kind, after the API server's printers (pkg/printers/internalversion)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import resources, workloads
from .columns import Obj, age, dig, name_of

Column = tuple[str, int]  # (name, priority): priority 1 shows only with -o wide
Printer = tuple[list[Column], Callable[[Obj, datetime], list[Any]]]


def _cols(normal: str, wide: str = "") -> list[Column]:
    """Column definitions from comma-separated names; `wide` ones show only with -o wide."""
    return [(n, 0) for n in normal.split(",")] + [(n, 1) for n in wide.split(",") if n]


DEFAULT_PRINTER: Printer = (_cols("Name,Age"), lambda o, now: [name_of(o), age(o, now)])

PRINTERS: dict[str, Printer] = {
    "Pod": (
        _cols("Name,Ready,Status,Restarts,Age", "IP,Node,Nominated Node,Readiness Gates"),
        workloads.pod_row,
    ),
    "Deployment": (
        _cols("Name,Ready,Up-to-date,Available,Age", "Containers,Images,Selector"),
        workloads.deployment_row,
    ),
    "ReplicaSet": (
        _cols("Name,Desired,Current,Ready,Age", "Containers,Images,Selector"),
        workloads.replicaset_row,
    ),
    "StatefulSet": (_cols("Name,Ready,Age", "Containers,Images"), workloads.statefulset_row),
    "DaemonSet": (
        _cols("Name,Desired,Current,Ready,Up-to-date,Available,Node Selector,Age"),
        workloads.daemonset_row,
    ),
    "Job": (_cols("Name,Completions,Duration,Age"), workloads.job_row),
    "CronJob": (_cols("Name,Schedule,Timezone,Suspend,Active,Last Schedule,Age"), workloads.cronjob_row),
    "Service": (_cols("Name,Type,Cluster-IP,External-IP,Port(s),Age", "Selector"), resources.service_row),
    "Endpoints": (_cols("Name,Endpoints,Age"), resources.endpoints_row),
    "Node": (
        _cols(
            "Name,Status,Roles,Age,Version",
            "Internal-IP,External-IP,OS-Image,Kernel-Version,Container-Runtime",
        ),
        resources.node_row,
    ),
    "Namespace": (
        _cols("Name,Status,Age"),
        lambda o, now: [name_of(o), dig(o, "status", "phase", default=""), age(o, now)],
    ),
    "Event": (
        _cols("Last Seen,Type,Reason,Object,Message", "Subobject,Source,First Seen,Count,Name"),
        resources.event_row,
    ),
    "PersistentVolumeClaim": (
        _cols(
            "Name,Status,Volume,Capacity,Access Modes,StorageClass,VolumeAttributesClass,Age", "VolumeMode"
        ),
        resources.pvc_row,
    ),
    "PersistentVolume": (
        _cols(
            "Name,Capacity,Access Modes,Reclaim Policy,Status,Claim,StorageClass,"
            "VolumeAttributesClass,Reason,Age"
        ),
        resources.pv_row,
    ),
    "StorageClass": (
        _cols("Name,Provisioner,ReclaimPolicy,VolumeBindingMode,AllowVolumeExpansion,Age"),
        resources.storageclass_row,
    ),
    "ConfigMap": (
        _cols("Name,Data,Age"),
        lambda o, now: [name_of(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o, now)],
    ),
    "HorizontalPodAutoscaler": (
        _cols("Name,Reference,Targets,MinPods,MaxPods,Replicas,Age"),
        resources.hpa_row,
    ),
    "Ingress": (_cols("Name,Class,Hosts,Address,Ports,Age"), resources.ingress_row),
}
