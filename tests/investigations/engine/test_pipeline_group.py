"""The pipeline on a group of alerts, through a small in-memory reader (what the agent would answer)."""

from __future__ import annotations

from investigations.engine.collect import Answer, Ask
from investigations.engine.pipeline import Pipeline
from tests.investigations.engine.test_lookup import obj
from tests.investigations.engine.test_target import alert, group


def crashing_pod(name: str, namespace: str, owner: tuple[str, str]) -> dict:
    pod = obj("Pod", name, namespace, owner=owner)
    pod["spec"] = {"containers": [{"name": "app", "image": "app:1"}], "nodeName": "node-1"}
    pod["status"] = {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "app",
                "ready": False,
                "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
            }
        ],
    }
    return pod


SHOP = [
    obj("Namespace", "shop"),
    obj("Namespace", "monitoring"),
    obj("Node", "node-1"),
    obj("Deployment", "api", "shop"),
    obj("ReplicaSet", "api-7d9f8b6c5", "shop", owner=("Deployment", "api")),
    crashing_pod("api-7d9f8b6c5-x2x4z", "shop", ("ReplicaSet", "api-7d9f8b6c5")),
]


def reader(objects: list[dict], asked: list[Ask] | None = None):
    """Answers list asks from `objects` (by kind and namespace) and log asks with a short log."""

    def read(asks: list[Ask]) -> list[Answer]:
        answers = []
        for ask in asks:
            if asked is not None:
                asked.append(ask)
            if ask.op == "logs":
                answers.append(Answer(ask, True, "panic: runtime error: invalid memory address\n"))
                continue
            items = [
                o
                for o in objects
                if o["kind"] == ask.kind
                and (ask.namespace is None or o["metadata"].get("namespace") == ask.namespace)
            ]
            answers.append(Answer(ask, True, {"items": items}))
        return answers

    return read


def test_pipeline_investigates_the_pod_another_alert_of_the_group_names_when_the_first_names_none():
    fields = group(
        alert("OrdersDispatchStalled", labels={"service_name": "api"}, summary="no order dispatched in 60m"),
        alert(
            "KubePodCrashLooping",
            labels={"namespace": "shop", "pod": "api-7d9f8b6c5-x2x4z"},
            namespace="shop",
            pod="api-7d9f8b6c5-x2x4z",
        ),
    )

    outcome = Pipeline(reader(SHOP), fields).run()

    assert outcome.failure == ""
    assert outcome.result["target"]["kind"] == "Pod"
    assert (outcome.result["target"]["namespace"], outcome.result["target"]["name"]) == (
        "shop",
        "api-7d9f8b6c5-x2x4z",
    )
    assert outcome.result["target"]["alert"] == "KubePodCrashLooping"
    extract = outcome.steps[0]
    assert "alert 'KubePodCrashLooping' (2 of 2)" in extract.summary
    assert extract.detail["alerts"] == 2
    assert outcome.result["root_cause"]["category"] != "unknown"


def test_pipeline_answers_not_found_without_guessing_about_the_namespaces_other_pods():
    fields = alert(
        "KubePodCrashLooping", labels={"namespace": "shop", "pod": "ghost-1"}, namespace="shop", pod="ghost-1"
    )

    asked: list[Ask] = []
    outcome = Pipeline(reader(SHOP, asked), fields).run()

    cause = outcome.result["root_cause"]
    assert cause["category"] == "unknown"
    assert cause["summary"] == "not found: looked up Pod shop/ghost-1"
    assert "api-7d9f8b6c5-x2x4z" in cause["explanation"]  # what does exist, named as such
    assert outcome.result["alternatives"] == []  # the crashing api pod is not offered as a guess
    assert outcome.result["target"]["not_found"] == ["Pod shop/ghost-1"]
    steps = {step.stage: step.summary for step in outcome.steps}
    assert steps["analyze"] == "not found: looked up Pod shop/ghost-1"
    assert "not found" in steps["topology"]
    assert not [ask for ask in asked if ask.op == "logs"]  # nothing read about what is not there


def test_pipeline_of_a_group_naming_nothing_fails_saying_how_many_alerts_it_read():
    fields = group(alert("BlackboxProbeFailed"), alert("RabbitMQQueueNoConsumers"))

    outcome = Pipeline(reader(SHOP), fields).run()

    assert outcome.failure == (
        "none of the 2 alerts of the group names a Kubernetes namespace or resource, "
        "so there is nothing to inspect"
    )
