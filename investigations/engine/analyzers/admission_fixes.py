"""Recommendations for admission-denied: make the pod template comply (the securityContext Pod Security
asks for, the resources a policy requires), re-run what was refused, and the stop-gaps (a lower
enforce level, a policy back in audit, a webhook failing open) with their trade-off stated.
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analyzers.admission_messages import PSA_FIXES, Denial
from investigations.engine.evidence import ClusterView, Ref
from investigations.engine.facts import Change, pod_spec
from investigations.engine.kubectl import Recommendation

_LOWER = {"restricted": "baseline", "baseline": "privileged"}


def _template(workload: dict, spec: dict) -> dict:
    """A patch body placing `spec` at the workload's pod template."""
    if workload.get("kind") == "CronJob":
        return {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}
    return {"spec": {"template": {"spec": spec}}}


def _rerun(workload: dict) -> list[str]:
    ref = Ref.of(workload)
    if ref.kind == "CronJob":
        return [kp.job_from_cronjob(ref, f"{ref.name[:40]}-manual-rerun")]
    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return [kubectl.rollout_status(ref)]
    return []


def psa_recommendations(
    view: ClusterView, workload: dict, creator: dict, denial: Denial, namespace: str
) -> list[Recommendation]:
    ref = Ref.of(workload)
    spec = pod_spec(workload)
    named = set(re.findall(r'container "([^"]+)"', denial.reason))
    containers = [c.get("name") for c in spec.get("containers") or [] if not named or c.get("name") in named]
    pod_level: dict = {}
    container_level: dict = {}
    for check in denial.checks:
        for key, (where, fields) in PSA_FIXES.items():
            if check.startswith(key):
                target = pod_level if where == "pod" else container_level
                target.update(fields)
    if pod_level.get("runAsNonRoot") and not (spec.get("securityContext") or {}).get("runAsUser"):
        pod_level.setdefault("runAsUser", 10001)  # a non-root UID the image must be able to run as
    patch_spec: dict = {}
    if pod_level:
        patch_spec["securityContext"] = pod_level
    if container_level:
        patch_spec["containers"] = [{"name": name, "securityContext": container_level} for name in containers]
    out = []
    if patch_spec and ref.kind != "Pod":
        out.append(
            Recommendation(
                f'Make {ref.kind} {ref.name} comply with Pod Security "{denial.level}"',
                "immediate",
                "Set the securityContext the refusal lists (check the image runs as a non-root user), in "
                "the chart "
                "or manifest it comes from as well.",
                [kpol.patch_strategic(ref, _template(workload, patch_spec)), *_rerun(workload)],
            )
        )
    lower = _LOWER.get(denial.level)
    if lower:
        out.append(
            Recommendation(
                f'Stop-gap: enforce "{lower}" in namespace {namespace} while the workload is fixed',
                "immediate",
                f'Keeps warn/audit at "{denial.level}" so violations stay visible; revert once the pods '
                "comply.",
                [
                    kpol.label_namespace(namespace, "pod-security.kubernetes.io/enforce", lower),
                    kubectl.events(Ref.of(creator)),
                ],
            )
        )
    out.append(
        Recommendation(
            "Check a namespace before enforcing a Pod Security level",
            "preventive",
            "A server-side dry run lists the workloads that would be refused; fix them (or exempt them) "
            "first.",
            [
                f"kubectl label --dry-run=server --overwrite namespace {kubectl.q(namespace)} "
                f"pod-security.kubernetes.io/enforce={denial.level}"
            ],
        )
    )
    return out


def _resource_fix(workload: dict, denial: Denial) -> str:
    """`kubectl set resources` for a policy that requires limits/requests, from the rule's message."""
    text = " ".join(m for _p, _r, m in denial.policies) + " " + denial.reason
    kind = (
        "limits"
        if re.search(r"limits", text, re.I)
        else "requests"
        if re.search(r"requests", text, re.I)
        else ""
    )
    if not kind:
        return ""
    resources = [r for r in ("memory", "cpu") if re.search(r, text, re.I)] or ["memory"]
    index = re.search(r"/containers/(\d+)/", text)
    containers = pod_spec(workload).get("containers") or []
    if not containers:
        return ""
    container = (
        containers[int(index.group(1))] if index and int(index.group(1)) < len(containers) else containers[0]
    )
    have = (container.get("resources") or {}).get("requests" if kind == "limits" else "limits") or {}
    values = {r: have.get(r) or ("512Mi" if r == "memory" else "500m") for r in resources}
    ref = Ref.of(workload)
    if kind == "limits":
        return kubectl.set_resources(ref, container.get("name", ""), limits=values)
    return kubectl.set_resources(ref, container.get("name", ""), requests=values)


