"""admission-denied: the controllers creating the in-scope pods get FailedCreate (or a ReplicaFailure
condition) because admission refuses the pod: Pod Security admission (the namespace's
pod-security.kubernetes.io/enforce label), a policy engine's webhook (Kyverno policy, Gatekeeper
constraint, any validating webhook), a ValidatingAdmissionPolicy, SecurityContextConstraints, or a
webhook that cannot be called while its failurePolicy is Fail.

The finding names where the refusal comes from: the policy (namespace label, ClusterPolicy, webhook
configuration, admission policy) when it changed after the pod template did, the workload whose
template no longer complies otherwise. 0.95 for an explicit denial in recent events, 0.85 when only a
condition says so or the webhook is unreachable. A webhook failing on TLS is certificate-invalid.
"""

from __future__ import annotations

import dataclasses

from investigations.engine import kubectl
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.admission_facts import (
    change_text,
    containers_text,
    enforcement,
    newer,
    policy_object,
    still_short,
    template_change,
)
from investigations.engine.analyzers.admission_fixes import (
    policy_recommendations,
    psa_recommendations,
    unavailable_recommendations,
)
from investigations.engine.analyzers.admission_messages import Denial, parse_denial, tls_failure
from investigations.engine.analyzers.helpers import creators_in_scope, event_count_text
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, event_time


@dataclasses.dataclass
class Refusal:
    creator: dict
    event: dict | None
    denial: Denial


