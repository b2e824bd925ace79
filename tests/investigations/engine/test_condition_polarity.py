"""Conditions are judged by known polarity only; an unknown condition type is never a problem by itself."""

from __future__ import annotations

import pytest

from investigations.engine.analyzers.nodes import bad_conditions
from investigations.engine.facts import condition_is_problem, condition_polarity


@pytest.mark.parametrize(
    ("kind", "status", "problem"),
    [
        ("Ready", "True", False),
        ("Ready", "False", True),
        ("Ready", "Unknown", True),
        ("MemoryPressure", "True", True),
        ("MemoryPressure", "False", False),
        ("NetworkUnavailable", "False", False),
        # node-problem-detector: a problem when True
        ("KernelDeadlock", "True", True),
        ("KernelDeadlock", "False", False),
        ("FrequentContainerdRestart", "True", True),
        ("ReadonlyFilesystem", "False", False),
        # EKS node monitoring agent: `<Subsystem>Ready` is healthy when True (k8sgpt#1461)
        ("KernelReady", "True", False),
        ("NetworkingReady", "True", False),
        ("StorageReady", "False", True),
        # vendor conditions whose meaning we do not know: never a problem by themselves
        ("EtcdIsVoter", "True", False),
        ("EtcdIsVoter", "False", False),
        ("ExampleVendorFlag", "True", False),
        # scheduled-maintenance notices announce a future action, not a present fault
        ("VMEventScheduled", "True", False),
        ("RebootScheduled", "True", False),
    ],
)
def test_condition_is_problem_by_known_polarity(kind, status, problem):
    assert condition_is_problem({"type": kind, "status": status}) is problem


def test_unknown_polarity_is_none():
    assert condition_polarity("EtcdIsVoter") is None
    assert condition_polarity("KernelDeadlock") == "problem-when-true"
    assert condition_polarity("ContainerRuntimeReady") == "healthy-when-true"


def test_healthy_node_with_vendor_conditions_has_no_bad_condition():
    node = {
        "kind": "Node",
        "metadata": {"name": "ip-10-0-1-5.ec2.internal"},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "MemoryPressure", "status": "False"},
                {"type": "KernelReady", "status": "True"},
                {"type": "ContainerRuntimeReady", "status": "True"},
                {"type": "EtcdIsVoter", "status": "True"},
                {"type": "KernelDeadlock", "status": "False"},
            ]
        },
    }
    assert bad_conditions(node) == []
    node["status"]["conditions"].append({"type": "DiskPressure", "status": "True"})
    assert [c["type"] for c in bad_conditions(node)] == ["DiskPressure"]
