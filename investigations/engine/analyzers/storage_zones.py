"""pvc-unbound, zone conflict: a Bound claim whose PV is pinned (nodeAffinity) to zones where no node
the pod may use runs, so the pod stays Pending with "volume node affinity conflict".
"""

from __future__ import annotations

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analyzers.scheduling import blocking_taints, node_matches, scheduling_message
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, labels_of
from investigations.engine.facts import pod_spec
from investigations.engine.kubectl import Recommendation

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def zone_conflicts(ctx: Context, claims) -> list[Finding]:
    """A Bound claim whose PV is pinned (nodeAffinity) to zones where no node the pod may use runs:
    FailedScheduling "volume node affinity conflict"."""
    view = ctx.view
    findings = []
    for pvc, pods, _owner in claims:
        stuck = [p for p in pods if "volume node affinity conflict" in scheduling_message(view, p).lower()]
        volume = (pvc.get("spec") or {}).get("volumeName")
        pv = view.get("PersistentVolume", "", volume) if volume else None
        if not stuck or pv is None:
            continue
        terms = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
            "nodeSelectorTerms"
        ) or []
        pinned = sorted(
            {
                value
                for term in terms
                for e in term.get("matchExpressions") or []
                if e.get("key") in (*ZONE_LABELS, "kubernetes.io/hostname")
                for value in e.get("values") or []
            }
        )
        pod = stuck[0]
        spec = pod_spec(pod)
        blocked = _volume_nodes_blocked(view, terms, spec)
        if blocked:
            # The volume's own node exists but takes no pods (cordoned, or a taint the pod does not
            # tolerate): the node's state is the cause, not where the volume was provisioned.
            findings.append(_blocked_node_finding(ctx, pod, pvc, pv, blocked))
            continue
        usable = [
            n
            for n in view.all("Node")
            if node_matches(spec, n)
            and not blocking_taints(n, spec.get("tolerations") or [])
            and not (n.get("spec") or {}).get("unschedulable")
        ]
        zones = sorted(
            {next((labels_of(n)[k] for k in ZONE_LABELS if labels_of(n).get(k)), "?") for n in usable}
        )
        ref, pv_ref = Ref.of(pvc), Ref.of(pv)
        evidence = [
            ctx.cite("event", pod, f"FailedScheduling: {scheduling_message(view, pod)}"),
            ctx.cite("spec", pv, f"PV {pv_ref.name} nodeAffinity: {', '.join(pinned) or terms}"),
        ]
        explanation = (
            f'Pod {Ref.of(pod).name} cannot be scheduled: "{scheduling_message(view, pod)}" '
            f"[{evidence[0]}]. "
            f"PersistentVolumeClaim {ref.name} is bound to PersistentVolume {pv_ref.name}, which is "
            "pinned to "
            f"{', '.join(pinned) or 'specific nodes'} by its nodeAffinity [{evidence[1]}], but the "
            "nodes the pod "
            f"may use are in zone(s) {', '.join(zones) or 'none'}: a volume zone mismatch (volume "
            "node affinity "
            "conflict)."
        )
        findings.append(
            Finding(
                category="pvc-unbound",
                resource=ref,
                confidence=0.85,
                summary=f"PersistentVolumeClaim {ref.namespace}/{ref.name}: its volume {pv_ref.name} is in "
                f"{', '.join(pinned) or 'another zone'}, where no usable node runs (volume node "
                "affinity conflict)",
                explanation=explanation,
                evidence=evidence,
                contributing=[Contributing(pv_ref, f"nodeAffinity {', '.join(pinned)}")],
                recommendations=[
                    Recommendation(
                        "Run a node in the volume's zone, or move the data",
                        "immediate",
                        "Scale a node group in the volume's zone (or relax the pod's node constraints); a "
                        "zonal disk cannot attach elsewhere — snapshot and restore it into a usable zone.",
                        [kubectl.describe(pv_ref), kp.get_nodes(*ZONE_LABELS[:1])],
                    ),
                    Recommendation(
                        "Provision volumes where pods can run",
                        "preventive",
                        "Use volumeBindingMode WaitForFirstConsumer and keep node groups in every zone that "
                        "holds volumes.",
                        [],
                    ),
                ],
            )
        )
    return findings


def _volume_nodes_blocked(view, terms: list[dict], pod_spec_: dict) -> list[tuple[dict, str]]:
    """The nodes a PV's nodeAffinity selects, with why each refuses the pod, when every one of them
    exists and refuses it; [] when none exists (the zone has no node) or one would take it."""
    selector = {
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        }
    }
    nodes = [n for n in view.all("Node") if terms and node_matches(selector, n)]
    blocked = []
    for node in nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            blocked.append((node, "cordoned (spec.unschedulable=true)"))
            continue
        taints = blocking_taints(node, pod_spec_.get("tolerations") or [])
        if not taints:
            return []
        blocked.append(
            (
                node,
                "taint "
                + ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in taints),
            )
        )
    return blocked


def _blocked_node_finding(
    ctx: Context, pod: dict, pvc: dict, pv: dict, blocked: list[tuple[dict, str]]
) -> Finding:
    view = ctx.view
    node, why = blocked[0]
    node_ref, pv_ref, pvc_ref = Ref.of(node), Ref.of(pv), Ref.of(pvc)
    evidence = [
        ctx.cite("event", pod, f"FailedScheduling: {scheduling_message(view, pod)}"),
        ctx.cite("spec", pv, f"PV {pv_ref.name} is pinned by nodeAffinity to node {node_ref.name}"),
        ctx.cite("spec", node, f"Node {node_ref.name}: {why}"),
    ]
    explanation = (
        f'Pod {Ref.of(pod).name} cannot be scheduled: "{scheduling_message(view, pod)}" [{evidence[0]}]. '
        f"Its claim {pvc_ref.name} is bound to PersistentVolume {pv_ref.name}, a volume that lives on node "
        f"{node_ref.name} [{evidence[1]}], and that node takes no new pods: {why} [{evidence[2]}]. "
        "The volume is where it should be; the node holding it is unschedulable."
    )
    fixes = [kp.uncordon(node_ref.name)] if why.startswith("cordoned") else [kubectl.describe(node_ref)]
    return Finding(
        category="unschedulable-constraints",
        resource=node_ref,
        confidence=0.85,
        summary=(
            f"Node {node_ref.name}, which holds volume {pv_ref.name} of claim {pvc_ref.name}, "
            f"is {why.split(' (')[0]}"
        ),
        explanation=explanation,
        evidence=evidence,
        contributing=[
            Contributing(pv_ref, f"local volume pinned to {node_ref.name}"),
            Contributing(pvc_ref, "bound to it"),
        ],
        recommendations=[
            Recommendation(
                f"Let node {node_ref.name} take pods again",
                "immediate",
                "Uncordon the node once its maintenance is over (or remove the taint); the pod schedules "
                "next to its volume.",
                fixes,
            ),
            Recommendation(
                "Keep node-local volumes in mind during maintenance",
                "preventive",
                "Workloads on node-local volumes cannot move: drain and cordon those nodes only in a window, "
                "and alert on cordons older than a day.",
                [],
            ),
        ],
    )
