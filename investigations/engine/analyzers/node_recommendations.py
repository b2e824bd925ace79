"""node-problem: what to run and change for a NotReady node, a node under pressure, or pods stuck
terminating on it (the immediate commands and the preventive advice).
"""

from __future__ import annotations

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.evidence import Ref
from investigations.engine.kubectl import Recommendation


def node_recommendations(
    ref: Ref, not_ready: bool, pressures: list[dict], terminating: list[dict]
) -> list[Recommendation]:
    name = ref.name
    recommendations = []
    if not_ready:
        recommendations.append(
            Recommendation(
                "Bring the node back or take it out",
                "immediate",
                "Check the machine (console, kubelet service); if it cannot come back, cordon and "
                "delete the Node "
                "so the stuck pods are released and their controllers replace them.",
                [kubectl.describe(ref), kp.cordon(name), f"kubectl delete node {kubectl.q(name)}"],
            )
        )
        if terminating:
            recommendations.append(
                Recommendation(
                    "Release pods stuck Terminating (only once the node is confirmed down)",
                    "immediate",
                    "Force-deleting a StatefulSet pod while its node may still run it risks two writers.",
                    [kp.force_delete_pod(Ref.of(p)) for p in terminating[:3]],
                )
            )
    for condition in pressures:
        if condition.get("type") == "DiskPressure":
            recommendations.append(
                Recommendation(
                    "Free disk space on the node and stop new pods landing on it",
                    "immediate",
                    "Cordon it, drain it to move the workloads to nodes with larger disks, and look "
                    "at what fills "
                    "the root volume (images, logs, emptyDir).",
                    [
                        kp.cordon(name),
                        kp.drain(name),
                        kp.node_debug(name, "df -h /var/lib/containerd /var/log"),
                        kp.get_pods_on_node(name),
                    ],
                )
            )
            recommendations.append(
                Recommendation(
                    "Give the node group a root volume sized for its images",
                    "preventive",
                    "Raise the launch template / node pool disk size to match the other groups, set "
                    "ephemeral-storage requests and limits, and alert on node filesystem usage before the "
                    "eviction threshold.",
                    [],
                )
            )
        elif condition.get("type") == "MemoryPressure":
            recommendations.append(
                Recommendation(
                    "Relieve memory pressure",
                    "immediate",
                    "Find the pods using the most memory on the node and move or limit them.",
                    [kp.top_nodes(), kp.get_pods_on_node(name), kp.cordon(name)],
                )
            )
        elif condition.get("type") == "PIDPressure":
            recommendations.append(
                Recommendation(
                    "Find the process leak",
                    "immediate",
                    "A container forks without reaping; set pod pids limits.",
                    [kp.get_pods_on_node(name), kp.node_debug(name, "ps -eLf")],
                )
            )
    recommendations.append(
        Recommendation(
            "Read the node's own logs",
            "immediate",
            "The kubelet and container runtime logs explain why the node stopped reporting or filled up.",
            [kp.node_debug(name, "journalctl -u kubelet -u containerd --since -2h")],
        )
    )
    recommendations.append(
        Recommendation(
            "Make node loss survivable",
            "preventive",
            "PodDisruptionBudgets and spread constraints for stateful workloads, node auto-repair, "
            "and alerts on "
            "NotReady/pressure conditions.",
            [],
        )
    )
    return recommendations
