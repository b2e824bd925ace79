"""bad-config-value: the program crashes because it cannot load or parse its configuration.

The crash looks like an application bug (exit 1, a stack trace), but the previous container's log
says the configuration could not be read. When a ConfigMap the workload reads holds that file, or
was edited shortly before, the cause is the ConfigMap's content, not the code: rolling the image
back would not help, fixing or reverting the ConfigMap does.
"""

from __future__ import annotations

from investigations.engine import kubectl
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.workload_facts import (
    configmap_names,
    crashing_containers,
    diagnose_pod,
    group_by_workload,
    log_text,
)
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import Change, recent_edit, ts
from investigations.engine.kubectl import Recommendation
from investigations.engine.log_facts import (
    CONFIG_UNREADABLE,
    MISSING_SETTING,
    LogFact,
    classify_log,
    first_of_kind,
)

# Within a day: a ConfigMap edit lands in running pods only when they restart or re-read it.
EDIT_WINDOW_SECONDS = 24 * 3600


@analyzer("bad-config-value")
def unreadable_configuration(ctx: Context) -> list[Finding]:
    view = ctx.view
    findings = []
    for workload, members in group_by_workload(view, crashing_containers(ctx)):
        text, state, log_kind = log_text(view, members)
        facts = classify_log(text) if text else []
        fact = first_of_kind(facts, CONFIG_UNREADABLE)
        # "invalid configuration: required setting is missing" is a missing key, not a syntax error.
        if fact is None or state is None or first_of_kind(facts, MISSING_SETTING):
            continue
        holder, edit = _holding_configmap(view, workload, fact)
        findings.append(_finding(ctx, workload, state, log_kind, fact, holder, edit))
    return findings


def _holding_configmap(view: ClusterView, workload: dict, fact: LogFact) -> tuple[dict | None, Change | None]:
    """The ConfigMap that most likely holds the unreadable file: one with that file as a key, else
    the one edited most recently, else the only one the workload reads."""
    namespace = Ref.of(workload).namespace
    configmaps = [cm for name in configmap_names(workload) if (cm := view.get("ConfigMap", namespace, name))]
    edits = {id(cm): recent_edit(view, cm, EDIT_WINDOW_SECONDS) for cm in configmaps}
    if fact.about:
        for cm in configmaps:
            if fact.about in ((cm.get("data") or {}) | (cm.get("binaryData") or {})):
                return cm, edits[id(cm)]
    edited = [cm for cm in configmaps if edits[id(cm)] is not None]
    if edited:
        newest = max(edited, key=lambda cm: edits[id(cm)].when)  # type: ignore[union-attr]
        return newest, edits[id(newest)]
    if len(configmaps) == 1:
        return configmaps[0], None
    return None, None


def _finding(
    ctx: Context,
    workload: dict,
    state,
    log_kind: str,
    fact: LogFact,
    holder: dict | None,
    edit: Change | None,
) -> Finding:
    workload_ref, pod_ref = Ref.of(workload), Ref.of(state.pod)
    evidence = [ctx.cite(log_kind, state.pod, fact.line)]
    parts = [
        f"Container {state.name} of {workload_ref.kind} {workload_ref.name} exits because it cannot load "
        f"its configuration: “{fact.line[:240]}” [{evidence[0]}]. That is not a bug in the program: "
        "the same code starts with a readable configuration."
    ]
    contributing = [
        Contributing(workload_ref, f"its pods crash-loop reading {fact.about or 'the configuration'}")
    ]
    resource, confidence = workload_ref, 0.55
    if holder is not None:
        resource = Ref.of(holder)
        keys = ", ".join(sorted((holder.get("data") or {}).keys())[:8])
        evidence.append(ctx.cite("config", holder, f"ConfigMap {resource.name} keys: {keys}"))
        holds = fact.about and fact.about in (holder.get("data") or {})
        parts.append(
            f"ConfigMap {resource.name} "
            + (f"holds {fact.about}" if holds else "is the configuration this workload reads")
            + f" [{evidence[-1]}]."
        )
        confidence = 0.7 if holds else 0.6
        if edit is not None:
            evidence.append(
                ctx.cite("change", holder, f"ConfigMap {resource.name} {edit.what} at {ts(edit.when)}")
            )
            parts.append(
                f"What changed: ConfigMap {resource.name} was {edit.what} {edit.age} before the capture "
                f"({ts(edit.when)}) [{evidence[-1]}]; pods started since then read the new content."
            )
            confidence = 0.85
    summary = (
        f"{resource.kind} {resource.name}: the configuration cannot be parsed"
        + (f" ({fact.about})" if fact.about else "")
        + f", so {workload_ref.kind} {workload_ref.name} crash-loops"
    )
    fixes = [kubectl.get_yaml(resource)] if resource.kind == "ConfigMap" else []
    if resource.kind == "ConfigMap":
        fixes.append(kubectl.edit(resource))
    if workload.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        fixes.append(kubectl.rollout_restart(workload_ref))
    recommendations = [
        Recommendation(
            f"Fix the configuration in {resource.kind} {resource.name}",
            "immediate",
            "Correct the syntax the log points at (or restore the previous content from Git/GitOps), "
            "then restart the pods so they read it.",
            fixes,
        ),
        diagnose_pod(pod_ref, state.name),
        Recommendation(
            "Validate configuration before it reaches the cluster",
            "preventive",
            "Lint YAML/JSON in CI and keep ConfigMaps in Git; avoid kubectl edit in production.",
            [],
        ),
    ]
    return Finding(
        category="bad-config-value",
        resource=resource,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing if resource != workload_ref else [],
        facts={"log": fact.line, "file": fact.about},
        recommendations=recommendations,
    )
