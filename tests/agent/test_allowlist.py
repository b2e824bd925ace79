"""The agent refuses anything off its allow-list by itself, with no portal involved."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agent.allowlist import KINDS, Limits, Rejected, vet
from agent.executor import Executor
from agent.protocol import PROTOCOL_VERSION, validate_command

DEADLINE = "2099-01-01T00:00:00Z"


def command(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c-1",
        "op": "get",
        "kind": "Pod",
        "namespace": "shop",
        "name": "api-7d9f-abcde",
        "params": {},
        "deadline": DEADLINE,
    }
    base.update(overrides)
    return base


def with_params(op: str = "list", name: str | None = None, **params: Any) -> dict[str, Any]:
    return command(op=op, name=name, params=params)


def rejected(raw: object) -> Rejected:
    with pytest.raises(Rejected) as info:
        vet(raw, Limits())
    return info.value


class _ExplodingClient:
    """An ApiClient stand-in that fails the test if anything tries to reach the API."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the API was touched ({name}) for a command that must be refused")


# --- valid commands pass ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        command(),
        command(op="list", name=None, params={"label_selector": "app.kubernetes.io/name=api,tier!=db"}),
        command(op="list", name=None, namespace=None, params={"field_selector": "status.phase=Running"}),
        command(op="list", kind="Node", namespace=None, name=None, params={"limit": 10}),
        command(op="logs", params={"container": "api", "previous": True, "tail_lines": 200}),
        command(op="logs", params={"since_seconds": 3600}),
        command(op="events", kind="Deployment", name="api"),
        command(op="events", kind="Node", namespace=None, name="ip-10-0-1-2.eu-west-1.compute.internal"),
        command(op="get", kind="ClusterRole", namespace=None, name="system:controller:job-controller"),
        command(op="get", kind="Namespace", namespace=None, name="shop"),
        command(op="list", kind="PodMetrics", name=None),
        command(params={"label_selector": None, "limit": None}),  # nulls mean absent
        command(op="list", kind="Deployment", name=None, params={"label_selector": "env in (prod, staging)"}),
    ],
    ids=lambda raw: f"{raw['op']}-{raw['kind']}",
)
def test_allowlist_accepts_valid_command(raw: dict[str, Any]) -> None:
    allowed = vet(raw, Limits())

    assert allowed.id == "c-1"
    assert allowed.spec.kind == raw["kind"]


def test_allowlist_every_kind_can_be_listed() -> None:
    for kind, spec in KINDS.items():
        allowed = vet(command(op="list", kind=kind, name=None, namespace="shop" if spec.namespaced else None))
        assert allowed.spec.kind == kind


def test_allowlist_caps_limit_and_tail_lines_to_agent_limits() -> None:
    limits = Limits(max_list_items=50, max_log_lines=100)

    listed = vet(with_params(limit=5000), limits)
    logs = vet(with_params(op="logs", name="api-1", tail_lines=99_999), limits)

    assert (listed.limit, listed.limit_capped) == (50, True)
    assert (logs.tail_lines, logs.tail_capped) == (100, True)


def test_allowlist_keeps_smaller_requested_limit() -> None:
    allowed = vet(with_params(limit=7), Limits(max_list_items=50))

    assert (allowed.limit, allowed.limit_capped) == (7, False)


# --- hostile commands are refused -----------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        "create",
        "delete",
        "patch",
        "update",
        "apply",
        "exec",
        "attach",
        "port-forward",
        "portforward",
        "proxy",
        "watch",
        "deletecollection",
        "scale",
        "GET",
        "Get ",
        "",
        "get\x00",
    ],
)
def test_allowlist_refuses_other_ops(op: str) -> None:
    error = rejected(command(op=op))

    assert error.code == "refused"
    assert "only runs get, list, logs, events" in error.message


