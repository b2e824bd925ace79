"""What changed, before → after, on small handwritten clusters: revision diffs, managedFields
attribution, last-applied drift, scaling, relative times, and which changes touch the cause."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from investigations.engine.analysis import Analysis
from investigations.engine.changes import change_timeline, relative_time
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import template_diff, template_field_diff
from investigations.engine.managed_fields import edits, manager_name, within
from investigations.engine.result import build_result
from investigations.engine.target import Target
from investigations.engine.topology import build_topology

NS = "shop"
ALERT = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)
CAPTURE = ALERT + timedelta(minutes=20)


def at(minutes: float) -> str:
    """An ISO time `minutes` after the alert's start (negative: before)."""
    return (ALERT + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def entry(manager: str, minutes: float, fields: dict, *, operation="Update", subresource="") -> dict:
    item = {"manager": manager, "operation": operation, "time": at(minutes), "fieldsV1": fields}
    if subresource:
        item["subresource"] = subresource
    return item


def template(image: str, *, env=None, volumes=None, mounts=None, sidecar: str = "") -> dict:
    containers = [
        {"name": "api", "image": image, "env": env or [], "volumeMounts": mounts or []},
    ]
    if sidecar:
        containers.append({"name": "proxy", "image": sidecar})
    return {
        "metadata": {"labels": {"app": "api"}},
        "spec": {"containers": containers, "volumes": volumes or []},
    }


def deployment(*, managed=(), replicas=2, tpl=None) -> dict:
    return {
        "kind": "Deployment",
        "metadata": {
            "name": "api",
            "namespace": NS,
            "uid": "dep-uid",
            "creationTimestamp": at(-30 * 24 * 60),
            "managedFields": list(managed),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "api"}},
            "template": tpl or template("api:2"),
        },
    }


def replica_set(name: str, revision: int, minutes: float, tpl: dict) -> dict:
    return {
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"{name}-uid",
            "creationTimestamp": at(minutes),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [{"kind": "Deployment", "name": "api", "uid": "dep-uid"}],
        },
        "spec": {"template": tpl},
    }


def pod(owner: str, *, failing: str = "api") -> dict:
    statuses = [{"name": "api", "ready": failing != "api", "restartCount": 4 if failing == "api" else 0}]
    statuses.append(
        {"name": "proxy", "ready": failing != "proxy", "restartCount": 4 if failing == "proxy" else 0}
    )
    for status in statuses:
        if status["restartCount"]:
            status["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
        else:
            status["state"] = {"running": {}}
    return {
        "kind": "Pod",
        "metadata": {
            "name": f"{owner}-x1",
            "namespace": NS,
            "labels": {"app": "api"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": owner, "uid": f"{owner}-uid"}],
        },
        "spec": {"containers": [{"name": "api"}, {"name": "proxy"}]},
        "status": {"containerStatuses": statuses},
    }


def configmap(
    name: str, data: dict, *, managed=(), applied: dict | None = None, created: float = -90 * 24 * 60
):
    meta = {"name": name, "namespace": NS, "creationTimestamp": at(created), "managedFields": list(managed)}
    if applied is not None:
        meta["annotations"] = {
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "data": applied, "metadata": {"name": name}}
            )
        }
    return {"kind": "ConfigMap", "metadata": meta, "data": data}


def event(kind: str, name: str, reason: str, message: str, minutes: float) -> dict:
    return {
        "kind": "Event",
        "metadata": {"name": f"{name}.{reason}.{minutes}", "namespace": NS},
        "involvedObject": {"kind": kind, "name": name, "namespace": NS},
        "reason": reason,
        "message": message,
        "lastTimestamp": at(minutes),
        "count": 1,
    }


def context(objects: list[dict], *, kind: str = "Deployment", name: str = "api") -> Context:
    view = ClusterView(objects, now=CAPTURE)
    target = Target(namespace=NS, kind=kind, name=name, method="label")
    return Context(view, target, build_topology(view, target))


