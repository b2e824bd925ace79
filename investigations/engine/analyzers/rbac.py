"""rbac-forbidden: 0.9 a 403 "User system:serviceaccount:NS:SA cannot VERB RESOURCE" in the pods' logs,
the bound Role verifiably lacks the rule, and the pods are NotReady/crashing; 0.8 when the pods look
healthy; 0.85 when the SA has no binding (primary: the ServiceAccount) or the binding names a missing
role (primary: the binding); 0.6 for non-ServiceAccount users. Nothing when the Role allows the call.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from investigations.engine import kubectl
from investigations.engine import kubectl_network as knet
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import pod_logs
from investigations.engine.analyzers.helpers import quote_line
from investigations.engine.analyzers.rbac_rules import account_with_permission, bindings_for, rule_allows
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import (
    container_states,
    last_modified,
    pod_condition,
    pod_spec,
    recent_edit,
    ts,
)
from investigations.engine.kubectl import Recommendation

_FORBIDDEN = re.compile(
    r'(?:(?P<what>[\w.-]+(?:\s+"[^"]*")?)\s+is\s+forbidden:\s+)?User\s+\\?"(?P<user>[^"\\]+)\\?"\s+cannot\s+'
    r'(?P<verb>[a-z]+)\s+(?:resource\s+)?\\?"?(?P<resource>[\w./-]+)\\?"?'
    r'(?:\s+in\s+API\s+group\s+\\?"(?P<group>[^"\\]*)\\?")?'
    r'(?:\s+in\s+the\s+namespace\s+\\?"(?P<namespace>[^"\\]+)\\?"|\s+at\s+the\s+cluster\s+scope)?',
    re.I,
)


@dataclasses.dataclass
class Denial:
    pod: dict
    container: str
    line: str
    user: str
    verb: str
    resource: str
    group: str
    namespace: str
    previous: bool


def forbidden_lines(view: ClusterView, pods: Iterable[dict]) -> list[Denial]:
    found = []
    for pod in pods:
        for container, text, previous in pod_logs(view, pod):
            for line in text.splitlines():
                if "forbidden" not in line.lower() and "cannot" not in line:
                    continue
                match = _FORBIDDEN.search(line)
                if not match:
                    continue
                resource_name = match.group("resource")
                group = match.group("group") or ""
                found.append(
                    Denial(
                        pod,
                        container,
                        line.strip(),
                        match.group("user"),
                        match.group("verb").lower(),
                        resource_name,
                        group,
                        match.group("namespace") or "",
                        previous,
                    )
                )
    return found


@analyzer("rbac-forbidden")
def rbac_forbidden(ctx: Context) -> list[Finding]:
    view = ctx.view
    denials = forbidden_lines(view, ctx.in_scope_pods())
    if not denials:
        return []
    # The most frequent (user, verb, resource) is the one that matters.
    counts: dict[tuple[str, str, str, str, str], list[Denial]] = {}
    for denial in denials:
        counts.setdefault(
            (denial.user, denial.verb, denial.resource, denial.group, denial.namespace), []
        ).append(denial)
    key, group_denials = max(counts.items(), key=lambda item: len(item[1]))
    user, verb, resource_name, api_group, namespace = key
    first = group_denials[0]
    pod = first.pod
    pod_ref = Ref.of(pod)
    workload = view.top_owner(pod)
    workload_ref = Ref.of(workload)
    evidence = [ctx.cite("previous_log" if first.previous else "log", pod, quote_line(first.line, 500))]
    group_text = f'API group "{api_group}"' + (" (core)" if api_group == "" else "")
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    parts = [
        f"Pod {pod_ref.name} of {workload_ref.kind} {workload_ref.name} is denied by the API server: "
        f'{resource_name} is forbidden: User "{user}" cannot {verb} resource "{resource_name}" in '
        f"{group_text} {where} "
        f"[{evidence[0]}] (RBAC 403; {len(group_denials)} such lines).",
    ]
    sa_match = re.fullmatch(r"system:serviceaccount:([^:]+):([^:]+)", user)
    contributing: list[Contributing] = []
    recommendations: list[Recommendation] = []
    if not sa_match:
        return [
            Finding(
                category="rbac-forbidden",
                resource=workload_ref,
                confidence=0.6,
                summary=f'{workload_ref.name}: User "{user}" is forbidden to {verb} {resource_name}',
                explanation=" ".join(parts),
                evidence=evidence,
                recommendations=[
                    Recommendation(
                        "Check the identity's permissions",
                        "immediate",
                        "The denied identity is not a ServiceAccount of the cluster.",
                        [knet.auth_can_i(verb, resource_name, namespace, user)],
                    )
                ],
            )
        ]
    sa_namespace, sa_name = sa_match.groups()
    sa_ref = Ref("ServiceAccount", sa_namespace, sa_name)
    used = pod_spec(pod).get("serviceAccountName") or pod_spec(pod).get("serviceAccount") or "default"
    parts.append(
        f"The pod runs as ServiceAccount {sa_name} (serviceAccountName {used}), i.e. the identity "
        f"system:serviceaccount:{sa_namespace}:{sa_name} (the {sa_name} service account)."
    )
    sa = view.get("ServiceAccount", sa_namespace, sa_name)
    bindings = bindings_for(view, sa_namespace, sa_name, namespace or sa_namespace)
    full_resource = resource_name if not api_group else f"{resource_name}.{api_group}"
    can_i = knet.auth_can_i(verb, full_resource, namespace, user)
    primary: Ref
    confidence = 0.9
    if sa is None and not view.all("ServiceAccount", sa_namespace) and not bindings:
        primary, confidence = workload_ref, 0.6
        parts.append(
            "No RBAC objects of the namespace were collected, so which Role lacks the rule cannot be shown."
        )
    elif not bindings:
        primary = sa_ref
        confidence = 0.85
        evidence.append(
            ctx.cite(
                "config",
                sa_ref,
                f"no RoleBinding in {namespace or sa_namespace} and no ClusterRoleBinding binds "
                f"ServiceAccount {sa_name}",
            )
        )
        parts.append(
            f"No RoleBinding or ClusterRoleBinding grants anything to ServiceAccount {sa_name} "
            f"[{evidence[-1]}]: "
            "the RBAC binding is missing."
        )
        other = account_with_permission(
            view, namespace or sa_namespace, sa_name, verb, resource_name, api_group
        )
        if other:
            parts.append(
                f"ServiceAccount {other} in the namespace is bound to a Role that allows {verb} on "
                f"{resource_name}: the workload probably should run as {other} (serviceAccountName)."
            )
            contributing.append(Contributing(workload_ref, f"runs as {sa_name}; {other} has the permission"))
        recommendations.append(
            Recommendation(
                "Bind a Role that allows the call",
                "immediate",
                f"Grant {verb} on {resource_name} to the ServiceAccount.",
                [
                    f"kubectl -n {kubectl.q(namespace or sa_namespace)} create role {kubectl.q(sa_name)} "
                    f"--verb={kubectl.q(verb)} --resource={kubectl.q(full_resource)}",
                    knet.create_rolebinding(
                        namespace or sa_namespace, sa_name, "Role", sa_name, sa_namespace, sa_name
                    ),
                    can_i,
                ],
            )
        )
    else:
        allowing = [
            (b, r)
            for b, r in bindings
            if r is not None
            and any(rule_allows(rule, verb, resource_name, api_group) for rule in r.get("rules") or [])
        ]
        if allowing:
            return []  # the permission exists now: the denial is stale or comes from elsewhere

        # The Role to fix: one that already has a rule for this resource (missing the verb), else a recently
        # edited one, else the first bound Role.
        def rank(item):
            _binding, role = item
            if role is None:
                return (0, "")
            has_resource = any(
                resource_name in (rule.get("resources") or [])
                or resource_name.split("/")[0] in (rule.get("resources") or [])
                for rule in role.get("rules") or []
            )
            modified = (last_modified(view, role) or ("", ""))[0]
            return (2 if has_resource else 1, modified)

        binding, role = max(bindings, key=rank)
        binding_ref = Ref.of(binding)
        role_ref_spec = binding.get("roleRef") or {}
        if role is None:
            missing_kind = role_ref_spec.get("kind", "Role")
            primary = binding_ref
            confidence = 0.85
            evidence.append(
                ctx.cite(
                    "config",
                    binding,
                    f"{binding_ref.kind} {binding_ref.name} binds {sa_name} to {missing_kind} "
                    f"{role_ref_spec.get('name')}, which does not exist",
                )
            )
            parts.append(
                f"{binding_ref.kind} {binding_ref.name} binds the ServiceAccount to {missing_kind} "
                f"{role_ref_spec.get('name')}, which does not exist [{evidence[-1]}]."
            )
            recommendations.append(
                Recommendation(
                    f"Create {missing_kind} {role_ref_spec.get('name')}",
                    "immediate",
                    f"The binding points at a missing role; create it with {verb} on {resource_name}.",
                    [
                        f"kubectl -n {kubectl.q(namespace or sa_namespace)} create role "
                        f"{kubectl.q(role_ref_spec.get('name', ''))} "
                        f"--verb={kubectl.q(verb)} --resource={kubectl.q(full_resource)}",
                        can_i,
                    ],
                )
            )
        else:
            role_ref = Ref.of(role)
            primary = role_ref
            rules = role.get("rules") or []
            related = [
                (index, rule)
                for index, rule in enumerate(rules)
                if resource_name in (rule.get("resources") or [])
                or resource_name.split("/")[0] in (rule.get("resources") or [])
            ]
            rules_text = "; ".join(
                f"{','.join(r.get('resources') or [])} verbs [{','.join(r.get('verbs') or [])}]"
                + (f" (resourceNames {','.join(r.get('resourceNames'))})" if r.get("resourceNames") else "")
                for _i, r in (related or list(enumerate(rules)))[:4]
            )
            evidence.append(ctx.cite("spec", role, f"{role_ref.kind} {role_ref.name} rules: {rules_text}"))
            evidence.append(
                ctx.cite(
                    "config",
                    binding,
                    f"{binding_ref.kind} {binding_ref.name} binds ServiceAccount {sa_name} to "
                    f"{role_ref.kind} {role_ref.name}",
                )
            )
            parts.append(
                f"{binding_ref.kind} {binding_ref.name} binds it to {role_ref.kind} {role_ref.name} "
                f"[{evidence[-1]}], "
                f"whose rules for {resource_name} are: {rules_text} [{evidence[-2]}] — the {verb} verb on "
                f"{resource_name} is missing, so the rbac rule denies the call."
            )
            modified = last_modified(view, role)
            edit = recent_edit(view, role, 24 * 3600)
            if edit and modified:
                fields = _edited_fields(role, modified[0])
                evidence.append(
                    ctx.cite(
                        "change",
                        role,
                        f"{role_ref.kind} {role_ref.name} {edit.what} at {ts(edit.when)} ({edit.age} "
                        f"ago){fields}",
                    )
                )
                parts.append(
                    f"What changed: {role_ref.kind} {role_ref.name} was {edit.what} at {ts(edit.when)}, "
                    f"{edit.age} before "
                    f"the capture{fields} [{evidence[-1]}]; the denials start after that."
                )
                contributing.append(Contributing(role_ref, f"{edit.what} at {ts(edit.when)}"))
            if related:
                index, rule = related[0]
                verbs = list(
                    dict.fromkeys((rule.get("verbs") or []) + [verb] + (["watch"] if verb == "list" else []))
                )
                if rule.get("resourceNames"):
                    fix = knet.add_role_rule(role_ref, api_group, resource_name, [verb])
                else:
                    fix = knet.replace_rule_verbs(role_ref, index, verbs)
            else:
                verbs = [verb] + (["watch"] if verb == "list" else [])
                fix = knet.add_role_rule(role_ref, api_group, resource_name, verbs)
            recommendations.append(
                Recommendation(
                    f"Give {role_ref.kind} {role_ref.name} the {verb} verb on {resource_name}",
                    "immediate",
                    f"Allow {', '.join(verbs)} on {resource_name} (and fix it in the source of truth so it "
                    "is not reverted).",
                    [fix, can_i],
                )
            )
        contributing.append(Contributing(sa_ref, f"identity {user} used by {workload_ref.name}"))
    impact = _rbac_impact(view, group_denials)
    if impact:
        parts.append(impact)
    elif confidence > 0.8:
        confidence = 0.8  # denied, but the pods look healthy: maybe not what the alert is about
    recommendations.append(
        Recommendation(
            "Test RBAC changes before they ship",
            "preventive",
            "Run `kubectl auth can-i` checks for each workload's ServiceAccount in CI against the rendered "
            "Roles, "
            'and alert on 403s from in-cluster clients (apiserver_request_total{code="403"}).',
            [],
        )
    )
    return [
        Finding(
            category="rbac-forbidden",
            resource=primary,
            confidence=confidence,
            summary=(
                f"{primary.kind} {primary.name} does not allow {verb} on {resource_name}: {user} is forbidden"
            ),
            explanation=" ".join(parts),
            evidence=evidence,
            contributing=contributing,
            facts={
                "user": user,
                "verb": verb,
                "resource": resource_name,
                "group": api_group,
                "namespace": namespace,
            },
            recommendations=recommendations,
        )
    ]


def _edited_fields(obj: dict, when: str) -> str:
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("time") == when:
            fields = [
                k[2:] for k in (entry.get("fieldsV1") or {}) if k.startswith("f:") and k != "f:metadata"
            ]
            if fields:
                return f" (fields: {', '.join(fields)})"
    return ""


def _rbac_impact(view: ClusterView, denials: list[Denial]) -> str:
    pods = list({id(d.pod): d.pod for d in denials}.values())
    not_ready = [p for p in pods if (pod_condition(p, "Ready") or {}).get("status") == "False"]
    crashing = [p for p in pods if any(st.failing and st.restarts for st in container_states(p))]
    if not not_ready and not crashing:
        return ""
    text = f"Without that permission {len(not_ready)}/{len(pods)} of its pods report NotReady"
    if crashing:
        text += f" and {len(crashing)} restart repeatedly"
    services = view.services_selecting(pods[0])
    if services and not any(view.endpoints(svc)[0] for svc in services):
        text += f"; Service {Ref.of(services[0]).name} has no ready endpoints, so callers get 5xx"
    return text + "."
