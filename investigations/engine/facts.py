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


@dataclasses.dataclass(frozen=True)
class FieldDiff:
    """One field of a pod template that differs: its path, the old and the new value."""

    field: str  # "container api image", "volume data", "nodeSelector", "pod label app"
    before: Any
    after: Any
    short: bool = False  # a structure, rendered shortened

    @property
    def container(self) -> str:
        """The container the field belongs to ("" for pod-level fields)."""
        if not self.field.startswith("container "):
            return ""
        return self.field.split(" ", 2)[1].rstrip(":")

    def text(self) -> str:
        if self.short:
            return f"{self.field}: {_short(self.before)} → {_short(self.after)}"
        return f"{self.field}: {self.before!s} → {self.after!s}"


_CONTAINER_FIELDS = ("image", "command", "args")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_POD_FIELDS = ("nodeSelector", "affinity", "tolerations", "serviceAccountName")
_MORE_POD_FIELDS = (
    "topologySpreadConstraints",
    "priorityClassName",
    "dnsPolicy",
    "dnsConfig",
    "hostNetwork",
    "securityContext",
    "runtimeClassName",
)

# Written onto pods by the network plugin or admission, not chosen by anyone (some tools copy them back).
_RUNTIME_ANNOTATIONS = (
    "k8s.ovn.org/",
    "k8s.v1.cni.cncf.io/",
    "openshift.io/scc",
    "cni.projectcalico.org/",
    "kubernetes.io/psp",
)


def template_field_diff(old: dict, new: dict) -> list[FieldDiff]:
    """What differs between two pod templates, field by field (old and new values kept)."""
    out: list[FieldDiff] = []
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    for section in ("containers", "initContainers"):
        old_containers = {c.get("name"): c for c in old_spec.get(section) or []}
        new_names = set()
        for container in new_spec.get(section) or []:
            new_names.add(container.get("name"))
            out += _container_diff(
                container.get("name"), old_containers.get(container.get("name")) or {}, container
            )
        for name, gone in old_containers.items():
            if name not in new_names:
                out.append(FieldDiff(f"container {name}", gone, None, short=True))
    for field in _POD_FIELDS:
        if old_spec.get(field) != new_spec.get(field):
            out.append(FieldDiff(field, old_spec.get(field), new_spec.get(field), short=True))
    out += _keyed_diff("volume", old_spec.get("volumes"), new_spec.get("volumes"), _name)
    for field in _MORE_POD_FIELDS:
        if old_spec.get(field) != new_spec.get(field):
            out.append(FieldDiff(field, old_spec.get(field), new_spec.get(field), short=True))
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    old_labels, new_labels = old_meta.get("labels") or {}, new_meta.get("labels") or {}
    for key in sorted(set(old_labels) | set(new_labels)):
        if key != "pod-template-hash" and old_labels.get(key) != new_labels.get(key):
            out.append(FieldDiff(f"pod label {key}", old_labels.get(key), new_labels.get(key)))
    old_notes, new_notes = old_meta.get("annotations") or {}, new_meta.get("annotations") or {}
    for key in sorted(set(old_notes) | set(new_notes)):
        if old_notes.get(key) != new_notes.get(key) and not key.startswith(_RUNTIME_ANNOTATIONS):
            out.append(FieldDiff(f"pod annotation {key}", old_notes.get(key), new_notes.get(key)))
    return out


