"""An object's edit history as the API server keeps it on the object itself.

`metadata.managedFields` says, per field manager (Helm, Argo CD, `kubectl edit`, a controller),
when it last wrote and which fields it owns, and through which subresource (`scale`, `status`).
`kubectl.kubernetes.io/last-applied-configuration` holds what `kubectl apply` last sent: where the
live object differs from it, someone changed it out of band (edit, patch, scale), and the applied
value is the "before".
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from investigations.engine.evidence import parse_quantity

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CLIENT_SIDE_APPLY = "kubectl-client-side-apply"

# Field managers in the words an SRE uses (the raw name is kept beside it).
_MANAGERS = {
    "helm": "Helm",
    "helm-controller": "Flux",
    "kustomize-controller": "Flux",
    "argocd-controller": "Argo CD",
    "argocd-application-controller": "Argo CD",
    "argocd-server": "Argo CD (UI/API)",
    "fleet-agent": "Rancher Fleet",
    "kapp": "Carvel kapp",
    "pulumi-kubernetes": "Pulumi",
    "Terraform": "Terraform",
    "terraform-provider-kubernetes": "Terraform",
    "Reloader": "Stakater Reloader",
    "kyverno": "Kyverno",
    "external-secrets": "External Secrets",
    "kube-controller-manager": "Kubernetes controller manager",
    "k3s": "k3s controllers",
    "oc": "OpenShift CLI",
    "Go-http-client": "an API client",
    "OpenAPI-Generator": "an API client",
}
_IGNORED_ANNOTATIONS = {
    LAST_APPLIED,
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
}
# Maps whose every key is meaningful: a key the live object has and the applied one lacks was added.
_WHOLE_MAPS = {
    "data",
    "binaryData",
    "selector",
    "matchLabels",
    "nodeSelector",
    "limits",
    "requests",
    "labels",
}
_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}

Step = tuple[str, Any]  # ("f", field) | ("k", {key fields}) | ("v", value) | ("i", index)
Path = tuple[Step, ...]


def manager_name(
    manager: str, *, operation: str = "", subresource: str = "", paths: Sequence[Path] = ()
) -> str:
    """Who, in human terms: "Argo CD (argocd-controller)", "kubectl edit", "kubectl scale"."""
    if not manager:
        return "unknown (not recorded)"
    restart = any(path_text(p).endswith("kubectl.kubernetes.io/restartedAt") for p in paths)
    if manager in ("kubectl", "kubectl-rollout") and restart:
        return "kubectl rollout restart"
    if manager == "kubectl":
        if subresource == "scale":
            return "kubectl scale"
        return "kubectl apply --server-side" if operation == "Apply" else "kubectl"
    if manager == CLIENT_SIDE_APPLY:
        return "kubectl apply"
    if manager.startswith("kubectl-"):
        return "kubectl " + manager.removeprefix("kubectl-")
    if manager == "kube-controller-manager" and subresource == "scale":
        return "HorizontalPodAutoscaler (kube-controller-manager)"
    human = _MANAGERS.get(manager)
    return f"{human} ({manager})" if human else manager


@dataclasses.dataclass
class Edit:
    """One managedFields entry: a manager's last write to the object."""

    time: str
    manager: str
    operation: str
    subresource: str
    paths: list[Path]

    @property
    def who(self) -> str:
        return manager_name(
            self.manager, operation=self.operation, subresource=self.subresource, paths=self.paths
        )

    @property
    def fields(self) -> list[str]:
        return [path_text(p) for p in self.paths]

    @property
    def containers(self) -> set[str]:
        return {name for p in self.paths if (name := path_container(p))}

    def touches(self, prefix: str) -> bool:
        return any(within(field, prefix) for field in self.fields)


def within(field: str, prefix: str) -> bool:
    """Whether a field path is `prefix` or inside it (`data.A` is not inside `data.AB`)."""
    return field == prefix or field.startswith((prefix + ".", prefix + "["))


def edits(obj: dict) -> list[Edit]:
    """The object's managedFields entries that changed what it should be (never `status`), oldest first."""
    found = []
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict) or entry.get("subresource") == "status":
            continue
        paths = [p for p in field_paths(entry.get("fieldsV1") or {}) if not _bookkeeping(p)]
        if not paths:
            continue
        paths.sort(key=lambda p: p[:1] == (("f", "metadata"),))  # spec and data first, metadata last
        found.append(
            Edit(
                entry.get("time") or "",
                entry.get("manager") or "",
                entry.get("operation") or "",
                entry.get("subresource") or "",
                paths,
            )
        )
    return sorted(found, key=lambda e: e.time)


def field_paths(fields: dict, prefix: Path = ()) -> list[Path]:
    """Leaf paths of a FieldsV1 set; a list item keyed by its fields counts as one (env[X], ports[...]),
    except containers, whose fields are listed one by one."""
    paths: list[Path] = []
    for raw, child in fields.items():
        if raw == ".":
            continue
        step = _step(raw)
        if step is None:
            continue
        path = (*prefix, step)
        children = {k: v for k, v in (child or {}).items() if k != "."} if isinstance(child, dict) else {}
        container_item = step[0] == "k" and _in_container_list(prefix)
        if not children or (step[0] in ("k", "v") and not container_item):
            paths.append(path)
        else:
            paths += field_paths(children, path)
    return paths


