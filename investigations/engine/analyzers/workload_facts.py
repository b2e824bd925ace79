"""What the workload-family analyzers read from the alerting pods, shared between them: pods grouped by
workload, their events, rollouts and settings (env, ConfigMaps, args), crashing containers and the
crash in their logs, CPU use against the limit, and the "confirm on the pod" recommendation.

Every decision comes from mechanisms (container states, kubelet messages, events, probe specs, log
lines, values against what exists in the cluster, metrics against limits), never from names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from investigations.engine import kubectl
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Ref, parse_quantity
from investigations.engine.facts import (
    Change,
    ContainerState,
    container_spec,
    container_states,
    pod_spec,
    rollout_changes,
    ts,
)
from investigations.engine.kubectl import Recommendation

# Something in the logs points at a connection, a dependency or configuration, not at the code.
DEPENDENCY_SIGNAL = re.compile(
    r"could not translate host name|name or service not known|no such host|ENOTFOUND|EAI_AGAIN|"
    r"UnknownHostException|NXDOMAIN|connection refused|ECONNREFUSED|could not connect|"
    r"failed to connect|i/o timeout|timed out|connection reset|does not support SSL|SSL was required|"
    r"certificate|x509|forbidden|permission denied|authentication failed|access denied|"
    r"missing required|is required|not set|environment variable|KeyError|no such file|"
    r"invalid value|invalid configuration|unknown (?:option|flag|setting)|"
    r"no space left on device|ENOSPC|temporary failure in name resolution|server misbehaving",
    re.I,
)
KILLED_BY_SIGNAL = (137, 143)


def workload_of(view: ClusterView, pod: dict) -> dict:
    return view.top_owner(pod)


def group_by_workload(view: ClusterView, items: Iterable) -> list[tuple[dict, list]]:
    """[(workload, [items…])] keeping first-seen order; items have a .pod or are (pod, …) tuples."""
    groups: list[tuple[dict, list]] = []
    for item in items:
        pod = item.pod if isinstance(item, ContainerState) else item[0]
        owner = workload_of(view, pod)
        for existing, members in groups:
            if existing is owner:
                members.append(item)
                break
        else:
            groups.append((owner, [item]))
    return groups


def matching_events(view: ClusterView, obj: dict, reason: str | None = None, text: str = "") -> list[dict]:
    found = []
    for event in view.events_for(obj):
        if reason and event.get("reason") != reason:
            continue
        if text and text.lower() not in (event.get("message") or "").lower():
            continue
        found.append(event)
    return found


def event_count(event: dict) -> int:
    try:
        return int(event.get("count") or (event.get("series") or {}).get("count") or 1)
    except (TypeError, ValueError):
        return 1


def spec_of(view: ClusterView, pod: dict, name: str) -> dict:
    return container_spec(pod, name) or container_spec(workload_of(view, pod), name) or {}


def _pod_revision(view: ClusterView, pod: dict) -> tuple[str, str]:
    """(revision, change-cause) of the ReplicaSet that created the pod."""
    owner = view.owner(pod)
    if owner is None or owner.get("kind") != "ReplicaSet":
        return "", ""
    annotations = (owner.get("metadata") or {}).get("annotations") or {}
    return (
        annotations.get("deployment.kubernetes.io/revision", ""),
        annotations.get("kubernetes.io/change-cause", ""),
    )


def latest_rollout(view: ClusterView, workload: dict, pod: dict | None = None) -> Change | None:
    """The rollout that created `pod`'s revision (or the newest one) when it differs from the last."""
    changes = rollout_changes(view, workload)
    if not changes:
        return None
    if pod is not None:
        revision, _cause = _pod_revision(view, pod)
        for change in changes:
            if str(change.revision) == revision:
                return change
    return changes[0]


def change_text(change: Change, keep: Iterable[str] | None = None) -> str:
    details = [d for d in change.details if keep is None or any(k in d for k in keep)]
    text = f"{change.what}, {change.age} before the capture ({ts(change.when)})"
    return text + (f": {'; '.join(details[:4])}" if details else "")


def configmap_names(workload: dict) -> list[str]:
    names = []
    spec = pod_spec(workload)
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
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
        for source in (volume.get("projected") or {}).get("sources") or []:
            name = (source.get("configMap") or {}).get("name")
            if name:
                names.append(name)
    return list(dict.fromkeys(names))