@pytest.mark.parametrize(
    "kind",
    [
        "Secret",
        "secret",
        "Secrets",
        "secrets",
        "SECRET",
        "v1/Secret",
        "core/v1/secrets",
        "Secret ",
        "\uff33\uff25\uff23\uff32\uff25\uff34",  # SECRET in fullwidth letters
        "SealedSecret",
        "ExternalSecret",
    ],
)
def test_allowlist_refuses_secrets_in_any_spelling(kind: str) -> None:
    for op in ("get", "list"):
        error = rejected(command(op=op, kind=kind, name="db-credentials" if op == "get" else None))

        assert error.code == "refused"
        assert "Secrets are never read" in error.message


@pytest.mark.parametrize(
    "kind",
    [
        "pod",
        "pods",
        "Pods",
        "CustomResourceDefinition",
        "CertificateSigningRequest",
        "TokenReview",
        "",
        "P0d",
    ],
)
def test_allowlist_refuses_unknown_or_misspelled_kinds(kind: str) -> None:
    error = rejected(command(kind=kind))

    assert error.code == "refused"
    assert "not on the agent's allow-list" in error.message


@pytest.mark.parametrize(
    "name",
    [
        "../../secrets",
        "a/b",
        "..",
        ".",
        "%2F",
        "api%2e%2e",
        "api/../../secrets/db",
        "api pod",
        "api\x00",
        "api\n",
        "API",
        "-api",
        "api-",
        "a..b",
        "\u0440\u0430d-1",  # "pad-1" with Cyrillic er and a
        "\uff41pi",  # "api" with a fullwidth a
        "a" * 254,
        "",
    ],
)
def test_allowlist_refuses_malformed_names(name: str) -> None:
    error = rejected(command(name=name))

    assert error.code == "invalid"


@pytest.mark.parametrize("name", ["system/../x", "a" * 300, "role name", "../../secrets"])
def test_allowlist_refuses_malformed_rbac_names(name: str) -> None:
    error = rejected(command(kind="ClusterRole", namespace=None, name=name))

    assert error.code == "invalid"


@pytest.mark.parametrize(
    "namespace", ["../kube-system", "Shop", "shop/secrets", "a" * 64, "kube_system", "shop\n"]
)
def test_allowlist_refuses_malformed_namespaces(namespace: str) -> None:
    error = rejected(command(namespace=namespace))

    assert error.code == "invalid"


@pytest.mark.parametrize(
    "params",
    [
        {"label_selector": "app=api;rm -rf /"},
        {"label_selector": "app=$(id)"},
        {"label_selector": "app=api&watch=true"},
        {"label_selector": "app=api\nfoo"},
        {"label_selector": "a" * 1025},
        {"field_selector": "metadata.name=api?x"},
        {"field_selector": "spec.nodeName in (a)"},
        {"field_selector": "status.phase=Running#"},
    ],
)
def test_allowlist_refuses_selectors_with_odd_characters(params: dict[str, Any]) -> None:
    error = rejected(with_params(**params))

    assert error.code == "invalid"
    assert "selector" in error.message


@pytest.mark.parametrize(
    ("op", "params"),
    [
        ("logs", {"tail_lines": 1_000_000_000}),
        ("logs", {"tail_lines": 0}),
        ("logs", {"tail_lines": -5}),
        ("logs", {"since_seconds": 10**12}),
        ("logs", {"since_seconds": -1}),
        ("list", {"limit": -1}),
        ("list", {"limit": 0}),
        ("list", {"limit": 10**10}),
    ],
)
def test_allowlist_refuses_absurd_numbers(op: str, params: dict[str, Any]) -> None:
    error = rejected(with_params(op=op, name="api-1" if op == "logs" else None, **params))

    assert error.code == "invalid"
    assert "must be between" in error.message


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "10"},
        {"limit": True},
        {"limit": 1.5},
        {"tail_lines": "all"},
        {"previous": "yes"},
        {"label_selector": ["app=api"]},
    ],
)
def test_allowlist_refuses_wrong_param_types(params: dict[str, Any]) -> None:
    assert rejected(with_params(op="logs", name="api-1", **params)).code == "invalid"


@pytest.mark.parametrize(
    "params",
    [{"follow": True}, {"command": ["sh"]}, {"stdin": True}, {"dry_run": "All"}, {"resource_version": "0"}],
)
def test_allowlist_refuses_unknown_params(params: dict[str, Any]) -> None:
    error = rejected(with_params(op="logs", name="api-1", **params))

    assert error.code == "refused"
    assert "unknown params" in error.message


