"""kubectl builders for NetworkPolicies, cluster DNS, certificates and admission policies.

Like kubectl.py: copy-paste commands with real, shell-quoted names. Shown, never executed.
"""

from __future__ import annotations

import json

from investigations.engine.evidence import Ref
from investigations.engine.kubectl import ns, q, resource


def _json(value: object) -> str:
    return q(json.dumps(value, separators=(",", ":")))


def describe_networkpolicy(policy: Ref) -> str:
    return f"kubectl {ns(policy)}describe networkpolicy {q(policy.name)}"


def get_networkpolicies(namespace: str) -> str:
    return f"kubectl -n {q(namespace)} get networkpolicy -o wide"


def get_endpoints(service: Ref) -> str:
    return f"kubectl {ns(service)}get endpoints {q(service.name)} -o wide"


def add_policy_rule(policy: dict, direction: str, rule: dict) -> str:
    """A JSON patch appending one ingress/egress rule to a NetworkPolicy (creating the list if absent)."""
    ref = Ref.of(policy)
    key = "egress" if direction == "egress" else "ingress"
    if (policy.get("spec") or {}).get(key):
        operations = [{"op": "add", "path": f"/spec/{key}/-", "value": rule}]
    else:
        operations = [{"op": "add", "path": f"/spec/{key}", "value": [rule]}]
    return f"kubectl {ns(ref)}patch networkpolicy {q(ref.name)} --type json -p {_json(operations)}"


def patch_json(ref: Ref, operations: list[dict]) -> str:
    return f"kubectl {ns(ref)}patch {resource(ref)} --type json -p {_json(operations)}"


def patch_merge(ref: Ref, patch: dict) -> str:
    return f"kubectl {ns(ref)}patch {resource(ref)} --type merge -p {_json(patch)}"


def patch_strategic(ref: Ref, patch: dict) -> str:
    return f"kubectl {ns(ref)}patch {resource(ref)} --type strategic -p {_json(patch)}"


def describe_kind(kind: str, namespace: str, name: str) -> str:
    flag = f"-n {q(namespace)} " if namespace else ""
    return f"kubectl {flag}describe {q(kind.lower())} {q(name)}"


def get_kind(kind: str, namespace: str, name: str = "", output: str = "") -> str:
    flag = f"-n {q(namespace)} " if namespace else ""
    what = f"{q(kind.lower())} {q(name)}" if name else q(kind.lower())
    return f"kubectl {flag}get {what}" + (f" -o {q(output)}" if output else "")


def label_namespace(namespace: str, key: str, value: str) -> str:
    return f"kubectl label namespace {q(namespace)} {q(f'{key}={value}')} --overwrite"


def node_stats(node: str) -> str:
    """The kubelet's summary (per-pod volume and ephemeral-storage usage), read through the API server."""
    return f"kubectl get --raw /api/v1/nodes/{q(node)}/proxy/stats/summary"
