"""Rows for pods and the workload controllers: Deployment, ReplicaSet, StatefulSet, DaemonSet, Jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..logs import parse_time
from .columns import Obj, age, dig, human_duration, join, match_labels, name_of, since, template_containers


def pod_row(pod: Obj, now: datetime) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(s.get("restartCount", 0) for s in statuses)
    last_restart = max(
        (dig(s, "lastState", "terminated", "finishedAt", default="") for s in statuses), default=""
    )
    restart_cell = (
        f"{restarts} ({since(last_restart, now)} ago)" if restarts and last_restart else str(restarts)
    )
    return [
        name_of(pod),
        f"{ready}/{len(spec.get('containers') or [])}",
        pod_status(pod),
        restart_cell,
        age(pod, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def pod_status(pod: Obj) -> str:
    """The STATUS column: kubectl's reason logic (init containers, waiting/terminated reasons)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    init_specs = spec.get("initContainers") or []
    for index, init in enumerate(status.get("initContainerStatuses") or []):
        terminated, waiting = dig(init, "state", "terminated"), dig(init, "state", "waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            reason = "Init:" + (
                terminated.get("reason")
                or (f"Signal:{terminated['signal']}" if terminated.get("signal") else None)
                or f"ExitCode:{terminated.get('exitCode')}"
            )
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        return reason
    running = False
    for container in reversed(status.get("containerStatuses") or []):
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            reason = (
                f"Signal:{terminated['signal']}"
                if terminated.get("signal")
                else f"ExitCode:{terminated.get('exitCode')}"
            )
        elif container.get("ready") and "running" in state:
            running = True
    if reason == "Completed" and running:
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
        )
        reason = "Running" if ready else "NotReady"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def deployment_row(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    return [
        name_of(obj),
        f"{status.get('readyReplicas', 0)}/{dig(obj, 'spec', 'replicas', default=1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj, now),
        join([c.get("name", "") for c in template_containers(obj)]),
        join([c.get("image", "") for c in template_containers(obj)]),
        match_labels(dig(obj, "spec", "selector")),
    ]


def replicaset_row(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    return [
        name_of(obj),
        dig(obj, "spec", "replicas", default=1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        age(obj, now),
        join([c.get("name", "") for c in template_containers(obj)]),
        join([c.get("image", "") for c in template_containers(obj)]),
        match_labels(dig(obj, "spec", "selector")),
    ]


def statefulset_row(obj: Obj, now: datetime) -> list[Any]:
    return [
        name_of(obj),
        f"{dig(obj, 'status', 'readyReplicas', default=0)}/{dig(obj, 'spec', 'replicas', default=1)}",
        age(obj, now),
        join([c.get("name", "") for c in template_containers(obj)]),
        join([c.get("image", "") for c in template_containers(obj)]),
    ]


def daemonset_row(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    node_selector = dig(obj, "spec", "template", "spec", "nodeSelector", default={})
    return [
        name_of(obj),
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        join([f"{k}={v}" for k, v in node_selector.items()]),
        age(obj, now),
    ]


def job_row(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    start, end = parse_time(status.get("startTime") or ""), parse_time(status.get("completionTime") or "")
    duration = human_duration(((end or now) - start).total_seconds()) if start else ""
    return [
        name_of(obj),
        f"{status.get('succeeded', 0)}/{dig(obj, 'spec', 'completions', default=1)}",
        duration,
        age(obj, now),
    ]


def cronjob_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    last = status.get("lastScheduleTime")
    return [
        name_of(obj),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "True" if spec.get("suspend") else "False",
        len(status.get("active") or []),
        since(last, now) if last else "<none>",
        age(obj, now),
    ]
