"""More copy-paste kubectl commands (images, probes, config), shown only, never executed."""

from __future__ import annotations

import json

from investigations.engine.evidence import Ref
from investigations.engine.kubectl import ns, q, resource


def set_image(ref: Ref, container: str, image: str) -> str:
    return f"kubectl {ns(ref)}set image {resource(ref)} {q(container)}={q(image)}"


def patch_strategic(ref: Ref, patch: dict) -> str:
    """A strategic-merge patch (containers merge by name), e.g. one container's probe."""
    return (
        f"kubectl {ns(ref)}patch {resource(ref)} --type strategic -p "
        f"{q(json.dumps(patch, separators=(',', ':')))}"
    )


def container_patch(ref: Ref, container: str, fields: dict) -> str:
    return patch_strategic(
        ref, {"spec": {"template": {"spec": {"containers": [{"name": container, **fields}]}}}}
    )


def set_configmap_key(ref: Ref, key: str, value: str) -> str:
    patch = json.dumps({"data": {key: value}}, separators=(",", ":"))
    return f"kubectl {ns(ref)}patch {resource(ref)} --type merge -p {q(patch)}"


def get_custom(kind: str, namespace: str, name: str, output: str = "yaml") -> str:
    flag = f"-n {q(namespace)} " if namespace else ""
    return f"kubectl {flag}get {q(kind.lower())} {q(name)} -o {q(output)}"


def describe_custom(kind: str, namespace: str, name: str) -> str:
    flag = f"-n {q(namespace)} " if namespace else ""
    return f"kubectl {flag}describe {q(kind.lower())} {q(name)}"


def top_pods(namespace: str) -> str:
    return f"kubectl -n {q(namespace)} top pod --containers"


def list_keys(ref: Ref) -> str:
    return f"kubectl {ns(ref)}get {resource(ref)} -o jsonpath='{{.data}}'"


def get_services(namespace: str) -> str:
    return f"kubectl -n {q(namespace)} get services,endpoints"