def _container_diff(name: str, before: dict, container: dict) -> list[FieldDiff]:
    out: list[FieldDiff] = []
    for field in _CONTAINER_FIELDS:
        if before.get(field) != container.get(field):
            out.append(FieldDiff(f"container {name} {field}", before.get(field), container.get(field)))
    for section in ("limits", "requests"):
        b = (before.get("resources") or {}).get(section) or {}
        a = (container.get("resources") or {}).get(section) or {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(FieldDiff(f"container {name} resources.{section}.{key}", b.get(key), a.get(key)))
    b_env = {e.get("name"): e.get("value", e.get("valueFrom")) for e in before.get("env") or []}
    a_env = {e.get("name"): e.get("value", e.get("valueFrom")) for e in container.get("env") or []}
    for key in sorted(set(a_env) | set(b_env), key=str):
        if a_env.get(key) != b_env.get(key):
            out.append(FieldDiff(f"container {name} env {key}", b_env.get(key), a_env.get(key)))
    for probe in _PROBES:
        if before.get(probe) != container.get(probe):
            out.append(
                FieldDiff(f"container {name} {probe}", before.get(probe), container.get(probe), short=True)
            )
    if before.get("ports") != container.get("ports"):
        out.append(
            FieldDiff(f"container {name} ports", before.get("ports"), container.get("ports"), short=True)
        )
    out += _keyed_diff(
        f"container {name} envFrom", before.get("envFrom"), container.get("envFrom"), _env_source
    )
    out += _keyed_diff(
        f"container {name} volumeMount", before.get("volumeMounts"), container.get("volumeMounts"), _mount
    )
    return out


def _keyed_diff(prefix: str, old: list | None, new: list | None, key) -> list[FieldDiff]:
    """Items of two lists matched by `key` (volumes by name, mounts by path): changed, added, removed."""
    before = {key(item): item for item in old or [] if isinstance(item, dict)}
    after = {key(item): item for item in new or [] if isinstance(item, dict)}
    return [
        FieldDiff(f"{prefix} {name}", before.get(name), after.get(name), short=True)
        for name in [*after, *(k for k in before if k not in after)]
        if before.get(name) != after.get(name)
    ]


def _name(item: dict) -> str:
    return str(item.get("name", ""))


def _mount(item: dict) -> str:
    return str(item.get("mountPath") or item.get("name", ""))


def _env_source(item: dict) -> str:
    for field in ("configMapRef", "secretRef"):
        if item.get(field):
            return f"{field}:{(item.get(field) or {}).get('name', '')}"
    return str(item)


def template_diff(old: dict, new: dict) -> list[str]:
    """Readable differences between two pod templates (images, resources, env, probes, volumes, selectors)."""
    return [diff.text() for diff in template_field_diff(old, new)]


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


# --- condition polarity -------------------------------------------------------------------------
# Whether a condition's True means healthy or a problem. Only known polarity counts: a condition
# type we cannot place (a vendor's `EtcdIsVoter`, a custom agent's flag) is never a problem by
# itself, because reading True as "bad" is the false positive k8sgpt users reported for years
# (k8sgpt#1461: EKS node-monitoring conditions `KernelReady=True` shown as node problems).

HEALTHY_WHEN_TRUE = frozenset(
    {"Ready", "Available", "Progressing", "Initialized", "ContainersReady", "PodScheduled", "Complete"}
)
PROBLEM_WHEN_TRUE = frozenset(
    {
        # kubelet
        "MemoryPressure",
        "DiskPressure",
        "PIDPressure",
        "NetworkUnavailable",
        # node-problem-detector (and the GKE, AKS, EKS builds of it)
        "KernelDeadlock",
        "ReadonlyFilesystem",
        "FrequentKubeletRestart",
        "FrequentDockerRestart",
        "FrequentContainerdRestart",
        "FrequentUnregisterNetDevice",
        "CorruptDockerOverlay2",
        "ContainerRuntimeProblem",
        "KubeletProblem",
        "NTPProblem",
        "FilesystemCorruptionProblem",
        "Failed",
        "ReplicaFailure",
    }
)
# Scheduled-maintenance notices (AKS `VMEventScheduled`, `RebootScheduled`, …): True announces a
# future action, not a present fault.
_NOTICE_SUFFIXES = ("Scheduled",)
# Naming conventions vendors follow: `<Subsystem>Ready` is healthy when True (EKS node monitoring
# agent: KernelReady, NetworkingReady, StorageReady, ContainerRuntimeReady, AcceleratedHardwareReady);
# `<Something>Problem` / `<Something>Pressure` / `Frequent<Something>` are problems when True.
_HEALTHY_SUFFIXES = ("Ready",)
_PROBLEM_SUFFIXES = ("Problem", "Pressure", "Unavailable", "Deadlock", "Corruption")
_PROBLEM_PREFIXES = ("Frequent",)


def condition_polarity(condition_type: str) -> str | None:
    """ "healthy-when-true", "problem-when-true", or None when the type's meaning is not known."""
    if condition_type in HEALTHY_WHEN_TRUE:
        return "healthy-when-true"
    if condition_type in PROBLEM_WHEN_TRUE:
        return "problem-when-true"
    if condition_type.endswith(_NOTICE_SUFFIXES):
        return None
    if condition_type.endswith(_HEALTHY_SUFFIXES):
        return "healthy-when-true"
    if condition_type.endswith(_PROBLEM_SUFFIXES) or condition_type.startswith(_PROBLEM_PREFIXES):
        return "problem-when-true"
    return None


def condition_is_problem(condition: dict) -> bool:
    """True only when a condition of known polarity says something is wrong (Unknown counts for Ready)."""
    polarity = condition_polarity(str(condition.get("type") or ""))
    status = condition.get("status")
    if polarity == "healthy-when-true":
        return status != "True"
    if polarity == "problem-when-true":
        return status == "True"
    return False
