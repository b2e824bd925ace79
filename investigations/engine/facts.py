"""Facts analyzers share: container states, failing containers, specs, and what changed recently."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from investigations.engine.evidence import ClusterView, Ref, human_age, parse_time


@dataclasses.dataclass
class ContainerState:
    pod: dict
    name: str
    ready: bool
    restarts: int
    waiting_reason: str
    waiting_message: str
    last_reason: str  # lastState.terminated.reason
    last_exit_code: int | None
    last_finished_at: str
    running: bool
    terminated_reason: str
    init: bool = False

    @property
    def failing(self) -> bool:
        return (
            bool(
                not self.ready
                and (
                    self.waiting_reason
                    or self.restarts > 0
                    or self.terminated_reason not in ("", "Completed")
                )
            )
            or self.restarts >= 3
        )


def container_states(pod: dict) -> list[ContainerState]:
    states = []
    status = pod.get("status") or {}
    for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
        for item in status.get(key) or []:
            state = item.get("state") or {}
            last = (item.get("lastState") or {}).get("terminated") or {}
            waiting = state.get("waiting") or {}
            terminated = state.get("terminated") or {}
            states.append(
                ContainerState(
                    pod=pod,
                    name=item.get("name", ""),
                    ready=bool(item.get("ready")),
                    restarts=int(item.get("restartCount") or 0),
                    waiting_reason=waiting.get("reason", ""),
                    waiting_message=waiting.get("message", ""),
                    last_reason=last.get("reason", ""),
                    last_exit_code=last.get("exitCode"),
                    last_finished_at=last.get("finishedAt", ""),
                    running="running" in state,
                    terminated_reason=terminated.get("reason", ""),
                    init=init,
                )
            )
    return states


def container_spec(obj: dict, name: str) -> dict | None:
    spec = pod_spec(obj)
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if container.get("name") == name:
            return container
    return None


def pod_spec(obj: dict) -> dict:
    """The pod spec of a Pod or a workload's template (CronJob included)."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def pod_condition(pod: dict, condition: str) -> dict | None:
    for item in (pod.get("status") or {}).get("conditions") or []:
        if item.get("type") == condition:
            return item
    return None


def env_value(view: ClusterView, obj: dict, container: dict, variable: str) -> tuple[str | None, str]:
    """(value, where it comes from) of an env variable, resolving ConfigMap refs; Secrets stay unread."""
    namespace = Ref.of(obj).namespace
    for item in container.get("env") or []:
        if item.get("name") != variable:
            continue
        if "value" in item:
            return str(item.get("value")), "env"
        ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = view.get("ConfigMap", namespace, ref.get("name", ""))
            return ((cm or {}).get("data") or {}).get(
                ref.get("key", "")
            ), f"ConfigMap {ref.get('name')} key {ref.get('key')}"
        if (item.get("valueFrom") or {}).get("secretKeyRef"):
            return None, f"Secret {item['valueFrom']['secretKeyRef'].get('name')}"
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref:
            cm = view.get("ConfigMap", namespace, ref.get("name", ""))
            data = (cm or {}).get("data") or {}
            if variable in data:
                return str(data[variable]), f"ConfigMap {ref.get('name')}"
    return None, ""


@dataclasses.dataclass
class Change:
    """Something that changed recently: a rollout, an edited ConfigMap, a scaled workload."""

    resource: Ref
    when: str  # ISO time
    age: str  # "40 min" before capture
    what: str
    details: list[str] = dataclasses.field(default_factory=list)
    revision: int | None = None
    previous_revision: int | None = None


