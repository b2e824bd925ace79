"""service-selector-mismatch: 0.9 the selector matches no pod while pods that carry the same app
identity (value under another key, old/typo value, extra key) run; 0.8 without corroboration. Never
when a workload's template matches the selector (then it is scaled down: dependency-unavailable).
"""

from __future__ import annotations

from investigations.engine import kubectl
from investigations.engine import kubectl_network as knet
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import (
    Failure,
    connection_failures,
    failure_summary,
    failures_towards,
)
from investigations.engine.analyzers.helpers import RECENT, quote_line
from investigations.engine.analyzers.service_lookup import (
    Intended,
    candidate_services,
    intended_pods,
    service_dns,
    workloads_matching_selector,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, human_age
from investigations.engine.facts import last_modified, pod_condition, recent_edit, rollout_changes, ts
from investigations.engine.kubectl import Recommendation


@analyzer("service-selector-mismatch")
def service_selector_mismatch(ctx: Context) -> list[Finding]:
    view = ctx.view
    failures = connection_failures(view, ctx.in_scope_pods())
    findings = []
    for service, why in candidate_services(ctx, failures):
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector or view.pods_selected_by(service):
            continue
        if workloads_matching_selector(view, service):
            continue  # the selector is right; its workload has no pods (dependency-unavailable)
        intended = intended_pods(view, service)
        if intended is None:
            continue
        findings.append(_selector_finding(ctx, service, why, intended, failures))
    return findings[:1]


def _selector_finding(
    ctx: Context, service: dict, why: str, intended: Intended, failures: list[Failure]
) -> Finding:
    view = ctx.view
    ref = Ref.of(service)
    selector = (service.get("spec") or {}).get("selector") or {}
    workload = intended.workload
    workload_ref = Ref.of(workload)
    ready, not_ready = view.endpoints(service)
    selector_text = ", ".join(f"{k}: {v}" for k, v in selector.items())
    selector_eq = ",".join(f"{k}={v}" for k, v in selector.items())
    pod_labels = ", ".join(f"{k}={v}" for k, v in intended.labels.items())
    ready_pods = sum(1 for p in intended.pods if (pod_condition(p, "Ready") or {}).get("status") == "True")
    evidence = [
        ctx.cite("spec", service, f"spec.selector {{{selector_text}}} ({selector_eq})"),
        ctx.cite(
            "endpoints",
            service,
            f"Endpoints/EndpointSlice {ref.name}: {ready} ready, {not_ready} not ready addresses (no "
            "endpoints)",
        ),
        ctx.cite(
            "status",
            intended.pods[0],
            f"{len(intended.pods)} pods of {workload_ref.kind} {workload_ref.name} ({ready_pods} Ready) "
            f"carry labels {pod_labels}",
        ),
    ]
    differing = "; ".join(
        f"selector wants {k}={want}, pods have {k}={have}"
        if have is not None
        else f"selector wants {k}={want}, pods have no '{k}' label"
        for k, (want, have) in intended.differing.items()
    )
    shared = ""
    if intended.shared_values:
        keys = [k for k, v in intended.labels.items() if v in intended.shared_values]
        same = ", ".join(f"{k}={intended.labels[k]}" for k in keys)
        shared = f" The pods carry the same value under another key ({same})."
    parts = [
        f"Service {ref.namespace}/{ref.name} has label selector {{{selector_text}}} [{evidence[0]}], which "
        "matches no pod: "
        f"its Endpoints are empty (no endpoints, {ready} ready addresses) [{evidence[1]}].",
        f"The pods it is meant to reach, {len(intended.pods)} pods of {workload_ref.kind} "
        f"{workload_ref.name} "
        f"({ready_pods} Running/Ready), are labelled {pod_labels} [{evidence[2]}]: {differing}.{shared}",
    ]
    client_failures = [f for f in failures if f.service is not None and Ref.of(f.service) == ref]
    client_failures = client_failures or failures_towards(view, service)
    if client_failures:
        what, line = failure_summary(client_failures)
        client = Ref.of(client_failures[0].pod)
        evidence.append(ctx.cite("log", client_failures[0].pod, quote_line(line, 400)))
        parts.append(
            f"Clients cannot connect: pod {client.namespace}/{client.name} logs {what} "
            f"({service_dns(service)}, ClusterIP {(service.get('spec') or {}).get('clusterIP')}) "
            f"[{evidence[-1]}]."
        )
    contributing = [
        Contributing(workload_ref, f"pods labelled {pod_labels}; the selector {selector_eq} misses them")
    ]
    created = (workload.get("metadata") or {}).get("creationTimestamp", "")
    age = view.age_seconds(created)
    changes = [
        c for c in rollout_changes(view, workload)[:1] if any(d.startswith("pod label") for d in c.details)
    ]
    if changes:
        change = changes[0]
        label_changes = [d for d in change.details if d.startswith("pod label")]
        evidence.append(
            ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(label_changes)}")
        )
        parts.append(
            f"What changed: {change.what} {change.age} before the capture changed "
            f"{'; '.join(label_changes)} [{evidence[-1]}]."
        )
        contributing[0] = Contributing(
            workload_ref, f"{change.what} at {ts(change.when)}: {'; '.join(label_changes)}"
        )
    elif age is not None and age <= RECENT:
        deleted = [
            e
            for e in view.events_in(workload_ref.namespace)
            if e.get("reason") == "Killing"
            and (e.get("involvedObject") or {}).get("name", "").startswith(workload_ref.name + "-")
            and view.get("Pod", workload_ref.namespace, (e.get("involvedObject") or {}).get("name", ""))
            is None
        ]
        manager = (last_modified(view, workload) or ("", ""))[1]
        note = (
            f"{workload_ref.kind} {workload_ref.name} was (re)created {human_age(age)} "
            f"before the capture ({ts(created)})"
        )
        if manager:
            note += f" by {manager}"
        if deleted:
            note += f", when {len(deleted)} old pods were killed"
        evidence.append(ctx.cite("change", workload, note))
        parts.append(
            f"What changed: {note}, with the new labels, while the Service kept the old selector "
            f"[{evidence[-1]}]."
        )
        contributing[0] = Contributing(workload_ref, f"re-created at {ts(created)} with labels {pod_labels}")
    edit = recent_edit(view, service, RECENT)
    if edit:
        evidence.append(ctx.cite("change", service, f"Service {ref.name} {edit.what} {edit.age} ago"))
        parts.append(f"The Service itself was {edit.what} {edit.age} ago [{evidence[-1]}].")
    new_selector = {k: intended.labels[k] for k in _proposed_selector(selector, intended)}
    parts.append(
        "The pods are healthy; the Service's selector does not match their labels, so kube-proxy has no "
        "backend."
    )
    confidence = 0.9 if (ready_pods or client_failures or why.startswith("the alert")) else 0.8
    recommendations = [
        Recommendation(
            "Point the Service selector at the pods' labels",
            "immediate",
            f"Select {', '.join(f'{k}={v}' for k, v in new_selector.items())} (the labels the running pods "
            "carry) "
            f"instead of {selector_eq}; endpoints appear as soon as the selector matches.",
            [
                knet.set_service_selector(ref, selector, new_selector),
                knet.get_endpoints(ref),
            ],
        ),
        Recommendation(
            "Confirm the mismatch",
            "immediate",
            "Compare the selector with the labels of the pods.",
            [
                kubectl.get_yaml(ref),
                knet.get_pods_with_labels(ref.namespace),
                knet.get_pods_with_labels(ref.namespace, selector),
            ],
        ),
        Recommendation(
            "Keep Service and workload labels in one place",
            "preventive",
            "Manage the Service in the same chart/manifest as the workload so a label scheme change moves "
            "both; "
            "alert on Services with zero endpoints (kube_endpoint_address_available == 0).",
            [],
        ),
    ]
    return Finding(
        category="service-selector-mismatch",
        resource=ref,
        confidence=confidence,
        summary=(
            f"Service {ref.namespace}/{ref.name}: selector {selector_eq} matches no pods (no endpoints); "
            f"the {workload_ref.name} pods are labelled {pod_labels}"
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"selector": selector, "pod_labels": intended.labels, "workload": str(workload_ref)},
        recommendations=recommendations,
    )


def _proposed_selector(selector: dict[str, str], intended: Intended) -> list[str]:
    keys = [k for k, v in intended.labels.items() if v in selector.values()]
    keys += [k for k in selector if k in intended.labels and k not in keys]
    for key in ("app.kubernetes.io/instance",):
        if key in intended.labels and key not in keys and keys:
            keys.append(key)
    return keys or list(intended.labels)[:2]
