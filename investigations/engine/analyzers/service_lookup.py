"""Resolving Services to what they should serve, shared by the network analyzers: workloads whose
template matches a selector, the pods a mismatched selector was probably meant to select, the
Services and Ingresses in the alert's scope.
"""

from __future__ import annotations

import dataclasses
import difflib
import re

from investigations.engine.analyzers.connections import Failure
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Ref, labels_match, labels_of


def workloads_matching_selector(view: ClusterView, service: dict) -> list[dict]:
    """Top-level workloads whose pod template carries every label of the Service selector."""
    selector = (service.get("spec") or {}).get("selector") or {}
    namespace = Ref.of(service).namespace
    found = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for workload in view.all(kind, namespace):
            template_labels = (
                ((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}
            ).get("labels") or {}
            if labels_match(selector, template_labels):
                found.append(workload)
    return found


@dataclasses.dataclass
class Intended:
    """Pods that a label-mismatched Service was probably meant to select."""

    workload: dict
    pods: list[dict]
    labels: dict[str, str]  # labels of those pods, without pod-template-hash
    shared_values: list[str]  # selector values found under another key
    differing: dict[str, tuple[str, str | None]]  # selector key -> (wanted, actual)


def intended_pods(view: ClusterView, service: dict) -> Intended | None:
    """The workload whose pods look like the Service's target although the selector misses them."""
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return None
    ref = Ref.of(service)
    groups: dict[int, tuple[dict, list[dict]]] = {}
    for pod in view.all("Pod", ref.namespace):
        if labels_match(selector, labels_of(pod)):
            continue
        owner = view.top_owner(pod)
        groups.setdefault(id(owner), (owner, []))[1].append(pod)
    best, best_score = None, 0.0
    for owner, pods in groups.values():
        labels = {k: v for k, v in labels_of(pods[0]).items() if k != "pod-template-hash"}
        values = set(labels.values())
        owner_name = Ref.of(owner).name
        name_hit = owner_name == ref.name or ref.name in values
        related = name_hit or _similar(owner_name, ref.name)
        shared = [v for k, v in selector.items() if v in values and labels.get(k) != v]
        exact = [k for k, v in selector.items() if labels.get(k) == v]
        score = 2.0 * len(shared) + (1.5 if name_hit else 0.0) + 0.5 * len(exact)
        for key, wanted in selector.items():
            have = labels.get(key)
            if have is None or have == wanted or wanted in values:
                if have is None and wanted not in values and related and exact:
                    score += 1.0  # an extra selector key the pods never had
                continue
            if _similar_value(have, wanted):
                score += 1.5  # a typo or a renamed value under the same key
            elif related:
                score += 1.0
        if score > best_score:
            differing = {k: (v, labels.get(k)) for k, v in selector.items() if labels.get(k) != v}
            best, best_score = Intended(owner, pods, labels, shared, differing), score
    return best if best_score >= 1.5 else None


def _similar_value(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if min(len(a), len(b)) >= 4 and (a in b or b in a):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _similar(a: str, b: str) -> bool:
    ta, tb = set(re.split(r"[-_.]", a)), set(re.split(r"[-_.]", b))
    return len(ta & tb) >= max(1, min(len(ta), len(tb)) - 1)


def service_dns(service: dict) -> str:
    ref = Ref.of(service)
    return f"{ref.name}.{ref.namespace}.svc.cluster.local"


def candidate_services(ctx: Context, failures: list[Failure]) -> list[tuple[dict, str]]:
    """(Service, why it is in scope): the alert's, the target Ingress's backends, the failing hosts',
    and the Services selecting the pods in scope."""
    view, target = ctx.view, ctx.target
    found: list[tuple[dict, str]] = []

    def add(service: dict | None, why: str) -> None:
        if service is not None and all(service is not s for s, _w in found):
            found.append((service, why))

    if target.known and target.kind == "Service":
        add(view.get("Service", target.namespace, target.name), "the alert points at it")
    for ingress in ingresses_in_scope(ctx):
        for name, _port, where in view.ingress_backends(ingress):
            add(
                view.get("Service", Ref.of(ingress).namespace, name),
                f"Ingress {Ref.of(ingress).name} routes {where} to it",
            )
    for failure in failures:
        add(failure.service, f"pod {Ref.of(failure.pod).name} fails to reach it")
    for pod in ctx.in_scope_pods()[:1]:
        for service in view.services_selecting(pod):
            add(service, "it selects the pods in scope")
    return found


def ingresses_in_scope(ctx: Context) -> list[dict]:
    view, target = ctx.view, ctx.target
    result = []
    if target.known and target.kind == "Ingress":
        ingress = view.get("Ingress", target.namespace, target.name)
        if ingress is not None:
            result.append(ingress)
    for ref, role in ctx.topology.nodes.items():
        if ref.kind == "Ingress" and role == "ingress":
            ingress = view.get("Ingress", ref.namespace, ref.name)
            if ingress is not None and all(ingress is not i for i in result):
                result.append(ingress)
    return result