def policy_recommendations(
    view: ClusterView,
    workload: dict,
    creator: dict,
    denial: Denial,
    policy: dict | None,
    change: Change | None,
) -> list[Recommendation]:
    ref = Ref.of(workload)
    out = []
    if change is not None and change.previous_revision and ref.kind == "Deployment":
        out.append(
            Recommendation(
                f"Roll {ref.name} back to revision {change.previous_revision}",
                "immediate",
                f"Revision {change.previous_revision} passed the policy; {change.what} is what it refuses.",
                [kubectl.rollout_undo(ref, change.previous_revision), kubectl.rollout_status(ref)],
            )
        )
    fix = _resource_fix(workload, denial) if ref.kind != "Pod" else ""
    out.append(
        Recommendation(
            f"Make {ref.kind} {ref.name} satisfy the policy",
            "immediate",
            "Change the pod template the way the policy's message asks (in git too, or the next sync "
            "reverts it); "
            "the controller then creates the missing pods.",
            [fix or kubectl.edit(ref), *_rerun(workload)],
        )
    )
    if policy is not None:
        policy_ref = Ref.of(policy)
        commands = [kpol.describe_kind(policy_ref.kind, policy_ref.namespace, policy_ref.name)]
        if policy_ref.kind in ("ClusterPolicy", "Policy"):
            commands.append(kpol.patch_merge(policy_ref, {"spec": {"validationFailureAction": "Audit"}}))
        elif policy_ref.kind == "ValidatingAdmissionPolicy" and denial.binding:
            commands.append(
                kpol.patch_merge(
                    Ref("ValidatingAdmissionPolicyBinding", "", denial.binding),
                    {"spec": {"validationActions": ["Warn", "Audit"]}},
                )
            )
        out.append(
            Recommendation(
                f"Stop-gap: let {policy_ref.name} report instead of refuse",
                "immediate",
                "Only if the pods are needed before the template can change; audit mode keeps the "
                "violations in the "
                "policy reports. Prefer a narrow exception for this workload.",
                commands,
            )
        )
    if denial.engine == "gatekeeper":
        out.append(
            Recommendation(
                "Find the constraint",
                "immediate",
                "Gatekeeper names it in brackets.",
                ["kubectl get constraints"],
            )
        )
    out.append(
        Recommendation(
            "Enforce a policy only after its reports are clean",
            "preventive",
            "Run new policies in audit mode, fix or exempt what the reports list, then enforce; test "
            "workloads "
            "against the policies in CI.",
            ["kubectl get policyreport -A"] if denial.engine == "kyverno" else [],
        )
    )
    return out


def unavailable_recommendations(workload: Ref, config: dict | None, denial: Denial) -> list[Recommendation]:
    if config is None:
        return []
    ref = Ref.of(config)
    hooks = config.get("webhooks") or []
    index = next((i for i, w in enumerate(hooks) if w.get("name") == denial.webhook), 0)
    service = ((hooks[index].get("clientConfig") or {}).get("service") or {}) if hooks else {}
    commands = [kpol.describe_kind(ref.kind, "", ref.name)]
    if service.get("name"):
        commands.append(kpol.get_endpoints(Ref("Service", service.get("namespace", ""), service["name"])))
    return [
        Recommendation(
            f"Bring webhook {denial.webhook} back",
            "immediate",
            "Its backend must answer for any pod to be admitted.",
            commands,
        ),
        Recommendation(
            "Stop-gap: let the webhook fail open",
            "immediate",
            "Pods are admitted unchecked while failurePolicy is Ignore; revert when the webhook is back.",
            [
                kpol.patch_json(
                    ref, [{"op": "replace", "path": f"/webhooks/{index}/failurePolicy", "value": "Ignore"}]
                )
            ],
        ),
        Recommendation(
            "Run admission webhooks like critical infrastructure",
            "preventive",
            "Several replicas with a PodDisruptionBudget, a namespaceSelector that excludes the webhook's "
            "own "
            "namespace and kube-system, and an alert on its endpoints.",
            [],
        ),
    ]