@pytest.mark.parametrize(
    ("op", "kind", "params"),
    [
        ("get", "Pod", {"tail_lines": 10}),
        ("list", "Pod", {"container": "api"}),
        ("logs", "Pod", {"label_selector": "app=api"}),
    ],
)
def test_allowlist_refuses_params_of_another_op(op: str, kind: str, params: dict[str, Any]) -> None:
    raw = command(op=op, kind=kind, name=None if op == "list" else "api-1", params=params)

    assert rejected(raw).code == "invalid"


@pytest.mark.parametrize("kind", ["Deployment", "Node", "ConfigMap", "Service"])
def test_allowlist_refuses_logs_on_anything_but_pods(kind: str) -> None:
    spec = KINDS[kind]
    raw = command(op="logs", kind=kind, namespace="shop" if spec.namespaced else None, name="x")

    error = rejected(raw)

    assert error.code == "refused"
    assert "only read from Pods" in error.message


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"namespace": None}, "needs a namespace"),
        ({"name": None}, "needs a name"),
        ({"op": "list"}, "list takes no name"),
        ({"kind": "Node", "namespace": "shop"}, "cluster-scoped"),
        ({"op": "events", "kind": "Event"}, "events are read for an object"),
        ({"container": "api"}, "unknown command fields"),
        ({"verb": "delete"}, "unknown command fields"),
        ({"deadline": "tomorrow"}, "ISO 8601"),
        ({"deadline": "2099-01-01T00:00:00"}, "timezone"),
        ({"id": ""}, "'id' must be"),
        ({"id": "x" * 129}, "'id' must be"),
        ({"id": "../x y"}, "'id' must be"),
        ({"id": 7}, "'id' must be"),
        ({"kind": 3}, "'kind' must be a string"),
        ({"name": ["a"]}, "'name' must be a string"),
        ({"params": "limit=5"}, "'params' must be an object"),
    ],
)
def test_allowlist_refuses_malformed_commands(overrides: dict[str, Any], fragment: str) -> None:
    error = rejected(command(**overrides))

    assert error.code in ("invalid", "refused")
    assert fragment in error.message


@pytest.mark.parametrize("field", ["id", "op", "kind", "deadline"])
def test_allowlist_refuses_missing_fields(field: str) -> None:
    raw = command()
    del raw[field]

    error = rejected(raw)

    assert error.code == "invalid"
    assert field in error.message


@pytest.mark.parametrize("raw", [None, [], "get pods", 42, {"protocol": PROTOCOL_VERSION}])
def test_allowlist_refuses_non_commands(raw: object) -> None:
    assert rejected(raw).code == "invalid"


def test_executor_answers_refusals_without_touching_the_api() -> None:
    # given an executor whose API client explodes when used
    executor = Executor(_ExplodingClient(), Limits())
    hostile = [
        command(id="a", op="delete"),
        command(id="b", kind="Secret", name="db"),
        command(id="c", op="exec", params={}),
        command(id="d", name="../../secrets"),
        with_params(op="logs", name="api-1", tail_lines=1_000_000_000) | {"id": "e"},
        command(id="f", op="proxy", kind="Service", name="api"),
    ]

    # when each is executed
    results = [executor.execute(copy.deepcopy(raw)) for raw in hostile]

    # then each gets a failure result with its id, and the refusal is counted
    assert [(r.command_id, r.ok) for r in results] == [(c, False) for c in "abcdef"]
    assert {r.error.code for r in results if r.error} <= {"refused", "invalid"}
    assert executor.stats.commands_refused == len(hostile)
    assert executor.stats.commands_run == 0


def test_validate_command_returns_typed_command() -> None:
    cmd = validate_command(command(op="logs", params={"tail_lines": 20, "previous": True}))

    assert cmd.params.tail_lines == 20
    assert cmd.params.previous is True
    assert cmd.deadline.tzinfo is not None
    assert cmd.to_dict()["deadline"] == DEADLINE