def refusals(ctx: Context) -> list[Refusal]:
    """Admission refusals the in-scope pod creators report, events first."""
    view = ctx.view
    found: list[Refusal] = []
    for creator in creators_in_scope(ctx):
        if not still_short(view, creator):
            continue  # the refusals are over: the controller has its pods now
        for event in reversed(view.events_for(creator)):
            if event.get("reason") != "FailedCreate":
                continue
            denial = parse_denial(event.get("message") or "")
            if denial is not None:
                found.append(Refusal(creator, event, denial))
        for condition in (creator.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
                denial = parse_denial(condition.get("message") or "")
                if denial is not None:
                    found.append(Refusal(creator, None, denial))
    found.sort(key=lambda r: r.event is None)
    return found


@analyzer("admission-denied")
def admission_denied(ctx: Context) -> list[Finding]:
    found = [
        r
        for r in refusals(ctx)
        if not (r.denial.mechanism == "webhook-unavailable" and tls_failure(r.denial.reason))
    ]
    if not found:
        return []
    refusal = found[0]
    if refusal.denial.mechanism == "pod-security":
        return [_pod_security(ctx, refusal)]
    if refusal.denial.mechanism == "webhook-unavailable":
        return [_unavailable(ctx, refusal)]
    return [_policy(ctx, refusal)]


def _opening(ctx: Context, refusal: Refusal) -> tuple[list[str], list[str], dict, Ref]:
    """Evidence and first sentence common to every refusal: who cannot create pods, and the message."""
    view = ctx.view
    creator, event = refusal.creator, refusal.event
    creator_ref = Ref.of(creator)
    workload = view.top_owner(creator)
    workload_ref = Ref.of(workload)
    message = " ".join(refusal.denial.message.split())
    if event is not None:
        first = event.get("firstTimestamp") or event_time(event)
        text = f"FailedCreate{event_count_text(event)} from {first} to {event_time(event)}: {message}"
    else:
        text = f"condition ReplicaFailure: {message}"
    evidence = [ctx.cite("event" if event else "status", creator, text)]
    status = creator.get("status") or {}
    desired = (creator.get("spec") or {}).get("replicas")
    counts = f" ({status.get('replicas', 0)} of {desired} replicas exist)" if desired is not None else ""
    parts = [
        f"{creator_ref.kind} {creator_ref.name}"
        + (f" ({workload_ref.kind} {workload_ref.name})" if workload is not creator else "")
        + f" cannot create pods{counts}: admission refuses every pod "
        f'("{message[:600]}") [{evidence[0]}]. The pod is rejected before it exists, so nothing is Pending '
        "or crashing; existing pods are not affected until they are replaced."
    ]
    return evidence, parts, workload, workload_ref


def _consequence(view: ClusterView, creator: dict, parts: list[str]) -> None:
    if creator.get("kind") != "Job":
        return
    failed = next(
        (
            c
            for c in (creator.get("status") or {}).get("conditions") or []
            if c.get("type") == "Failed" and c.get("status") == "True"
        ),
        None,
    )
    if failed and not view.owned_by(creator, "Pod"):
        parts.append(
            f"The Job then failed ({failed.get('reason')}: {failed.get('message')}) without ever running a "
            "pod: its "
            "failure is a consequence of the refusal, not of the job's code."
        )


def _pod_security(ctx: Context, refusal: Refusal) -> Finding:
    view = ctx.view
    denial = refusal.denial
    evidence, parts, workload, workload_ref = _opening(ctx, refusal)
    namespace = Ref.of(refusal.creator).namespace
    ns_obj = view.get("Namespace", "", namespace)
    labels = ((ns_obj or {}).get("metadata") or {}).get("labels") or {}
    psa = {k: v for k, v in labels.items() if k.startswith("pod-security.kubernetes.io/")}
    label_change = change_of(view, ns_obj, "f:pod-security.kubernetes.io/enforce") if ns_obj else None
    ns_text = (
        ", ".join(f"{k}={v}" for k, v in sorted(psa.items())) or "no pod-security labels (a cluster default)"
    )
    if ns_obj is not None:
        evidence.append(
            ctx.cite(
                "spec",
                ns_obj,
                f"Namespace {namespace} labels {ns_text}"
                + (f"; enforce label {label_change.what} at {label_change.when}" if label_change else ""),
            )
        )
        parts.append(
            f'Namespace {namespace} enforces the Pod Security "{denial.level}" profile (violates PodSecurity '
            f'"{denial.level}:{denial.version}"): {ns_text} [{evidence[-1]}].'
        )
    evidence.append(ctx.cite("spec", workload, containers_text(workload)))
    parts.append(
        f"The pod template of {workload_ref.kind} {workload_ref.name} fails the checks "
        f"{', '.join(denial.checks)}: "
        f"{containers_text(workload)} [{evidence[-1]}]."
    )
    _consequence(view, refusal.creator, parts)
    template = template_change(view, workload)
    contributing = [Contributing(Ref.of(refusal.creator), "FailedCreate: violates PodSecurity")]
    namespace_ref = Ref("Namespace", "", namespace)
    if label_change is not None and newer(view, label_change, template) and ns_obj is not None:
        primary = namespace_ref
        parts.append(
            f"What changed: the enforce label was {label_change.what} {label_change.age} before the capture"
            + (f", after the pod template last changed ({template.age} before)" if template else "")
            + "; pods created before it kept running, every new pod is refused."
        )
        contributing.insert(
            0,
            Contributing(
                workload_ref, f"pod template not {denial.level}-compliant: {', '.join(denial.checks)}"
            ),
        )
    else:
        primary = workload_ref
        if template is not None:
            parts.append(
                f"What changed: {workload_ref.kind} {workload_ref.name} {change_text(template)}, "
                f"{template.age} before "
                "the capture, after the enforce label."
            )
        contributing.insert(0, Contributing(namespace_ref, ns_text))
    return Finding(
        category="admission-denied",
        resource=primary,
        confidence=0.95 if refusal.event is not None else 0.85,
        summary=(
            f"Pod Security admission (namespace {namespace}, "
            f"enforce={psa.get('pod-security.kubernetes.io/enforce', denial.level)}) "
            f"refuses the pods of {workload_ref.kind} {workload_ref.name}: violates PodSecurity "
            f'"{denial.level}:{denial.version}" ({", ".join(denial.checks[:4])})'
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"mechanism": denial.mechanism, "level": denial.level, "checks": denial.checks},
        recommendations=psa_recommendations(view, workload, refusal.creator, denial, namespace),
    )


def _policy(ctx: Context, refusal: Refusal) -> Finding:
    view = ctx.view
    denial = refusal.denial
    evidence, parts, workload, workload_ref = _opening(ctx, refusal)
    namespace = Ref.of(refusal.creator).namespace
    policy = policy_object(view, denial, namespace)
    names = (
        ", ".join(f"{p}" + (f" (rule {r})" if r else "") for p, r, _m in denial.policies) or denial.webhook
    )
    why = "; ".join(m for _p, _r, m in denial.policies) or denial.reason
    change = None
    if policy is not None:
        policy_ref = Ref.of(policy)
        action = enforcement(view, policy, denial)
        change = change_of(view, policy, "f:spec") or change_of(view, policy)
        detail = f"{policy_ref.kind} {policy_ref.name}" + (f": {action}" if action else "")
        if change is not None:
            detail += f"; {change.what} at {change.when}"
        evidence.append(ctx.cite("spec", policy, detail))
        parts.append(f"The refusal comes from {names} ({why}) [{evidence[-1]}]: {detail}.")
    else:
        parts.append(
            f"The refusal comes from {names} through webhook {denial.webhook or 'the API server'}: {why}."
        )
    evidence.append(ctx.cite("spec", workload, containers_text(workload)))
    parts.append(
        f"The pod template of {workload_ref.kind} {workload_ref.name} does not satisfy it: "
        f"{containers_text(workload)} [{evidence[-1]}]."
    )
    _consequence(view, refusal.creator, parts)
    template = template_change(view, workload)
    contributing = [Contributing(Ref.of(refusal.creator), f"FailedCreate: denied by {names}")]
    if policy is not None and change is not None and newer(view, change, template):
        primary = Ref.of(policy)
        parts.append(
            f"What changed: {primary.kind} {primary.name} was {change.what} {change.age} before the capture"
            + (f", after the pod template last changed ({template.age} before)" if template else "")
            + "; pods created before kept running, and the refusals start when new pods are needed (a "
            "rollout, "
            "a node drain, scaling)."
        )
        contributing.insert(0, Contributing(workload_ref, f"pod template violates {names}"))
    else:
        primary = workload_ref
        if template is not None:
            parts.append(
                f"What changed: {workload_ref.kind} {workload_ref.name} {change_text(template)}, "
                f"{template.age} before "
                "the capture"
                + (
                    f", after {Ref.of(policy).kind} {Ref.of(policy).name} ({change.age} before)"
                    if policy is not None and change
                    else ""
                )
                + ": the new pod template is what the policy refuses."
            )
        if policy is not None:
            contributing.insert(0, Contributing(Ref.of(policy), why[:200]))
    engine = {"kyverno": "Kyverno policy", "gatekeeper": "Gatekeeper constraint"}.get(
        denial.engine, "admission policy"
    )
    return Finding(
        category="admission-denied",
        resource=primary,
        confidence=0.95 if refusal.event is not None else 0.85,
        summary=f"{engine} {names} denies the pods of {workload_ref.kind} {workload_ref.name}: {why[:200]}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={
            "mechanism": denial.mechanism,
            "webhook": denial.webhook,
            "policies": [p for p, _r, _m in denial.policies],
        },
        recommendations=policy_recommendations(
            view, workload, refusal.creator, denial, policy, template if primary == workload_ref else None
        ),
    )


