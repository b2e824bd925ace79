"""oom-killed: a container's memory limit is below its working set (or it leaks)."""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import RECENT
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, parse_quantity
from investigations.engine.facts import (
    ContainerState,
    container_spec,
    container_states,
    is_recent,
    pod_spec,
    recent_edit,
    rollout_changes,
)
from investigations.engine.kubectl import Recommendation

_HEAP = re.compile(r"-Xmx\S+|MaxRAMPercentage=\S+|--max-old-space-size=\d+|GOMEMLIMIT=\S+", re.I)


def _current_kill(ctx: Context, state: ContainerState) -> bool:
    """An OOM kill that can explain an alert now: the container is failing, or was killed within
    the recent window. A single kill days ago on a container that has run Ready since is history,
    not a cause (it made the engine blame an ingress controller's old OOM for a selector mismatch)."""
    if "OOMKilled" not in (state.last_reason, state.terminated_reason):
        return False
    if state.failing or state.terminated_reason == "OOMKilled":
        return True
    return is_recent(ctx.view, state.last_finished_at, RECENT)


@analyzer("oom-killed")
def oom_killed(ctx: Context) -> list[Finding]:
    killed = [
        state for pod in ctx.in_scope_pods() for state in container_states(pod) if _current_kill(ctx, state)
    ]
    if not killed:
        return []
    view = ctx.view
    first = killed[0]
    pod = first.pod
    workload = view.top_owner(pod)
    workload_ref = Ref.of(workload)
    spec = container_spec(workload, first.name) or container_spec(pod, first.name) or {}
    limits = (spec.get("resources") or {}).get("limits") or {}
    requests = (spec.get("resources") or {}).get("requests") or {}
    limit = limits.get("memory")
    evidence = []
    pods_text = ", ".join(f"{Ref.of(s.pod).name}/{s.name} (restarts {s.restarts})" for s in killed[:4])
    evidence.append(
        ctx.cite(
            "status",
            pod,
            f"lastState.terminated.reason=OOMKilled exitCode={first.last_exit_code or 137} on {pods_text}",
        )
    )
    parts = [
        f"Container {first.name} of {workload_ref.kind} {workload_ref.name} is OOMKilled by the kernel "
        f"(exit code {first.last_exit_code or 137}, SIGKILL) [{evidence[0]}]."
    ]
    if limit:
        evidence.append(
            ctx.cite(
                "spec",
                workload,
                f"containers[{first.name}].resources.limits.memory={limit}"
                + (f", requests.memory={requests.get('memory')}" if requests.get("memory") else ""),
            )
        )
        parts.append(f"Its memory limit is {limit} (limits.memory) [{evidence[-1]}].")
    heap_flags = []
    for variable in spec.get("env") or []:
        value = str(variable.get("value") or "")
        for flag in _HEAP.findall(value):
            heap_flags.append((variable.get("name"), flag))
    for arg in (spec.get("args") or []) + (spec.get("command") or []):
        heap_flags += [("args", flag) for flag in _HEAP.findall(str(arg))]
    if heap_flags:
        where, flag = heap_flags[0]
        evidence.append(ctx.cite("spec", workload, f"{where} sets {flag}"))
        parts.append(
            f"The runtime is told to use up to {flag} ({where}) [{evidence[-1]}], which does not fit "
            f"with the runtime's own overhead inside {limit or 'the limit'}."
        )
    metrics = view.metrics_for(pod)
    if metrics:
        for container in metrics.get("containers") or []:
            if container.get("name") == first.name:
                usage = (container.get("usage") or {}).get("memory")
                evidence.append(ctx.cite("metric", pod, f"memory usage {usage} of limit {limit}"))
                parts.append(f"Current usage is {usage} of {limit} [{evidence[-1]}].")
    contributing = []
    for change in rollout_changes(view, workload)[:1]:
        memory_changes = [d for d in change.details if "memory" in d]
        if memory_changes:
            evidence.append(
                ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(memory_changes)}")
            )
            parts.append(
                f"What changed: {change.what}, {change.age} before the alert, "
                f"changed {'; '.join(memory_changes)} "
                f"[{evidence[-1]}]."
            )
            contributing.append(Contributing(workload_ref, f"{change.what}: {'; '.join(memory_changes)}"))
    for reference in _configmaps(workload):
        configmap = view.get("ConfigMap", workload_ref.namespace, reference)
        edit = recent_edit(view, configmap) if configmap else None
        if edit and configmap:
            data = configmap.get("data") or {}
            shown = ", ".join(f"{k}={v}" for k, v in list(data.items())[:6] if len(str(v)) < 80)
            evidence.append(
                ctx.cite("change", configmap, f"ConfigMap {reference} edited {edit.age} ago: {shown}")
            )
            parts.append(
                f"ConfigMap {reference}, which this workload reads, was edited {edit.age} before the alert "
                f"({shown}) [{evidence[-1]}]; a higher load setting raises memory use."
            )
            contributing.append(Contributing(Ref.of(configmap), f"edited {edit.age} ago: {shown}"))
    logs = view.log(pod, first.name, previous=True)
    if logs:
        tail = logs.strip().splitlines()[-1][:300]
        evidence.append(ctx.cite("previous_log", pod, f"last line before the kill: {tail}"))
        parts.append(
            f"The previous container's log ends abruptly [{evidence[-1]}]: the process was killed, "
            "it did not exit on an application error."
        )
    summary = f"{workload_ref.kind} {workload_ref.name}: container {first.name} is OOMKilled" + (
        f" at its {limit} memory limit" if limit else ""
    )
    bigger = _suggested_limit(limit, [flag for _where, flag in heap_flags])
    recommendations = [
        Recommendation(
            "Give the container memory headroom",
            "immediate",
            f"Raise limits.memory above the working set{f' (for example {bigger})' if bigger else ''}, "
            "or lower the runtime's heap/concurrency to fit the current limit.",
            [kubectl.set_resources(workload_ref, first.name, limits={"memory": bigger})] if bigger else [],
        ),
        Recommendation(
            "Confirm the kills and watch usage",
            "immediate",
            "The previous container's last lines and the pod's termination reason.",
            [
                kubectl.describe(Ref.of(pod)),
                kubectl.logs(Ref.of(pod), first.name, previous=True),
                f"kubectl -n {kubectl.q(workload_ref.namespace)} top pod --containers",
            ],
        ),
    ]
    if contributing and any(c.resource == workload_ref for c in contributing):
        recommendations.insert(
            0,
            Recommendation(
                "Roll back the change that lowered memory",
                "immediate",
                "The last rollout changed the memory settings.",
                [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
            ),
        )
    recommendations.append(
        Recommendation(
            "Size memory from observed usage",
            "preventive",
            "Set requests from the p95 working set and limits with headroom; "
            "alert on usage above 90% of the limit.",
            [],
        )
    )
    return [
        Finding(
            category="oom-killed",
            resource=workload_ref,
            confidence=0.9,
            summary=summary,
            explanation=" ".join(parts) + " memory limit too low for the working set.",
            evidence=evidence,
            contributing=contributing,
            facts={"container": first.name, "limit": limit},
            recommendations=recommendations,
        )
    ]


def _configmaps(workload: dict) -> list[str]:
    names = []
    spec = pod_spec(workload)
    for container in spec.get("containers") or []:
        for source in container.get("envFrom") or []:
            name = (source.get("configMapRef") or {}).get("name")
            if name:
                names.append(name)
        for variable in container.get("env") or []:
            name = ((variable.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name")
            if name:
                names.append(name)
    for volume in spec.get("volumes") or []:
        name = (volume.get("configMap") or {}).get("name")
        if name:
            names.append(name)
    return list(dict.fromkeys(names))


_HEAP_SIZE = re.compile(r"-Xmx(\d+)([kKmMgG]?)|--max-old-space-size=(\d+)")
_UNIT_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "": 1 / (1024 * 1024)}


def _heap_mib(flags: list[str]) -> float | None:
    """The runtime's configured heap in MiB (-Xmx768m, --max-old-space-size=384), if any."""
    for flag in flags:
        match = _HEAP_SIZE.search(flag)
        if match and match.group(1):
            return int(match.group(1)) * _UNIT_MIB[match.group(2).lower()]
        if match and match.group(3):
            return float(match.group(3))
    return None


def _suggested_limit(limit: str | None, heap_flags: list[str]) -> str | None:
    """A limit with headroom: twice the current one, and at least the configured heap plus half
    again for the runtime's own memory (metaspace, threads, buffers), rounded up to 128 MiB."""
    value = parse_quantity(limit) if limit else None
    candidates = []
    if value:
        candidates.append(value * 2 / (1024 * 1024))
    heap = _heap_mib(heap_flags)
    if heap:
        candidates.append(heap * 1.5)
    if not candidates:
        return None
    mib = int(-(-max(candidates) // 128) * 128)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"