def _in_container_list(prefix: Path) -> bool:
    return bool(prefix) and prefix[-1][0] == "f" and prefix[-1][1] in _CONTAINER_LISTS


def _step(raw: str) -> Step | None:
    prefix, _sep, rest = raw.partition(":")
    if prefix == "f":
        return ("f", rest)
    if prefix in ("k", "v"):
        try:
            return (prefix, json.loads(rest))
        except ValueError:
            return (prefix, rest)
    if prefix == "i":
        return ("i", rest)
    return None


def _bookkeeping(path: Path) -> bool:
    """Paths that record no decision: status, revision counters, kubectl's own annotation."""
    if path[:1] == (("f", "status"),):
        return True
    return (
        len(path) == 3
        and path[:2] == (("f", "metadata"), ("f", "annotations"))
        and path[2][1] in _IGNORED_ANNOTATIONS
    )


def path_text(path: Path) -> str:
    """`spec.template.spec.containers[api].env[DB_HOST]`, `data.LOG_LEVEL`."""
    text = ""
    for kind, value in path:
        if kind == "f":
            text += ("." if text else "") + str(value)
        elif kind == "k" and isinstance(value, dict):
            if set(value) == {"name"}:
                text += f"[{value['name']}]"
            else:
                text += "[" + ",".join(f"{k}={v}" for k, v in sorted(value.items())) + "]"
        else:
            text += f"[{value}]"
    return text


def path_container(path: Path) -> str:
    """The container a path is inside ("" when none)."""
    for index, (kind, value) in enumerate(path[:-1]):
        following = path[index + 1]
        if (
            kind == "f"
            and value in _CONTAINER_LISTS
            and following[0] == "k"
            and isinstance(following[1], dict)
        ):
            return str(following[1].get("name", ""))
    return ""


_MISSING = object()


def value_at(obj: Any, path: Path) -> Any:
    """The live value at a path (None when it is not there any more)."""
    current = obj
    for kind, value in path:
        if kind == "f":
            current = current.get(value, _MISSING) if isinstance(current, dict) else _MISSING
        elif kind == "k" and isinstance(current, list) and isinstance(value, dict):
            current = next(
                (i for i in current if isinstance(i, dict) and all(i.get(k) == v for k, v in value.items())),
                _MISSING,
            )
        elif kind == "v" and isinstance(current, list):
            current = value if value in current else _MISSING
        elif kind == "i" and isinstance(current, list):
            try:
                current = current[int(value)]
            except (ValueError, IndexError):
                current = _MISSING
        else:
            current = _MISSING
        if current is _MISSING:
            return None
    return current


# -- last-applied-configuration ------------------------------------------------------------------


def last_applied(obj: dict) -> dict | None:
    """What `kubectl apply` last sent for this object, when it says."""
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not raw:
        return None
    try:
        applied = json.loads(raw)
    except ValueError:
        return None
    return applied if isinstance(applied, dict) else None


def applied_drift(obj: dict) -> list[tuple[Path, Any, Any]] | None:
    """(path, applied value, live value) where the live object differs from what `kubectl apply`
    last sent; None when the object carries no (readable) last-applied configuration.

    Only what the applied configuration set is compared (the API server fills defaults), except in
    maps where every key counts (data, selectors, labels, resources): a key added there is a change.
    """
    applied = last_applied(obj)
    if applied is None:
        return None
    drift: list[tuple[Path, Any, Any]] = []
    for top in ("data", "binaryData", "spec", "rules", "subjects", "roleRef"):
        if top in applied or (
            top in ("data", "binaryData") and top in obj and obj.get("kind") == "ConfigMap"
        ):
            _compare(applied.get(top), obj.get(top), (("f", top),), drift)
    return drift


def _compare(applied: Any, live: Any, path: Path, out: list) -> None:
    if isinstance(applied, dict) and isinstance(live, dict):
        whole = path[-1][0] == "f" and path[-1][1] in _WHOLE_MAPS
        for key in [*applied, *(k for k in live if whole and k not in applied)]:
            _compare(applied.get(key), live.get(key), (*path, ("f", key)), out)
        return
    if isinstance(applied, list) and isinstance(live, list):
        named = all(isinstance(i, dict) and "name" in i for i in applied + live)
        if named:
            before = {i["name"]: i for i in applied}
            after = {i["name"]: i for i in live}
            for name in [*before, *(n for n in after if n not in before)]:
                step = ("k", {"name": name})
                if name not in before or name not in after:
                    out.append(((*path, step), before.get(name), after.get(name)))
                else:
                    _compare(before[name], after[name], (*path, step), out)
            return
        if len(applied) == len(live):
            for index, (a, b) in enumerate(zip(applied, live, strict=True)):
                _compare(a, b, (*path, ("i", index)), out)
            return
    if not _same(applied, live):
        out.append((path, applied, live))


def _same(applied: Any, live: Any) -> bool:
    if applied == live:
        return True
    if isinstance(applied, dict | list) or isinstance(live, dict | list) or applied is None or live is None:
        return False
    if isinstance(applied, bool) or isinstance(live, bool):
        return str(applied).lower() == str(live).lower()
    if str(applied) == str(live):
        return True
    left, right = parse_quantity(applied), parse_quantity(live)
    return left is not None and right is not None and abs(left - right) <= 1e-9 * max(abs(left), 1)
