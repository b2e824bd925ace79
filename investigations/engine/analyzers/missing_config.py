"""missing-config-key: CreateContainerConfigError / FailedMount naming a ConfigMap or Secret (or a key
of one) that does not exist, with the variable that references it, what changed, and the controllers
that should produce the Secret (ExternalSecret, SealedSecret, …). When the kubelet names nothing,
the crashing app's logs are read (missing_setting_in_logs.py).
"""

from __future__ import annotations

import difflib
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.missing_setting_in_logs import missing_setting_in_logs
from investigations.engine.analyzers.workload_facts import (
    change_text,
    event_count,
    latest_rollout,
    matching_events,
    shorten,
    workload_of,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, human_age
from investigations.engine.facts import container_states, pod_spec
from investigations.engine.kubectl import Recommendation

_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


_MISSING_KEY = re.compile(
    r"couldn't find key (?P<key>\S+) in (?P<kind>ConfigMap|Secret) (?P<ns>[\w.-]+)/(?P<name>[\w.-]+)"
)
_MISSING_OBJECT = re.compile(r"(?P<kind>configmap|secret)s? \"(?P<name>[\w.-]+)\" not found", re.I)


@analyzer("missing-config-key")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def missing_config_key(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    hits: list[tuple[dict, str, str, re.Match]] = []  # (pod, container, message, match)
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.waiting_reason in ("CreateContainerConfigError", "CreateContainerError"):
                match = _MISSING_KEY.search(state.waiting_message) or _MISSING_OBJECT.search(
                    state.waiting_message
                )
                if match:
                    hits.append((pod, state.name, f"{state.waiting_reason}: {state.waiting_message}", match))
        if any(h[0] is pod for h in hits):
            continue
        phase = (pod.get("status") or {}).get("phase")
        if phase not in ("Pending", None, ""):
            continue
        for event in view.events_for(pod):
            if event.get("reason") not in ("Failed", "FailedMount"):
                continue
            message = event.get("message") or ""
            match = _MISSING_KEY.search(message) or _MISSING_OBJECT.search(message)
            if match:
                hits.append((pod, "", f"{event.get('reason')}: {message}", match))
                break
    if not hits:
        return missing_setting_in_logs(ctx)
    pod, container_name, message, match = hits[0]
    stuck_reason = message.split(":", 1)[0]
    if stuck_reason in ("Failed", "FailedMount"):
        waiting = [st.waiting_reason for st in container_states(pod) if st.waiting_reason]
        stuck_reason = waiting[0] if waiting else "ContainerCreating"
    pod_ref = Ref.of(pod)
    namespace = pod_ref.namespace
    workload = workload_of(view, pod)
    workload_ref = Ref.of(workload)
    groups = match.groupdict()
    kind = "ConfigMap" if groups["kind"].lower() == "configmap" else "Secret"
    name = groups["name"]
    key = groups.get("key")
    if groups.get("ns"):
        namespace = groups["ns"]
    resource = Ref(kind, namespace, name)
    affected = sorted({Ref.of(h[0]).name for h in hits if h[3].group("name") == name})
    evidence = [ctx.cite("status", pod, f"{message} (pods: {', '.join(affected[:4])})")]
    failed = [e for e in matching_events(view, pod) if match.group(0) in (e.get("message") or "")]
    if failed:
        evidence.append(
            ctx.cite(
                "event",
                pod,
                f"{failed[-1].get('reason')} x{event_count(failed[-1])}: {failed[-1].get('message')}",
            )
        )
    parts = [
        f"The kubelet cannot create container {container_name or 'of the pod'} of {workload_ref.kind} "
        f'{workload_ref.name}: "{match.group(0)}" [{evidence[0]}]'
        + (f", repeated {event_count(failed[-1])} times [{evidence[1]}]" if failed else "")
        + f". Pods {', '.join(affected[:4])} stay in {stuck_reason} and never start.",
    ]
    contributing: list[Contributing] = []
    similar: list[str] = []
    recommendations: list[Recommendation] = []
    if key:
        what = f"key {key} is missing from {kind} {name}"
        summary = (
            f"{kind} {namespace}/{name} has no key {key}, which {workload_ref.kind} {workload_ref.name} "
            "requires"
        )
    else:
        what = f"{kind} {name} does not exist in namespace {namespace}"
        summary = f"{kind} {namespace}/{name} not found: {workload_ref.kind} {workload_ref.name} cannot start"
    if kind == "ConfigMap":
        configmap = view.get("ConfigMap", namespace, name)
        if configmap is not None and key:
            keys = sorted(((configmap.get("data") or {}) | (configmap.get("binaryData") or {})).keys())
            similar = difflib.get_close_matches(key, keys, n=2, cutoff=0.75)
            evidence.append(ctx.cite("config", configmap, f"ConfigMap {name} keys: {', '.join(keys)}"))
            parts.append(
                f"ConfigMap {name} exists but does not contain the key {key}; it has {', '.join(keys)} "
                f"[{evidence[-1]}]."
            )
            if similar:
                parts.append(
                    f"A similar key exists: {similar[0]} — the reference and the ConfigMap disagree on the "
                    "key "
                    "name (key name mismatch)."
                )
        elif configmap is None:
            parts.append(f"No ConfigMap named {name} exists in namespace {namespace}.")
    else:
        parts.append(
            f"Secrets are not readable here, but the kubelet's message says {what}; the pod spec references "
            "it "
            "without optional: true."
        )
        parts += _secret_producers(ctx, namespace, name, evidence, contributing)
    referencing = _referencing_variable(workload, kind, name, key)
    if referencing:
        parts.append(f"It is referenced by {referencing} in the pod template.")
    change = latest_rollout(view, workload, pod)
    if change and (not key or any(key in d or name in d for d in change.details) or not change.details):
        evidence.append(ctx.cite("change", workload, change_text(change)))
        parts.append(f"What changed: {change_text(change)} [{evidence[-1]}].")
        contributing.append(
            Contributing(workload_ref, f"{change.what} ({change.age} ago) introduced the reference")
        )
    elif workload.get("kind") != "Pod" and (workload.get("metadata") or {}).get("creationTimestamp"):
        age = view.age_seconds((workload.get("metadata") or {}).get("creationTimestamp"))
        if age is not None and age < 6 * 3600:
            parts.append(
                f"{workload_ref.kind} {workload_ref.name} was created {human_age(age)} before the capture."
            )
            contributing.append(
                Contributing(workload_ref, f"created {human_age(age)} ago referencing {name}")
            )
    if kind == "ConfigMap" and key:
        fix = [kx.set_configmap_key(resource, key, "<value>")]
        if similar:
            fix.insert(0, kx.list_keys(resource))
        recommendations.append(
            Recommendation(
                f"Add key {key} to ConfigMap {name} (or point the reference at the existing key)",
                "immediate",
                f"The container starts as soon as {name} has {key}"
                + (f"; the existing key is {similar[0]}" if similar else "")
                + ". Pods retry by themselves.",
                fix,
            )
        )
    elif kind == "ConfigMap":
        recommendations.append(
            Recommendation(
                f"Create ConfigMap {name} in {namespace}",
                "immediate",
                "The pods retry and start once it exists.",
                [
                    f"kubectl -n {kubectl.q(namespace)} create configmap {kubectl.q(name)} "
                    "--from-literal=KEY=value"
                ],
            )
        )
    else:
        recommendations.append(
            Recommendation(
                f"Make Secret {name} exist in {namespace}",
                "immediate",
                "Fix whatever produces the Secret (its ExternalSecret/SealedSecret or the pipeline), or "
                "create it.",
                [f"kubectl -n {kubectl.q(namespace)} get secret {kubectl.q(name)}"]
                + [
                    kx.describe_custom(c.resource.kind, c.resource.namespace, c.resource.name)
                    for c in contributing
                    if c.resource.kind not in _WORKLOAD_KINDS
                ]
                + [kubectl.events(resource)],
            )
        )
    if change and workload.get("kind") == "Deployment":
        recommendations.append(
            Recommendation(
                "Or roll back the rollout that added the reference",
                "immediate",
                "The previous revision starts without it.",
                [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
            )
        )
    recommendations.append(
        Recommendation(
            "Confirm on the pod",
            "immediate",
            "The kubelet's message in the pod's events (the container never started, so there are no logs).",
            [kubectl.describe(pod_ref), kubectl.events(pod_ref)],
        )
    )
    recommendations.append(
        Recommendation(
            "Validate config references before rollout",
            "preventive",
            "Check in CI that every configMapKeyRef/secretKeyRef exists in the target namespace (or mark "
            "optional), "
            "and alert on CreateContainerConfigError.",
            [],
        )
    )
    explanation = " ".join(parts) + f" Root cause: {what}, so the container is never created."
    return [
        Finding(
            category="missing-config-key",
            resource=resource,
            confidence=0.9,
            summary=summary,
            explanation=explanation,
            evidence=evidence,
            contributing=contributing,
            facts={"kind": kind, "name": name, "key": key, "similar": similar},
            recommendations=recommendations,
        )
    ]


def _referencing_variable(workload: dict, kind: str, name: str, key: str | None) -> str:
    ref_key = "configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"
    for container in pod_spec(workload).get("containers") or []:
        for variable in container.get("env") or []:
            ref = (variable.get("valueFrom") or {}).get(ref_key) or {}
            if ref.get("name") == name and (key is None or ref.get("key") == key):
                return (
                    f"env {variable.get('name')} of container {container.get('name')} ({ref_key} "
                    f"{name}/{ref.get('key')})"
                )
    return ""


def _secret_producers(
    ctx: Context, namespace: str, name: str, evidence: list[str], contributing: list[Contributing]
) -> list[str]:
    """Controllers that should produce the Secret (ExternalSecret, SealedSecret, …) and why they fail."""
    view = ctx.view
    parts = []
    for kind, objects in view.by_kind.items():
        if "secret" not in kind.lower() or kind == "Secret":
            continue
        for obj in objects:
            ref = Ref.of(obj)
            if ref.namespace != namespace:
                continue
            target = ((obj.get("spec") or {}).get("target") or {}).get("name") or ref.name
            if target != name:
                continue
            conditions = (obj.get("status") or {}).get("conditions") or []
            bad = [c for c in conditions if c.get("type") == "Ready" and c.get("status") != "True"]
            failures = [e for e in view.events_for(obj) if e.get("type") == "Warning"]
            if not bad and not failures:
                parts.append(f"{kind} {name} in {namespace} produces it and reports no failure.")
                continue
            detail = ""
            if bad:
                detail = (
                    f"Ready={bad[0].get('status')} {bad[0].get('reason', '')}: {bad[0].get('message', '')}"
                )
            if failures:
                last = failures[-1]
                detail += f"; {last.get('reason')} x{event_count(last)}: {last.get('message')}"
            evidence.append(
                ctx.cite("status", obj, f"{kind} {ref.namespace}/{ref.name}: {detail.strip('; ')}")
            )
            parts.append(
                f"The Secret should be created by {kind} {ref.name}, which fails: "
                f"{shorten(detail.strip('; '), 500)} "
                f"[{evidence[-1]}]."
            )
            contributing.append(Contributing(ref, shorten(detail.strip("; "), 300)))
    if not parts:
        parts = _secret_producer_events(ctx, namespace, name, evidence, contributing)
    return parts


def _secret_producer_events(
    ctx: Context, namespace: str, name: str, evidence: list[str], contributing: list[Contributing]
) -> list[str]:
    """The producer from core Events alone: the agent cannot read custom resources (an ExternalSecret
    is not on its allow-list), but the controller's Warning events about it are ordinary Events."""
    parts = []
    seen = set()
    for event in ctx.view.events_in(namespace):
        involved = event.get("involvedObject") or event.get("regarding") or {}
        kind = involved.get("kind") or ""
        if "secret" not in kind.lower() or kind == "Secret" or event.get("type") != "Warning":
            continue
        if involved.get("name") != name and name not in (event.get("message") or ""):
            continue
        key = (kind, involved.get("name"))
        if key in seen:
            continue
        seen.add(key)
        producer = Ref(kind, namespace, involved.get("name") or name)
        detail = f"{event.get('reason')} x{event_count(event)}: {event.get('message')}"
        evidence.append(ctx.cite("event", producer, f"{kind} {producer.name}: {detail}"))
        parts.append(
            f"The Secret should be created by {kind} {producer.name}, whose controller reports "
            f"{shorten(detail, 500)} [{evidence[-1]}]."
        )
        contributing.append(Contributing(producer, shorten(detail, 300)))
    return parts