def _unavailable(ctx: Context, refusal: Refusal) -> Finding:
    view = ctx.view
    denial = refusal.denial
    evidence, parts, _workload, workload_ref = _opening(ctx, refusal)
    config = policy_object(view, denial, Ref.of(refusal.creator).namespace)
    contributing = [Contributing(Ref.of(refusal.creator), "FailedCreate: webhook call failed")]
    primary = workload_ref
    if config is not None:
        primary = Ref.of(config)
        hook: dict = next((w for w in config.get("webhooks") or [] if w.get("name") == denial.webhook), {})
        service = ((hook.get("clientConfig") or {}).get("service")) or {}
        evidence.append(
            ctx.cite(
                "spec",
                config,
                f"webhook {denial.webhook}: failurePolicy {hook.get('failurePolicy', 'Fail')}, service "
                f"{service.get('namespace')}/{service.get('name')}",
            )
        )
        parts.append(
            f"{primary.kind} {primary.name} sends every pod to webhook {denial.webhook} with failurePolicy "
            f"{hook.get('failurePolicy', 'Fail')} [{evidence[-1]}]: when the webhook cannot be called "
            f"({denial.reason[:200]}), "
            "the API server refuses the pod."
        )
        backend = view.get("Service", service.get("namespace", ""), service.get("name", ""))
        if backend is not None:
            ready, _not_ready = view.endpoints(backend)
            contributing.append(Contributing(Ref.of(backend), f"webhook backend: {ready} ready endpoints"))
    else:
        parts.append(f"Webhook {denial.webhook} cannot be called: {denial.reason[:200]}.")
    return Finding(
        category="admission-denied",
        resource=primary,
        confidence=0.85,
        summary=f"admission webhook {denial.webhook} is unreachable and fails closed: {workload_ref.name} "
        "cannot create pods",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"mechanism": denial.mechanism, "webhook": denial.webhook},
        recommendations=unavailable_recommendations(workload_ref, config, denial)
        or [kubectl_describe(workload_ref)],
    )


def kubectl_describe(ref: Ref):
    from investigations.engine.kubectl import Recommendation

    return Recommendation(
        "Inspect the refusals", "immediate", "", [kubectl.describe(ref), kubectl.events(ref)]
    )