def rollout_changes(view: ClusterView, workload: dict) -> list[Change]:
    """A Deployment's revisions, newest first, with what changed in the pod template between them."""
    if workload.get("kind") != "Deployment":
        return []
    replica_sets = list(view.owned_by(workload, "ReplicaSet"))

    def revision(rs: dict) -> int:
        try:
            return int(
                ((rs.get("metadata") or {}).get("annotations") or {}).get(
                    "deployment.kubernetes.io/revision", 0
                )
            )
        except (TypeError, ValueError):
            return 0

    replica_sets.sort(key=revision, reverse=True)
    changes = []
    for newer, older in itertools.pairwise(replica_sets):
        created = (newer.get("metadata") or {}).get("creationTimestamp", "")
        age = view.age_seconds(created)
        cause = ((newer.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/change-cause", "")
        details = template_diff(
            ((older.get("spec") or {}).get("template") or {}),
            ((newer.get("spec") or {}).get("template") or {}),
        )
        what = f"rollout to revision {revision(newer)}" + (f" ({cause})" if cause else "")
        changes.append(
            Change(
                Ref.of(workload),
                created,
                human_age(age) if age is not None else "?",
                what,
                details,
                revision(newer),
                revision(older),
            )
        )
    return changes


def template_diff(old: dict, new: dict) -> list[str]:
    """Readable differences between two pod templates (images, resources, env, probes, selectors)."""
    out: list[str] = []
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    old_containers = {c.get("name"): c for c in old_spec.get("containers") or []}
    for container in new_spec.get("containers") or []:
        name = container.get("name")
        before = old_containers.get(name) or {}
        for field in ("image", "command", "args"):
            if before.get(field) != container.get(field):
                out.append(f"container {name} {field}: {before.get(field)!s} → {container.get(field)!s}")
        for section in ("limits", "requests"):
            b = (before.get("resources") or {}).get(section) or {}
            a = (container.get("resources") or {}).get(section) or {}
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    out.append(f"container {name} resources.{section}.{key}: {b.get(key)} → {a.get(key)}")
        b_env = {e.get("name"): e.get("value", e.get("valueFrom")) for e in before.get("env") or []}
        a_env = {e.get("name"): e.get("value", e.get("valueFrom")) for e in container.get("env") or []}
        for key in sorted(set(a_env) | set(b_env), key=str):
            if a_env.get(key) != b_env.get(key):
                out.append(f"container {name} env {key}: {b_env.get(key)} → {a_env.get(key)}")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if before.get(probe) != container.get(probe):
                out.append(
                    f"container {name} {probe}: {_short(before.get(probe))} → {_short(container.get(probe))}"
                )
        if before.get("ports") != container.get("ports"):
            out.append(
                f"container {name} ports: {_short(before.get('ports'))} → {_short(container.get('ports'))}"
            )
    for field in (
        "nodeSelector",
        "affinity",
        "tolerations",
        "serviceAccountName",
        "volumes",
        "dnsPolicy",
        "dnsConfig",
        "hostNetwork",
        "securityContext",
    ):
        if old_spec.get(field) != new_spec.get(field):
            out.append(f"{field}: {_short(old_spec.get(field))} → {_short(new_spec.get(field))}")
    old_labels, new_labels = (
        (old.get("metadata") or {}).get("labels") or {},
        (new.get("metadata") or {}).get("labels") or {},
    )
    for key in sorted(set(old_labels) | set(new_labels)):
        if key != "pod-template-hash" and old_labels.get(key) != new_labels.get(key):
            out.append(f"pod label {key}: {old_labels.get(key)} → {new_labels.get(key)}")
    return out


def _short(value: Any, limit: int = 160) -> str:
    text = "none" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def last_modified(view: ClusterView, obj: dict) -> tuple[str, str] | None:
    """(ISO time, manager) of the latest managedFields entry — when an object was last edited."""
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    best = None
    for entry in entries:
        when = entry.get("time") or ""
        if when and (best is None or when > best[0]):
            best = (when, entry.get("manager", ""))
    return best


def recent_edit(view: ClusterView, obj: dict, within_seconds: float = 6 * 3600) -> Change | None:
    """A Change when `obj` was edited (managedFields) within the window before capture."""
    modified = last_modified(view, obj)
    if not modified:
        return None
    created = (obj.get("metadata") or {}).get("creationTimestamp", "")
    age = view.age_seconds(modified[0])
    if age is None or age > within_seconds or modified[0] == created:
        return None
    return Change(Ref.of(obj), modified[0], human_age(age), f"edited by {modified[1] or 'someone'}")


def is_recent(view: ClusterView, timestamp: str, within_seconds: float) -> bool:
    age = view.age_seconds(timestamp)
    return age is not None and 0 <= age <= within_seconds


def ts(value: str) -> str:
    when = parse_time(value)
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else value
