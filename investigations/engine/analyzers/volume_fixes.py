"""Recommendations for volume-full: grow the claim (when its StorageClass allows expansion) or move to
a bigger one, see what fills it, raise an ephemeral-storage limit or an emptyDir sizeLimit.
"""

from __future__ import annotations

import json

from investigations.engine import kubectl
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analyzers.helpers import fmt_bytes
from investigations.engine.evidence import ClusterView, Ref, parse_quantity
from investigations.engine.facts import pod_spec
from investigations.engine.kubectl import Recommendation


def doubled(quantity: str, fallback: str = "2Gi") -> str:
    value = parse_quantity(quantity)
    return fmt_bytes(value * 2) if value else fallback


def pvc_recommendations(
    view: ClusterView, claim: dict, pod: dict, expandable: bool, capacity: str
) -> list[Recommendation]:
    ref = Ref.of(claim)
    pod_ref = Ref.of(pod)
    bigger = doubled(capacity, "")
    node = (pod.get("spec") or {}).get("nodeName")
    out = []
    if expandable and bigger:
        patch = json.dumps({"spec": {"resources": {"requests": {"storage": bigger}}}}, separators=(",", ":"))
        out.append(
            Recommendation(
                f"Grow PersistentVolumeClaim {ref.name} to {bigger}",
                "immediate",
                "Its StorageClass allows expansion: the disk grows online and the filesystem on the next "
                "mount; "
                "restarting the pod lets a crash-looping database start with room to recover.",
                [
                    f"kubectl -n {kubectl.q(ref.namespace)} patch pvc {kubectl.q(ref.name)} --type merge "
                    f"-p {kubectl.q(patch)}",
                    f"kubectl -n {kubectl.q(ref.namespace)} describe pvc {kubectl.q(ref.name)}",
                    f"kubectl -n {kubectl.q(pod_ref.namespace)} delete pod {kubectl.q(pod_ref.name)}",
                ],
            )
        )
    else:
        storage_class = (claim.get("spec") or {}).get("storageClassName") or ""
        out.append(
            Recommendation(
                f"Free or replace the space of PersistentVolumeClaim {ref.name}",
                "immediate",
                "Its StorageClass does not allow expansion: delete what can go (old logs, WAL kept for a "
                "dead "
                "consumer) or move the data to a bigger claim.",
                [f"kubectl -n {kubectl.q(ref.namespace)} describe pvc {kubectl.q(ref.name)}"]
                + ([kpol.get_kind("StorageClass", "", storage_class, "yaml")] if storage_class else []),
            )
        )
    if node:
        out.append(
            Recommendation(
                "See how full the volume is",
                "immediate",
                "The kubelet's summary has used and available bytes for every volume of the pod.",
                [kpol.node_stats(node)],
            )
        )
    out.append(
        Recommendation(
            "Alert before a volume fills",
            "preventive",
            "Alert on kubelet_volume_stats_available_bytes (KubePersistentVolumeFillingUp), cap what grows "
            "without bound (retention, log rotation, replication slots), and size claims with headroom.",
            [],
        )
    )
    return out


def ephemeral_recommendations(
    workload: dict, container: str, volume: str, limit: str, kind: str
) -> list[Recommendation]:
    ref = Ref.of(workload)
    out = []
    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"):
        commands = []
        if volume:
            volumes = pod_spec(workload).get("volumes") or []
            index = next((i for i, v in enumerate(volumes) if v.get("name") == volume), None)
            if index is not None:
                base = (
                    "/spec/jobTemplate/spec/template/spec" if ref.kind == "CronJob" else "/spec/template/spec"
                )
                commands.append(
                    kpol.patch_json(
                        ref,
                        [
                            {
                                "op": "add",
                                "path": f"{base}/volumes/{index}/emptyDir/sizeLimit",
                                "value": doubled(limit, "1Gi"),
                            }
                        ],
                    )
                )
        elif container and ref.kind != "CronJob":
            commands.append(
                kubectl.set_resources(ref, container, limits={"ephemeral-storage": doubled(limit, "2Gi")})
            )
        if commands:
            out.append(
                Recommendation(
                    "Give the pods room, then find what fills it",
                    "immediate",
                    "A higher limit stops the evictions; what the container writes (logs to files, caches, "
                    "temp "
                    "files) should be bounded or moved to a volume.",
                    commands
                    + ([kubectl.rollout_status(ref)] if ref.kind in ("Deployment", "StatefulSet") else []),
                )
            )
    out.append(
        Recommendation(
            "Bound local writes",
            "preventive",
            "Log to stdout, rotate or cap files and caches, and set ephemeral-storage requests/limits and "
            "emptyDir "
            "sizeLimit from observed usage.",
            [],
        )
    )
    return out
