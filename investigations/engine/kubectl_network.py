"""kubectl builders for the network family (Services, Ingresses, RBAC). Shown, never executed."""

from __future__ import annotations

import json

from investigations.engine.evidence import Ref
from investigations.engine.kubectl import ns, patch_merge, q, resource


def get_endpoints(service: Ref) -> str:
    return f"kubectl {ns(service)}get endpoints {q(service.name)} -o wide"


def get_endpointslices(service: Ref) -> str:
    return f"kubectl {ns(service)}get endpointslices -l kubernetes.io/service-name={q(service.name)} -o wide"


def get_pods_with_labels(namespace: str, selector: dict[str, str] | None = None) -> str:
    flag = f" -l {q(','.join(f'{k}={v}' for k, v in selector.items()))}" if selector else ""
    return f"kubectl -n {q(namespace)} get pods{flag} --show-labels"


def patch_json(ref: Ref, operations: list[dict]) -> str:
    return f"kubectl {ns(ref)}patch {resource(ref)} --type json -p {q(json.dumps(operations))}"


def set_service_selector(service: Ref, old: dict[str, str], new: dict[str, str]) -> str:
    """A merge patch that removes the old selector keys and sets the new ones."""
    selector: dict[str, str | None] = {key: None for key in old if key not in new}
    selector.update(new)
    return patch_merge(service, json.dumps({"spec": {"selector": selector}}, separators=(",", ":")))


def set_service_target_port(service: Ref, index: int, target: int | str) -> str:
    return patch_json(
        service, [{"op": "replace", "path": f"/spec/ports/{index}/targetPort", "value": target}]
    )


def set_ingress_backend(ingress: Ref, rule: int, path: int, service: str, port: int | str | None) -> str:
    operations: list[dict] = [
        {
            "op": "replace",
            "path": f"/spec/rules/{rule}/http/paths/{path}/backend/service/name",
            "value": service,
        }
    ]
    if port is not None:
        key = "number" if isinstance(port, int) else "name"
        operations.append(
            {
                "op": "replace",
                "path": f"/spec/rules/{rule}/http/paths/{path}/backend/service/port",
                "value": {key: port},
            }
        )
    return patch_json(ingress, operations)


def auth_can_i(verb: str, resource_name: str, namespace: str, user: str) -> str:
    where = f" -n {q(namespace)}" if namespace else ""
    return f"kubectl auth can-i {q(verb)} {q(resource_name)}{where} --as={q(user)}"


def add_role_rule(role: Ref, api_group: str, resource_name: str, verbs: list[str]) -> str:
    rule = {"apiGroups": [api_group], "resources": [resource_name], "verbs": verbs}
    return patch_json(role, [{"op": "add", "path": "/rules/-", "value": rule}])


def replace_rule_verbs(role: Ref, index: int, verbs: list[str]) -> str:
    return patch_json(role, [{"op": "replace", "path": f"/rules/{index}/verbs", "value": verbs}])


def create_rolebinding(
    namespace: str, name: str, role_kind: str, role: str, sa_namespace: str, sa_name: str
) -> str:
    flag = "--clusterrole" if role_kind == "ClusterRole" else "--role"
    return (
        f"kubectl -n {q(namespace)} create rolebinding {q(name)} {flag}={q(role)} "
        f"--serviceaccount={q(f'{sa_namespace}:{sa_name}')}"
    )