def readable_settings(view: ClusterView, workload: dict, container: dict) -> list[tuple[str, str, str]]:
    """(name, value, where) of every readable setting: literal env, ConfigMap env keys, ConfigMap files."""
    namespace = Ref.of(workload).namespace
    out: list[tuple[str, str, str]] = []
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item:
            out.append((name, str(item.get("value")), ""))
            continue
        ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = view.get("ConfigMap", namespace, ref.get("name", ""))
            value = ((cm or {}).get("data") or {}).get(ref.get("key", ""))
            if value is not None:
                out.append((name, str(value), ref.get("name", "")))
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if not ref:
            continue
        cm = view.get("ConfigMap", namespace, ref.get("name", ""))
        prefix = source.get("prefix") or ""
        for key, value in ((cm or {}).get("data") or {}).items():
            out.append((prefix + key, str(value), ref.get("name", "")))
    mounted = set()
    for mount in container.get("volumeMounts") or []:
        mounted.add(mount.get("name"))
    for volume in pod_spec(workload).get("volumes") or []:
        name = (volume.get("configMap") or {}).get("name")
        if name and volume.get("name") in mounted:
            cm = view.get("ConfigMap", namespace, name)
            for key, value in ((cm or {}).get("data") or {}).items():
                out.append((key, str(value), name))
    for index, arg in enumerate((container.get("command") or []) + (container.get("args") or [])):
        out.append((f"args[{index}]", str(arg), ""))
    return out


def first_of(iterable: Iterable, default=None):
    return next(iter(iterable), default)


def shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def diagnose_pod(pod_ref: Ref, container: str, previous: bool = True) -> Recommendation:
    return Recommendation(
        "Confirm on the pod",
        "immediate",
        "The pod's state, events and the last container's log.",
        [kubectl.describe(pod_ref), kubectl.logs(pod_ref, container, previous=previous)],
    )


def split_image(image: str) -> tuple[str, str, str]:
    name, _, digest = image.partition("@")
    registry = ""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    return registry, repository, tag or digest


def crashing_containers(ctx: Context) -> list[ContainerState]:
    out = []
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.last_reason == "OOMKilled" or state.terminated_reason == "OOMKilled":
                continue
            code = state.last_exit_code
            crash_loop = state.waiting_reason == "CrashLoopBackOff"
            if code in (None, 0) and not crash_loop:
                continue
            if state.restarts < 1 and not crash_loop:
                continue
            out.append(state)
    return out


def crash_excerpt(log: str) -> tuple[str, str]:
    """(error line, code location) of the first crash in a log, or ('', '')."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("panic: ", "fatal error: ")):
            location = ""
            for offset, follow in enumerate(lines[index + 1 : index + 12], start=index + 1):
                if follow.startswith(("goroutine ", "[", "\t")) or "(" not in follow:
                    continue
                location = re.sub(r"\(0x[0-9a-f, x.]*\)$", "", follow.strip())
                nxt = lines[offset + 1].strip() if offset + 1 < len(lines) else ""
                if nxt:
                    location += f" at {nxt.split(' +')[0]}"
                break
            return stripped, location
    python = [line for line in lines if re.match(r"^[\w.]+(?:Error|Exception|Exit)\b.*:", line.strip())]
    if any("Traceback (most recent call last)" in line for line in lines) and python:
        frames = [f.strip() for f in lines if f.strip().startswith('File "') and "site-packages" not in f]
        return python[-1].strip(), (frames[-1] if frames else "")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("Exception in thread") or re.match(
            r"^[\w.$]+(?:Exception|Error)(?::|$)", stripped
        ):
            frame = first_of(f.strip() for f in lines[index + 1 : index + 20] if f.strip().startswith("at "))
            return stripped, frame or ""
    for line in lines:
        if re.search(r"Unhandled|uncaught|segmentation fault", line, re.I):
            return line.strip(), ""
    return "", ""


def log_text(view: ClusterView, states: list[ContainerState]) -> tuple[str, ContainerState | None, str]:
    for state in states:
        for previous in (True, False):
            text = view.log(state.pod, state.name, previous=previous)
            if text:
                return text, state, "previous_log" if previous else "log"
    return "", None, ""


def line_with(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle.lower() in line.lower():
            return line.strip()
    return needle


def cpu_usage(view: ClusterView, pod: dict, container: str) -> tuple[float | None, float | None, str, str]:
    """(usage cores, limit cores, usage text, limit text) of one container."""
    spec = spec_of(view, pod, container)
    limit_text = ((spec.get("resources") or {}).get("limits") or {}).get("cpu")
    usage_text = ""
    metrics = view.metrics_for(pod)
    for item in (metrics or {}).get("containers") or []:
        if item.get("name") == container:
            usage_text = (item.get("usage") or {}).get("cpu") or ""
    return parse_quantity(usage_text), parse_quantity(limit_text), usage_text, limit_text or ""


def cpu_saturated(view: ClusterView, pod: dict, container: str) -> bool:
    usage, limit, _u, _l = cpu_usage(view, pod, container)
    return bool(usage and limit and usage >= 0.9 * limit)
