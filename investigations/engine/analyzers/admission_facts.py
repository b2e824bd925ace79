"""Facts admission-denied reads: whether a pod creator still lacks pods, when its pod template last
changed against when a policy did, what a policy does on a violation, and the object a denial names.
"""

from __future__ import annotations

from investigations.engine.analyzers.admission_messages import Denial
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.evidence import ClusterView
from investigations.engine.facts import Change, pod_spec, rollout_changes


def still_short(view: ClusterView, creator: dict) -> bool:
    """The controller still lacks pods it wants (a Job that never ran counts), so its refusals matter now."""
    spec, status = creator.get("spec") or {}, creator.get("status") or {}
    kind = creator.get("kind")
    if kind == "Job":
        return not status.get("succeeded") and not status.get("active") and not status.get("ready")
    if kind == "CronJob":
        return True
    if kind == "DaemonSet":
        return (status.get("numberReady") or 0) < (status.get("desiredNumberScheduled") or 0)
    desired = spec.get("replicas", 1) or 0
    if kind == "Deployment":
        updated, available = status.get("updatedReplicas") or 0, status.get("availableReplicas") or 0
        return updated < desired or available < desired
    return (status.get("replicas") or 0) < desired


def template_change(view: ClusterView, workload: dict) -> Change | None:
    """When the workload's pod template last changed (a rollout, or an edit of the template)."""
    rollouts = rollout_changes(view, workload)
    if rollouts:
        return rollouts[0]
    field = "f:jobTemplate" if workload.get("kind") == "CronJob" else "f:template"
    return change_of(view, workload, field) or change_of(view, workload)


def newer(view: ClusterView, policy: Change | None, template: Change | None) -> bool:
    """The policy changed after the pod template: the policy is what changed."""
    if policy is None:
        return False
    if template is None:
        return True
    return (view.age_seconds(policy.when) or 0) < (view.age_seconds(template.when) or 0)


def containers_text(workload: dict) -> str:
    spec = pod_spec(workload)
    items = [
        f"{c.get('name')}: image {c.get('image')}, securityContext {c.get('securityContext') or 'none'}, "
        f"resources {c.get('resources') or 'none'}"
        for c in spec.get("containers") or []
    ]
    return f"pod securityContext {spec.get('securityContext') or 'none'}; " + "; ".join(items)


def change_text(change: Change) -> str:
    return f"{change.what}" + (f" ({'; '.join(change.details[:3])})" if change.details else "")


def enforcement(view: ClusterView, policy: dict, denial: Denial) -> str:
    """How the policy acts on a violation (Kyverno's validationFailureAction, a binding's actions)."""
    spec = policy.get("spec") or {}
    if spec.get("validationFailureAction"):
        return f"validationFailureAction {spec['validationFailureAction']}"
    if denial.binding:
        binding = view.get("ValidatingAdmissionPolicyBinding", "", denial.binding)
        actions = ((binding or {}).get("spec") or {}).get("validationActions")
        selector = (((binding or {}).get("spec") or {}).get("matchResources") or {}).get("namespaceSelector")
        return (
            f"binding {denial.binding}"
            + (f" validationActions {actions}" if actions else "")
            + (f" for namespaces {selector.get('matchLabels') or selector}" if selector else "")
        )
    if spec.get("failurePolicy"):
        return f"failurePolicy {spec['failurePolicy']}"
    return ""


def policy_object(view: ClusterView, denial: Denial, namespace: str) -> dict | None:
    for name, _rule, _message in denial.policies:
        if denial.mechanism == "admission-policy":
            found = view.get("ValidatingAdmissionPolicy", "", name)
        else:
            found = view.get("ClusterPolicy", "", name) or view.get("Policy", namespace, name)
        if found is not None:
            return found
    if denial.webhook:
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            for config in view.all(kind):
                if any(w.get("name") == denial.webhook for w in config.get("webhooks") or []):
                    return config
    return None
