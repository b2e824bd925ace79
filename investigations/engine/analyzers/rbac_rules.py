"""What RBAC grants, for rbac-forbidden: whether a Role rule allows a verb on a resource, the
(Cluster)RoleBindings that name a ServiceAccount with the role each binds, and which account in a
namespace already holds the permission.
"""

from __future__ import annotations

from investigations.engine.evidence import ClusterView, Ref


def rule_allows(rule: dict, verb: str, resource_name: str, group: str) -> bool:
    resource_base = resource_name.split("/")[0]
    groups = rule.get("apiGroups") or []
    resources = rule.get("resources") or []
    verbs = rule.get("verbs") or []
    return (
        ("*" in groups or group in groups)
        and (
            "*" in resources
            or resource_name in resources
            or (resource_base in resources and "/" not in resource_name)
        )
        and ("*" in verbs or verb in verbs)
        and not rule.get("resourceNames")
    )


def bindings_for(
    view: ClusterView, sa_namespace: str, sa_name: str, namespace: str
) -> list[tuple[dict, dict | None]]:
    """(binding, role object or None) for RoleBindings in `namespace` and ClusterRoleBindings naming the "
    "SA."""
    result = []
    candidates = view.all("RoleBinding", namespace) + view.all("ClusterRoleBinding")
    for binding in candidates:
        for subject in binding.get("subjects") or []:
            subject_ns = subject.get("namespace") or Ref.of(binding).namespace
            if (
                subject.get("kind") == "ServiceAccount"
                and subject.get("name") == sa_name
                and subject_ns == sa_namespace
            ) or (
                subject.get("kind") == "Group"
                and subject.get("name")
                in ("system:serviceaccounts", f"system:serviceaccounts:{sa_namespace}")
            ):
                role_ref = binding.get("roleRef") or {}
                kind = role_ref.get("kind", "Role")
                role = view.get(
                    kind, Ref.of(binding).namespace if kind == "Role" else "", role_ref.get("name", "")
                )
                result.append((binding, role))
                break
    return result


def account_with_permission(
    view: ClusterView, namespace: str, exclude: str, verb: str, resource_name: str, api_group: str
) -> str:
    for binding in view.all("RoleBinding", namespace):
        role_ref = binding.get("roleRef") or {}
        kind = role_ref.get("kind", "Role")
        role = view.get(kind, namespace if kind == "Role" else "", role_ref.get("name", ""))
        if role is None or not any(
            rule_allows(rule, verb, resource_name, api_group) for rule in role.get("rules") or []
        ):
            continue
        for subject in binding.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("name") != exclude:
                return subject.get("name", "")
    return ""
