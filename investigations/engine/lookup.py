"""Does the target exist? Settled against what the topology round read, before anything is analyzed.

The best candidate (`target.target_candidates`) is looked up first. A pod that is gone is followed
to its owner through the names Kubernetes gives pods (`<replicaset>-<5>`, `<statefulset>-<n>`, ...),
and only to an owner that exists; a workload named without its kind is looked up under every
controller kind; then the other resources the group names are tried in their order, reading their
namespace when it was not read yet (a bounded number). When none exists, the target carries what
was looked up in `not_found` and the investigation answers "not found" instead of guessing about
something else. A kind the agent could not list is never called missing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from investigations.engine.evidence import ClusterView
from investigations.engine.target import Target

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet")
# Candidates looked up before answering "not found".
MAX_LOOKUPS = 6

# Whether `kind` was listed in `namespace` ("" for cluster-scoped kinds): only then can absence count.
Listed = Callable[[str, str], bool]
# The view once `namespace` is read too; None when the budget for other namespaces is spent.
ReadNamespace = Callable[[str], ClusterView | None]

# Suffixes the controllers give what they create: ReplicaSet, DaemonSet and Job pods end in five
# random characters, StatefulSet pods in an ordinal; a ReplicaSet ends in its template hash and a
# CronJob's Job in its scheduled minute.
_POD_SUFFIX = re.compile(r"^(?:[a-z0-9]{5}|\d+)$")
_OWNER_SUFFIX = re.compile(r"^(?:[a-z0-9]{6,10}|\d{6,})$")
_OWNERS_ONE_UP = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job")
_OWNERS_TWO_UP = ("Deployment", "CronJob")


def resolve_target(
    candidates: list[Target], view: ClusterView, *, listed: Listed, read_namespace: ReadNamespace
) -> tuple[Target, ClusterView]:
    """The first candidate that exists (or cannot be checked), and the view it was found in."""
    first = candidates[0]
    if not first.known:
        if first.namespace and _namespace_missing(view, listed, first.namespace):
            return dataclasses.replace(first, not_found=[f"Namespace {first.namespace}"]), view
        return first, view
    tier = [c for c in candidates if c.level == 0 and c.monitoring == first.monitoring][:MAX_LOOKUPS]
    looked: list[str] = []
    for candidate in tier:
        if candidate.kind != "Node" and not _namespace_missing(view, listed, candidate.namespace):
            wider = read_namespace(candidate.namespace)
            if wider is None:
                looked.append(f"{candidate.describe()} (its namespace was not read: too many namespaces)")
                continue
            view = wider
        found = _find(view, candidate, listed, looked)
        if found is not None:
            if candidate is not first and not found.note:
                by = (
                    "another alert of the group"
                    if candidate.alert_index != first.alert_index
                    else "the alert"
                )
                found.note = f"not found: {'; '.join(looked)}; {found.describe()} is named by {by}"
            return found, view
    # The investigated alert's own namespace still stands when what is gone was only mentioned in
    # text or named by the group's other alerts: the alert's own labels named no missing resource.
    own = next((c for c in candidates if c.alert_index == 0 and c.level == 1 and not c.monitoring), None)
    weak = all(c.alert_index != 0 or c.method == "text" for c in tier)
    if own is not None and weak and not _namespace_missing(view, listed, own.namespace):
        return dataclasses.replace(own, note=f"not found: {'; '.join(looked)}"), view
    return dataclasses.replace(first, not_found=looked), view


def _find(view: ClusterView, target: Target, listed: Listed, looked: list[str]) -> Target | None:
    """`target` as it exists (its kind settled), or None with what was looked up added to `looked`."""
    namespace = "" if target.kind == "Node" else target.namespace
    if target.kind != "Node" and _namespace_missing(view, listed, namespace):
        looked.append(f"{target.describe()} (namespace {namespace} does not exist)")
        return None
    if not listed(target.kind, namespace):
        return target  # the agent could not list it: absence is unknown, so it is not claimed
    kinds = [target.kind]
    if target.kind_assumed:
        kinds += [kind for kind in (*WORKLOAD_KINDS, "Pod") if kind != target.kind]
    for kind in kinds:
        if view.get(kind, namespace, target.name) is not None:
            return dataclasses.replace(target, kind=kind, kind_assumed=False)
    where = f"{namespace}/{target.name}" if namespace else target.name
    if target.kind == "Pod" or "Pod" in kinds:
        owner = _owner_by_name(view, namespace, target.name)
        if owner is not None:
            owner_kind = owner.get("kind", "")
            owner_name = (owner.get("metadata") or {}).get("name", "")
            return dataclasses.replace(
                target,
                kind=owner_kind,
                name=owner_name,
                kind_assumed=False,
                note=f"Pod {where} no longer exists; its owner {owner_kind} {namespace}/{owner_name} does",
            )
    looked.append(f"{' or '.join(kinds)} {where}")
    return None


def _owner_by_name(view: ClusterView, namespace: str, pod: str) -> dict | None:
    """The existing top-level owner a pod's generated name points at, or None."""
    parts = pod.split("-")
    if len(parts) < 2 or not _POD_SUFFIX.match(parts[-1]):
        return None
    for kind in _OWNERS_ONE_UP:
        owner = view.get(kind, namespace, "-".join(parts[:-1]))
        if owner is not None:
            return view.top_owner(owner)
    if len(parts) >= 3 and _OWNER_SUFFIX.match(parts[-2]):
        for kind in _OWNERS_TWO_UP:
            owner = view.get(kind, namespace, "-".join(parts[:-2]))
            if owner is not None:
                return owner
    return None


def _namespace_missing(view: ClusterView, listed: Listed, namespace: str) -> bool:
    """True only when the namespaces were listed, this one is not among them and nothing was read in it.

    An empty list of namespaces proves nothing (every cluster has some: the reader cannot see them).
    """
    if not namespace or not listed("Namespace", "") or not view.all("Namespace"):
        return False
    if view.get("Namespace", "", namespace) is not None:
        return False
    return not any(ref.namespace == namespace for ref in view.objects)
