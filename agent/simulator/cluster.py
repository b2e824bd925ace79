"""A scenario's cluster.json loaded into an immutable, indexed snapshot."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import conversions
from .kinds import KINDS, METRICS_GROUP, Kind, guessed_kind, kind_for_object
from .timeshift import offset_to_now, shift

Obj = dict[str, Any]
StorageKey = tuple[str, str]  # (group, kind)

BUILTIN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
_NAMESPACE_UID = uuid.UUID("6f1d7c1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f")


class ScenarioError(ValueError):
    """A scenario folder that cannot be served, with a message a person can act on."""


def storage_key(kind: Kind) -> StorageKey:
    """Where objects of a served kind live: events.k8s.io Events are the core Events."""
    if kind.group == "events.k8s.io" and kind.kind == "Event":
        return ("", "Event")
    return (kind.group, kind.kind)


def _sort_key(obj: Obj) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return (metadata.get("namespace") or "", metadata.get("name") or "")


@dataclass(frozen=True)
class Cluster:
    """Everything one scenario serves. Never mutated after construction: swap, don't edit."""

    name: str | None = None
    path: str | None = None
    capture: Obj = field(default_factory=dict)
    kinds: tuple[Kind, ...] = KINDS
    objects: dict[StorageKey, list[Obj]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    previous_logs: dict[str, str] = field(default_factory=dict)
    log_errors: dict[str, str] = field(default_factory=dict)
    resource_version: str = "1"
    generation: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def has_metrics(self) -> bool:
        return any(key[0] == METRICS_GROUP and objs for key, objs in self.objects.items())

    @property
    def served_kinds(self) -> tuple[Kind, ...]:
        """Kinds to advertise: metrics.k8s.io only when the scenario has metrics (like metrics-server)."""
        return tuple(k for k in self.kinds if k.group != METRICS_GROUP or self.has_metrics)

    def kind_for_path(self, group: str, version: str, plural: str) -> Kind | None:
        for kind in self.served_kinds:
            if (kind.group, kind.version, kind.plural) == (group, version, plural):
                return kind
        return None

    def objects_of(self, kind: Kind, namespace: str | None = None) -> list[Obj]:
        """Stored objects of a kind, optionally in one namespace, in (namespace, name) order."""
        items = self.objects.get(storage_key(kind), [])
        if namespace is None:
            return items
        return [o for o in items if (o.get("metadata") or {}).get("namespace") == namespace]

    def find(self, kind: Kind, namespace: str | None, name: str) -> Obj | None:
        for obj in self.objects_of(kind, namespace):
            if (obj.get("metadata") or {}).get("name") == name:
                return obj
        return None

    def counts(self) -> dict[str, int]:
        """Object counts by kind, for `/_simulator/state`."""
        return {kind: len(objs) for (_group, kind), objs in sorted(self.objects.items()) if objs}


def empty_cluster() -> Cluster:
    """An empty cluster: no scenario loaded yet, but the built-in namespaces exist."""
    return Cluster(objects={("", "Namespace"): _derived_namespaces([])})


def load_cluster(scenario_dir: str | Path, *, shift_to_now: bool = False) -> Cluster:
    """Read `<scenario_dir>/cluster.json` into a Cluster, or raise ScenarioError.

    With `shift_to_now`, every timestamp of the objects moves so that the capture happened now
    (`timeshift.py`); `x-capture.originalCapturedAt` keeps the capture time the logs were written at.
    """
    directory = Path(scenario_dir)
    path = directory / "cluster.json"
    if not directory.is_dir() or not path.is_file():
        raise ScenarioError(f"{directory} is not a directory containing cluster.json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise ScenarioError(f"{path}: expected a v1 List with an 'items' array")

    capture = dict(document.get("x-capture") or {})
    offset = offset_to_now(capture.get("capturedAt")) if shift_to_now else None
    if offset is not None:
        document = dict(document, items=shift(document["items"], offset))
        capture["originalCapturedAt"] = capture["capturedAt"]
        capture["capturedAt"] = shift(capture["capturedAt"], offset)
    kinds = list(KINDS)
    objects: dict[StorageKey, list[Obj]] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for index, item in enumerate(document["items"]):
        kind, obj = _classify(item, index, path, kinds)
        if kind is None:
            continue
        group, kind_name = storage_key(kind)
        identity = (group, kind_name, obj["metadata"].get("namespace") or "", obj["metadata"]["name"])
        if identity in seen:
            raise ScenarioError(f"{path}: items[{index}] duplicates {kind_name} {'/'.join(identity[2:])}")
        seen.add(identity)
        objects.setdefault((group, kind_name), []).append(obj)

    if not objects.get(("", "Namespace")):
        objects[("", "Namespace")] = _derived_namespaces(o for objs in objects.values() for o in objs)
    for items in objects.values():
        items.sort(key=_sort_key)

    return Cluster(
        name=directory.resolve().name,
        path=str(directory.resolve()),
        capture=capture,
        kinds=tuple(kinds),
        objects=objects,
        logs=_text_map(document, "logs", path),
        previous_logs=_text_map(document, "previous_logs", path),
        log_errors=_text_map(document, "log_errors", path),
        resource_version=_resource_version(objects.values(), document),
    )


def _classify(item: Any, index: int, path: Path, kinds: list[Kind]) -> tuple[Kind | None, Obj]:
    if not isinstance(item, dict) or not item.get("kind") or not item.get("apiVersion"):
        raise ScenarioError(f"{path}: items[{index}] has no apiVersion/kind")
    api_version, kind_name = item["apiVersion"], item["kind"]
    if kind_name == "Secret" and api_version == "v1":
        return None, item  # never served, even if a scenario carries one by mistake
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise ScenarioError(f"{path}: items[{index}] ({kind_name}) has no metadata.name")
    if api_version == "autoscaling/v1" and kind_name == "HorizontalPodAutoscaler":
        item = conversions.hpa_v1_to_v2(item)
    elif api_version.startswith("events.k8s.io/") and kind_name == "Event":
        item = conversions.event_v1_to_core(item)
    kind = kind_for_object(item["apiVersion"], kind_name)
    if kind is None:
        kind = guessed_kind(api_version, kind_name, namespaced=bool(metadata.get("namespace")))
        if kind not in kinds:
            kinds.append(kind)
    elif kind.namespaced and not metadata.get("namespace"):
        # what the API server does on create; a scenario may leave it out
        item = {**item, "metadata": {**metadata, "namespace": "default"}}
    elif not kind.namespaced and metadata.get("namespace"):
        raise ScenarioError(f"{path}: items[{index}] is a cluster-scoped {kind_name} with a namespace")
    return kind, item


def _derived_namespaces(objects: Iterable[Obj]) -> list[Obj]:
    """Namespace objects for every namespace the scenario uses, plus the built-in ones."""
    first_seen: dict[str, str] = {}
    oldest = ""
    for obj in objects:
        metadata = obj.get("metadata") or {}
        created = metadata.get("creationTimestamp") or ""
        if created and (not oldest or created < oldest):
            oldest = created
        namespace = metadata.get("namespace")
        if namespace and (namespace not in first_seen or (created and created < first_seen[namespace])):
            first_seen[namespace] = created
    for namespace in BUILTIN_NAMESPACES:
        first_seen[namespace] = oldest
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid5(_NAMESPACE_UID, name)),
                "resourceVersion": "1",
                "creationTimestamp": created or oldest or None,
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        for name, created in sorted(first_seen.items())
    ]


def _text_map(document: Obj, key: str, path: Path) -> dict[str, str]:
    value = document.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ScenarioError(f"{path}: '{key}' must map 'namespace/pod/container' to text")
    return dict(value)


def _resource_version(groups: Iterable[list[Obj]], document: Obj) -> str:
    """The newest resourceVersion in the snapshot: what a list at capture time would report."""
    versions = [
        int(rv)
        for objs in groups
        for obj in objs
        if str(rv := (obj.get("metadata") or {}).get("resourceVersion", "")).isdigit()
    ]
    if versions:
        return str(max(versions))
    listed = str((document.get("metadata") or {}).get("resourceVersion") or "")
    return listed if listed.isdigit() else "1"
