"""The Helm chart grants read-only access and nothing else (checked without helm).

The RBAC rules live in plain YAML files (`files/rbac-rules-*.yaml`) that the templates include
verbatim; the RBAC templates use a deliberately tiny subset of Go templating that `render()`
below understands, and it fails loudly on anything else so the chart stays auditable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.allowlist import KINDS

CHART = Path(__file__).resolve().parents[2] / "agent" / "chart"
ALLOWED_VERBS = {"get", "list", "watch"}
CLUSTER_SCOPED = {
    "nodes",
    "persistentvolumes",
    "namespaces",
    "storageclasses",
    "clusterroles",
    "clusterrolebindings",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "clusterissuers",
    "clusterpolicies",
}
FULLNAME = "rel-opsworker-agent"


def load_rules(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((CHART / "files" / name).read_text())


ALL_RULES = load_rules("rbac-rules-namespaced.yaml") + load_rules("rbac-rules-cluster.yaml")


# --- a tiny renderer for the RBAC templates ----------------------------------------------------

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_CONTROL = re.compile(r"^\s*\{\{-?\s*(if|range|end)\b\s*(.*?)\s*-?\}\}\s*$")


def _lookup(path: str, values: dict[str, Any]) -> Any:
    node: Any = {"Values": values, "Release": {"Namespace": "opsworker", "Name": "rel"}}
    for part in path.lstrip("$").strip(".").split("."):
        node = node[part]
    return node


def _parse(lines: list[str], start: int = 0) -> tuple[list[Any], int]:
    nodes: list[Any] = []
    i = start
    while i < len(lines):
        control = _CONTROL.match(lines[i])
        if not control:
            nodes.append(("text", lines[i]))
            i += 1
            continue
        word, expr = control.groups()
        if word == "end":
            return nodes, i + 1
        children, i = _parse(lines, i + 1)
        nodes.append((word, expr, children))
    return nodes, i


def _condition(expr: str, values: dict[str, Any]) -> bool:
    if expr.startswith("not "):
        return not _condition(expr[4:], values)
    if not expr.startswith(".Values."):
        raise AssertionError(f"test renderer does not understand condition {expr!r}")
    return bool(_lookup(expr, values))


def _action(expr: str, dot: Any, values: dict[str, Any]) -> str:
    expr, _, pipe = expr.partition(" | ")
    if expr == ".":
        text = str(dot)
    elif expr in ('include "opsworker-agent.fullname" $', 'include "opsworker-agent.serviceAccountName" $'):
        text = FULLNAME
    elif expr == 'include "opsworker-agent.labels" $':
        text = "app.kubernetes.io/name: opsworker-agent\napp.kubernetes.io/instance: rel"
    elif expr.startswith('$.Files.Get "'):
        text = (CHART / expr.split('"')[1]).read_text()
    elif expr in ("$.Release.Namespace", ".Release.Namespace"):
        text = "opsworker"
    else:
        raise AssertionError(f"test renderer does not understand {{{{ {expr} }}}}")
    if pipe:
        match = re.fullmatch(r"nindent (\d+)", pipe)
        assert match, f"unsupported pipe {pipe!r}"
        pad = " " * int(match.group(1))
        text = "\n" + "\n".join(pad + line if line else line for line in text.splitlines())
    return text


def _emit(nodes: list[Any], dot: Any, values: dict[str, Any], out: list[str]) -> None:
    for node in nodes:
        if node[0] == "text":
            line = node[1]
            if line.lstrip().startswith("{{-"):  # `{{-` eats the indentation and the newline before it
                out[-1] += _ACTION.sub(lambda m: _action(m.group(1), dot, values), line.lstrip())
            else:
                out.append(_ACTION.sub(lambda m: _action(m.group(1), dot, values), line))
        elif node[0] == "if":
            if _condition(node[1], values):
                _emit(node[2], dot, values, out)
        else:  # range
            for item in _lookup(node[1], values) or []:
                _emit(node[2], item, values, out)


def render(template: str, **rbac: Any) -> list[dict[str, Any]]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    values["rbac"].update(rbac)
    nodes, _ = _parse((CHART / "templates" / template).read_text().splitlines())
    out: list[str] = [""]
    _emit(nodes, None, values, out)
    return [doc for doc in yaml.safe_load_all("\n".join(out)) if doc]


def render_rbac(**rbac: Any) -> list[dict[str, Any]]:
    return render("clusterrole.yaml", **rbac) + render("role.yaml", **rbac)


# --- rules ----------------------------------------------------------------------------------


def test_chart_rules_use_only_read_verbs() -> None:
    for rule in ALL_RULES:
        assert set(rule["verbs"]) <= ALLOWED_VERBS, rule


def test_chart_rules_never_grant_secrets_or_wildcards() -> None:
    for rule in ALL_RULES:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], rule
        assert not any("secret" in resource.lower() for resource in rule["resources"]), rule
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule


def test_chart_rules_grant_pod_logs() -> None:
    assert any("pods/log" in rule["resources"] and rule["apiGroups"] == [""] for rule in ALL_RULES)


def test_chart_rules_match_the_agent_allowlist() -> None:
    granted = {
        (group, resource)
        for rule in ALL_RULES
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    needed = {(spec.group, spec.plural) for spec in KINDS.values()} | {("", "pods/log")}

    assert granted == needed


def test_chart_namespaced_rules_hold_no_cluster_scoped_kinds() -> None:
    for rule in load_rules("rbac-rules-namespaced.yaml"):
        assert not CLUSTER_SCOPED & set(rule["resources"]), rule
        assert not (rule["apiGroups"] == ["metrics.k8s.io"] and "nodes" in rule["resources"])


# --- rendered RBAC ------------------------------------------------------------------------------


def test_chart_default_renders_one_read_only_cluster_role() -> None:
    docs = render_rbac()

    assert [d["kind"] for d in docs] == ["ClusterRole", "ClusterRoleBinding"]
    role, binding = docs
    assert role["rules"] == ALL_RULES
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": FULLNAME,
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": "opsworker"}]


def test_chart_namespaced_mode_renders_role_and_binding_per_namespace() -> None:
    docs = render_rbac(namespaced=True, namespaces=["shop", "search"])

    assert [(d["kind"], d["metadata"]["namespace"]) for d in docs] == [
        ("Role", "shop"),
        ("RoleBinding", "shop"),
        ("Role", "search"),
        ("RoleBinding", "search"),
    ]
    for doc in docs:
        if doc["kind"] == "Role":
            assert doc["rules"] == load_rules("rbac-rules-namespaced.yaml")
        else:
            assert doc["roleRef"]["kind"] == "Role"
            assert doc["subjects"][0]["namespace"] == "opsworker"


@pytest.mark.parametrize("rbac", [{}, {"namespaced": True, "namespaces": ["a", "b", "c"]}])
def test_chart_rendered_rbac_is_read_only(rbac: dict[str, Any]) -> None:
    for doc in render_rbac(**rbac):
        for rule in doc.get("rules", []):
            assert set(rule["verbs"]) <= ALLOWED_VERBS
            assert "secrets" not in rule["resources"]


def test_chart_templates_mention_secrets_only_as_the_token_reference() -> None:
    for template in (CHART / "templates").glob("*.yaml"):
        for line in template.read_text().splitlines():
            if not line.strip().startswith("#") and re.search(r"\bsecrets\b", line, re.IGNORECASE):
                pytest.fail(f"{template.name}: {line.strip()}")


# --- deployment -------------------------------------------------------------------------------


def test_chart_deployment_is_hardened() -> None:
    text = (CHART / "templates" / "deployment.yaml").read_text()

    for required in (
        "replicas: 1",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "allowPrivilegeEscalation: false",
        'drop: ["ALL"]',
        "secretKeyRef:",
        "resources:",
        "name: OPSWORKER_PORTAL_URL",
        "name: OPSWORKER_TRANSPORT",
    ):
        assert required in text, required
    assert "containerPort" not in text and "hostNetwork" not in text and "privileged" not in text


def test_chart_values_declare_resources_and_default_to_cluster_mode() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    assert values["rbac"] == {"namespaced": False, "namespaces": []}
    assert values["resources"]["limits"]["memory"] and values["resources"]["requests"]["cpu"]
    assert values["transport"] in ("http", "sqs")