def rollout_cluster(*, rollout_minutes: float = -20, failing: str = "api") -> list[dict]:
    old = template("registry/api:1.4", env=[{"name": "DB_HOST", "value": "db-1"}], sidecar="envoy:1")
    new = template(
        "registry/api:1.5",
        env=[{"name": "DB_HOST", "value": "db-2"}],
        volumes=[{"name": "certs", "configMap": {"name": "ca-bundle"}}],
        mounts=[{"name": "certs", "mountPath": "/etc/certs"}],
        sidecar="envoy:1",
    )
    edit = entry(
        "argocd-controller", rollout_minutes, {"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}
    )
    return [
        deployment(managed=[edit], tpl=new),
        replica_set("api-old", 3, -5000, old),
        replica_set("api-new", 4, rollout_minutes, new),
        pod("api-new", failing=failing),
        configmap("ca-bundle", {"ca.crt": "…"}),
    ]


# -- revision diffs ----------------------------------------------------------------------------------


def test_changes_rollout_lists_template_fields_before_and_after_with_its_manager():
    timeline = change_timeline(context(rollout_cluster()), alert_start=at(0))

    (rollout,) = [c for c in timeline.changes if c.what.startswith("rollout")]
    assert rollout.what == "rollout to revision 4 (from 3)"
    assert rollout.who == "Argo CD (argocd-controller)"  # the manager's write to the template, same minute
    assert rollout.relative == "20 min before the alert"
    fields = {d.field: (d.as_dict()["before"], d.as_dict()["after"]) for d in rollout.details}
    assert fields["container api image"] == ("registry/api:1.4", "registry/api:1.5")
    assert fields["container api env DB_HOST"] == ("db-1", "db-2")
    assert fields["volume certs"][0] == "(none)" and '"configMap"' in fields["volume certs"][1]
    assert fields["container api volumeMount /etc/certs"][0] == "(none)"
    assert not any(d.field.startswith("container proxy") for d in rollout.details)
    # the Argo CD write is that rollout, not a second change
    assert [c.what for c in timeline.changes if c.resource.kind == "Deployment"] == [rollout.what]


def test_template_diff_keeps_its_text_form_and_adds_envfrom_and_removed_containers():
    old = {"spec": {"containers": [{"name": "api", "image": "a:1"}, {"name": "old-sidecar", "image": "s:1"}]}}
    new = {
        "spec": {
            "containers": [
                {"name": "api", "image": "a:2", "envFrom": [{"configMapRef": {"name": "api-env"}}]}
            ]
        }
    }
    assert template_diff(old, new)[0] == "container api image: a:1 → a:2"
    fields = [d.field for d in template_field_diff(old, new)]
    assert "container api envFrom configMapRef:api-env" in fields
    assert "container old-sidecar" in fields


# -- managedFields -------------------------------------------------------------------------------------


def test_changes_configmap_edit_is_dated_and_attributed_by_managed_fields():
    helm = entry("helm", -90 * 24 * 60, {"f:data": {".": {}, "f:DB_HOST": {}, "f:DB_PORT": {}}})
    edit = entry("kubectl-edit", -41, {"f:data": {"f:DB_HOST": {}}})
    status = entry("kube-controller-manager", -2, {"f:status": {"f:x": {}}}, subresource="status")
    cm = configmap("api-config", {"DB_HOST": "db-typo", "DB_PORT": "5432"}, managed=[helm, edit, status])
    tpl = template(
        "api:2",
        env=[{"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "DB_HOST"}}}],
    )
    timeline = change_timeline(context([deployment(tpl=tpl), cm]), alert_start=at(0))

    (change,) = timeline.changes
    assert change.resource == Ref("ConfigMap", NS, "api-config")
    assert (change.who, change.what, change.relative) == (
        "kubectl edit",
        "edited data.DB_HOST",
        "41 min before the alert",
    )
    assert change.details[0].as_dict() == {
        "field": "data.DB_HOST",
        "before": "(not recorded)",
        "after": "db-typo",
    }


def test_manager_names_are_said_in_human_terms():
    assert manager_name("argocd-controller") == "Argo CD (argocd-controller)"
    assert manager_name("kustomize-controller") == "Flux (kustomize-controller)"
    assert manager_name("helm") == "Helm (helm)"
    assert manager_name("kubectl-client-side-apply") == "kubectl apply"
    assert manager_name("kubectl-scale") == "kubectl scale"
    assert manager_name("kubectl", subresource="scale") == "kubectl scale"
    assert manager_name("kube-controller-manager", subresource="scale").startswith("HorizontalPodAutoscaler")
    assert manager_name("deploy@build-07") == "deploy@build-07"


def test_changes_scale_subresource_and_its_event_are_one_change_with_before_and_after():
    scale = entry("kubectl", -3, {"f:spec": {"f:replicas": {}}}, subresource="scale")
    objects = [
        deployment(managed=[scale], replicas=0),
        replica_set("api-new", 4, -5000, template("api:2")),
        event("Deployment", "api", "ScalingReplicaSet", "Scaled down replica set api-new to 0 from 3", -3),
    ]
    (change,) = change_timeline(context(objects), alert_start=at(0)).changes

    assert (change.who, change.what) == ("kubectl scale", "scaled to 0 replicas")
    assert change.details[0].as_dict() == {"field": "spec.replicas", "before": "3", "after": "0"}


def test_changes_hpa_rescales_carry_their_size_and_fold_the_scaling_they_caused():
    hpa = {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api", "namespace": NS, "creationTimestamp": at(-900 * 60)},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "maxReplicas": 10},
    }
    objects = [
        deployment(
            managed=[
                entry("kube-controller-manager", -10, {"f:spec": {"f:replicas": {}}}, subresource="scale")
            ]
        ),
        replica_set("api-new", 4, -5000, template("api:2")),
        hpa,
        event(
            "HorizontalPodAutoscaler",
            "api",
            "SuccessfulRescale",
            "New size: 10; reason: cpu above target",
            -10,
        ),
        event("Deployment", "api", "ScalingReplicaSet", "Scaled up replica set api-new to 10 from 6", -10),
    ]
    (change,) = change_timeline(context(objects), alert_start=at(0)).changes

    assert change.resource == Ref("HorizontalPodAutoscaler", NS, "api")
    assert change.what == "rescaled Deployment api to 10: cpu above target"
    assert change.details[0].as_dict() == {"field": "replicas", "before": "6", "after": "10"}


# -- last-applied-configuration -----------------------------------------------------------------------


def test_changes_out_of_band_edit_of_an_applied_configmap_shows_the_applied_value_as_before():
    applied = {"LOG_LEVEL": "info", "PORT": "8080"}
    managed = [  # the edit took LOG_LEVEL over from the apply
        entry("kubectl-client-side-apply", -3000, {"f:data": {"f:PORT": {}}}),
        entry("kubectl-edit", -130, {"f:data": {"f:LOG_LEVEL": {}, "f:TRACE": {}}}),
    ]
    cm = configmap(
        "api-config",
        {"LOG_LEVEL": "trace", "PORT": "8080", "TRACE": "true"},
        managed=managed,
        applied=applied,
    )
    tpl = template(
        "api:2", volumes=[{"name": "c", "projected": {"sources": [{"configMap": {"name": "api-config"}}]}}]
    )
    change, apply = change_timeline(context([deployment(tpl=tpl), cm]), alert_start=at(0)).changes

    assert (apply.who, apply.what, apply.relative) == (
        "kubectl apply",
        "applied data.PORT",
        "2.1 days before the alert",
    )
    assert change.who == "kubectl edit" and change.relative == "2.2 h before the alert"
    assert change.what.startswith("changed outside kubectl apply: data.LOG_LEVEL and 1 more")
    assert [d.as_dict() for d in change.details] == [
        {"field": "data.LOG_LEVEL", "before": "info", "after": "trace"},
        {"field": "data.TRACE", "before": "(none)", "after": "true"},
    ]


def test_changes_last_applied_ignores_what_the_api_server_defaults():
    applied = {
        "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    }
    service = {
        "kind": "Service",
        "metadata": {
            "name": "api",
            "namespace": NS,
            "creationTimestamp": at(-5000 * 60),
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)},
        },
        "spec": {
            "selector": {"app": "api"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            "clusterIP": "10.0.0.7",
            "type": "ClusterIP",
        },
    }
    objects = [deployment(), replica_set("api-new", 4, -5000, template("api:2")), pod("api-new"), service]
    assert change_timeline(context(objects), alert_start=at(0)).changes == []


# -- times, scope and the cause ----------------------------------------------------------------------


def test_relative_times_fall_back_to_capture_and_say_so():
    timeline = change_timeline(context(rollout_cluster()), alert_start=None)

    assert timeline.basis_dict() == {"basis": "capture", "time": "2025-06-03T14:20:00Z"}
    assert timeline.changes[0].relative == "40 min before capture"
    assert relative_time(at(3), "alert", ALERT) == "3 min after the alert"
    assert relative_time(at(0.2), "alert", ALERT) == "at the alert's start"
    assert relative_time("", "alert", ALERT) == "time not recorded"


def test_changes_cover_what_the_workload_references_and_nothing_unrelated():
    tpl = template("api:2", volumes=[{"name": "c", "configMap": {"name": "api-config"}}])
    recent = {"f:data": {"f:X": {}}}
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-egress", "namespace": NS, "creationTimestamp": at(-31)},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    objects = [
        deployment(tpl=tpl),
        replica_set("api-new", 4, -5000, tpl),
        pod("api-new"),
        configmap("api-config", {"X": "1"}, managed=[entry("helm", -12, recent)]),
        configmap("other-team", {"X": "1"}, managed=[entry("helm", -12, recent)]),
        policy,
    ]
    timeline = change_timeline(context(objects), alert_start=at(0))

    assert [(str(c.resource), c.what) for c in timeline.changes] == [
        ("ConfigMap/shop/api-config", "edited data.X"),
        ("NetworkPolicy/shop/deny-egress", "created"),
    ]
    assert all(c.moment is not None for c in timeline.changes)


def test_changes_older_than_the_lookback_are_left_out():
    assert (
        change_timeline(context(rollout_cluster(rollout_minutes=-8 * 24 * 60)), alert_start=at(0)).changes
        == []
    )


def test_touches_cause_on_the_cause_resource_or_a_diff_of_the_failing_container():
    objects = rollout_cluster(failing="api")
    on_failing = change_timeline(context(objects), alert_start=at(0))
    assert [c.touches_cause for c in on_failing.changes] == [True]

    other_container = change_timeline(context(rollout_cluster(failing="proxy")), alert_start=at(0))
    assert [c.touches_cause for c in other_container.changes] == [False]

    cm_edit = [
        configmap("ca-bundle", {"a": "b"}, managed=[entry("kubectl-edit", -5, {"f:data": {"f:a": {}}})])
    ]
    named = change_timeline(
        context(rollout_cluster(failing="proxy")[:-1] + cm_edit),
        alert_start=at(0),
        cause=Ref("ConfigMap", NS, "ca-bundle"),
    )
    assert {c.resource.kind: c.touches_cause for c in named.changes} == {
        "ConfigMap": True,
        "Deployment": False,
    }


def test_touches_cause_needs_the_change_shortly_before_the_alert():
    two_days = change_timeline(context(rollout_cluster(rollout_minutes=-2 * 24 * 60)), alert_start=at(0))
    after = change_timeline(context(rollout_cluster(rollout_minutes=5)), alert_start=at(0))
    assert [c.touches_cause for c in two_days.changes + after.changes] == [False, False]


def test_build_result_names_a_change_on_the_failing_mechanism_as_contributing_and_keeps_the_cause():
    ctx = context(rollout_cluster())
    cause = Ref("ConfigMap", NS, "ca-bundle")
    finding = Finding(
        "bad-config-value",
        cause,
        0.8,
        "bad value",
        "the value is wrong",
        contributing=[Contributing(Ref("Service", NS, "db"), "no endpoints")],
    )
    result = build_result(ctx, Analysis(finding, [finding], [], []), timings={}, alert_start=at(0))

    root = result["root_cause"]
    assert (root["category"], root["resource"]) == ("bad-config-value", cause.as_dict())
    assert [c["resource"]["kind"] for c in root["contributing"]] == ["Service", "Deployment"]
    assert root["contributing"][1]["detail"].startswith(
        "rollout to revision 4 (from 3) by Argo CD (argocd-controller), 20 min before the alert: "
        "container api image: registry/api:1.4 → registry/api:1.5"
    )
    (change,) = result["changes"]
    assert set(change) == {"resource", "time", "relative", "who", "what", "details", "touches_cause"}
    assert change["touches_cause"] is True
    assert result["changes_relative_to"] == {"basis": "alert", "time": "2025-06-03T14:00:00Z"}


def test_build_result_unknown_keeps_changes_but_adds_no_contributing():
    result = build_result(
        context(rollout_cluster()), Analysis(None, [], [], []), timings={}, alert_start=at(0)
    )
    assert result["root_cause"]["category"] == "unknown" and result["root_cause"]["contributing"] == []
    assert len(result["changes"]) == 1


def test_managed_fields_paths_read_like_the_object_and_list_items_count_once():
    fields = {
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"api"}': {
                            ".": {},
                            "f:env": {'k:{"name":"DB_HOST"}': {".": {}, "f:name": {}, "f:value": {}}},
                            "f:resources": {"f:limits": {"f:cpu": {}}},
                            "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:name": {}}},
                        }
                    }
                }
            }
        }
    }
    (edit,) = edits({"metadata": {"managedFields": [entry("helm", -1, fields)]}})
    assert edit.fields == [
        "spec.template.spec.containers[api].env[DB_HOST]",
        "spec.template.spec.containers[api].resources.limits.cpu",
        "spec.template.spec.containers[api].ports[containerPort=8080,protocol=TCP]",
    ]
    assert edit.containers == {"api"} and edit.touches("spec.template")
    assert within("data.A", "data") and not within("data.AB", "data.A")


def test_changes_for_an_exhausted_quota_include_what_else_started_in_the_namespace():
    quota = {
        "kind": "ResourceQuota",
        "metadata": {"name": "compute", "namespace": NS, "creationTimestamp": at(-9e5)},
    }
    newcomer = deployment(managed=[entry("helm", -52, {"f:spec": {"f:replicas": {}, "f:template": {}}})])
    newcomer["metadata"].update(name="pdf-export", uid="pdf-uid", creationTimestamp=at(-52))
    objects = [deployment(), replica_set("api-new", 4, -5000, template("api:2")), quota, newcomer]

    without = change_timeline(context(objects), alert_start=at(0))
    with_quota = change_timeline(
        context(objects), alert_start=at(0), cause=Ref("ResourceQuota", NS, "compute")
    )

    assert without.changes == []
    (change,) = with_quota.changes
    assert (str(change.resource), change.what, change.who) == (
        "Deployment/shop/pdf-export",
        "created",
        "Helm (helm)",
    )
