"""Settling whether the target exists: owners of gone pods, controller kinds, the group, "not found"."""

from __future__ import annotations

from investigations.engine.evidence import ClusterView
from investigations.engine.lookup import resolve_target
from investigations.engine.target import Target


def obj(kind: str, name: str, namespace: str = "", owner: tuple[str, str] | None = None) -> dict:
    meta: dict = {"name": name, "uid": f"uid-{kind}-{namespace}-{name}"}
    if namespace:
        meta["namespace"] = namespace
    if owner:
        meta["ownerReferences"] = [
            {"kind": owner[0], "name": owner[1], "uid": f"uid-{owner[0]}-{namespace}-{owner[1]}"}
        ]
    return {"kind": kind, "metadata": meta}


CLUSTER = [
    obj("Namespace", "shop"),
    obj("Namespace", "kube-system"),
    obj("Deployment", "api", "shop"),
    obj("ReplicaSet", "api-7d9f8b6c5", "shop", owner=("Deployment", "api")),
    obj("Pod", "api-7d9f8b6c5-x2x4z", "shop", owner=("ReplicaSet", "api-7d9f8b6c5")),
    obj("StatefulSet", "db", "shop"),
    obj("Pod", "coredns-1", "kube-system"),
]


def everything_listed(kind: str, namespace: str) -> bool:
    return True


def resolve(*candidates: Target, objects=CLUSTER, listed=everything_listed, unreadable=()):
    view = ClusterView(list(objects))
    reads: list[str] = []

    def read_namespace(namespace: str):
        reads.append(namespace)
        return None if namespace in unreadable else view

    target, _ = resolve_target(list(candidates), view, listed=listed, read_namespace=read_namespace)
    return target, reads


def test_resolve_keeps_a_target_that_exists():
    target, _ = resolve(Target(namespace="shop", kind="Pod", name="api-7d9f8b6c5-x2x4z", method="label"))

    assert (target.kind, target.name, target.not_found, target.note) == ("Pod", "api-7d9f8b6c5-x2x4z", [], "")


def test_resolve_follows_a_gone_pod_to_the_owner_its_name_points_at():
    target, _ = resolve(Target(namespace="shop", kind="Pod", name="api-7d9f8b6c5-zzzzz", method="label"))

    assert (target.kind, target.name) == ("Deployment", "api")
    assert "Pod shop/api-7d9f8b6c5-zzzzz no longer exists" in target.note


def test_resolve_looks_a_workload_named_without_kind_up_under_every_controller_kind():
    target, _ = resolve(
        Target(namespace="shop", kind="Deployment", name="db", method="signal", kind_assumed=True)
    )

    assert (target.kind, target.name, target.not_found) == ("StatefulSet", "db", [])


def test_resolve_tries_the_other_resources_of_the_group_reading_their_namespace():
    gone = Target(namespace="shop", kind="Pod", name="web-1", method="label")
    other = Target(namespace="kube-system", kind="Pod", name="coredns-1", method="label", alert_index=2)

    target, reads = resolve(gone, other)

    assert (target.namespace, target.name) == ("kube-system", "coredns-1")
    assert "kube-system" in reads
    assert "not found: Pod shop/web-1" in target.note


def test_resolve_answers_not_found_with_everything_it_looked_up():
    target, _ = resolve(
        Target(namespace="shop", kind="Pod", name="memory", method="label"),
        Target(namespace="shop", kind="Deployment", name="thumbnailer", method="signal", kind_assumed=True),
    )

    assert target.name == "memory"
    assert target.not_found[0] == "Pod shop/memory"
    assert target.not_found[1].startswith("Deployment or StatefulSet or DaemonSet")
    assert target.not_found[1].endswith("shop/thumbnailer")


def test_resolve_says_when_the_namespace_itself_does_not_exist():
    target, reads = resolve(Target(namespace="payment", kind="Deployment", name="gateway", method="label"))

    assert target.not_found == ["Deployment payment/gateway (namespace payment does not exist)"]
    assert reads == []  # nothing to read in a namespace that does not exist
    namespace_only, _ = resolve(Target(namespace="payment", method="none"))
    assert namespace_only.not_found == ["Namespace payment"]


def test_resolve_never_calls_missing_what_the_agent_could_not_list():
    def no_pods(kind: str, namespace: str) -> bool:
        return kind != "Pod"

    target, _ = resolve(Target(namespace="shop", kind="Pod", name="web-1", method="label"), listed=no_pods)

    assert (target.name, target.not_found) == ("web-1", [])


def test_resolve_falls_back_to_the_alerts_own_namespace_when_only_the_group_named_what_is_gone():
    from_group = Target(namespace="shop", kind="Pod", name="web-1", method="label", alert_index=1)
    own = Target(namespace="shop", method="none", alert_index=0)

    target, _ = resolve(from_group, own)

    assert (target.known, target.namespace, target.not_found) == (False, "shop", [])
    assert "not found: Pod shop/web-1" in target.note


def test_resolve_reads_no_more_namespaces_than_its_budget():
    gone = Target(namespace="shop", kind="Pod", name="web-1", method="label")
    far = Target(namespace="far", kind="Pod", name="x-1", method="label", alert_index=1)

    target, _ = resolve(gone, far, objects=[*CLUSTER, obj("Namespace", "far")], unreadable={"far"})

    assert target.not_found == [
        "Pod shop/web-1",
        "Pod far/x-1 (its namespace was not read: too many namespaces)",
    ]
