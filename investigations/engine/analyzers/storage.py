"""pvc-unbound: a claim stays Pending: StorageClass not found, Released PV with a stale claimRef, no
matching PV; when no Pending claim explains it, a Bound claim whose volume sits in a zone no usable
node runs in (storage_zones.py).
"""

from __future__ import annotations

from collections import Counter

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import event_count_text, time_ago
from investigations.engine.analyzers.scheduling import scheduling_message
from investigations.engine.analyzers.storage_zones import zone_conflicts
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, parse_quantity
from investigations.engine.facts import ts
from investigations.engine.kubectl import Recommendation


@analyzer("pvc-unbound")
def pvc_unbound(ctx: Context) -> list[Finding]:
    claims = _claims_in_scope(ctx)
    findings = []
    for pvc, pods, owner in claims:
        if (pvc.get("status") or {}).get("phase") != "Pending":
            continue
        finding = _pvc_finding(ctx, pvc, pods, owner)
        if finding:
            findings.append(finding)
    if not findings:
        findings.extend(zone_conflicts(ctx, claims))
    findings.sort(key=lambda f: f.confidence, reverse=True)
    return findings[:1]


def _claims_in_scope(ctx: Context) -> list[tuple[dict, list[dict], dict | None]]:
    """(PVC, pods that mount it, workload with a volumeClaimTemplate for it) for the alert's scope."""
    view = ctx.view
    result: dict[int, tuple[dict, list[dict], dict | None]] = {}

    def add(pvc: dict | None, pod: dict | None = None, owner: dict | None = None) -> None:
        if pvc is None:
            return
        entry = result.setdefault(id(pvc), (pvc, [], None))
        if pod is not None and all(pod is not p for p in entry[1]):
            entry[1].append(pod)
        if owner is not None and entry[2] is None:
            result[id(pvc)] = (entry[0], entry[1], owner)

    target = view.get(ctx.target.kind, ctx.namespace, ctx.target.name) if ctx.target.known else None
    if target is not None and target.get("kind") == "PersistentVolumeClaim":
        add(target)
        for pod in view.all("Pod", ctx.namespace):
            if _claim_names(pod) and Ref.of(target).name in _claim_names(pod):
                add(target, pod)
    for pod in ctx.in_scope_pods():
        namespace = Ref.of(pod).namespace
        owner = view.top_owner(pod)
        for claim in _claim_names(pod):
            pvc = view.get("PersistentVolumeClaim", namespace, claim)
            add(pvc, pod, owner if owner.get("kind") == "StatefulSet" else None)
    for workload in ctx.in_scope_workloads():
        if workload.get("kind") != "StatefulSet":
            continue
        ref = Ref.of(workload)
        for template in (workload.get("spec") or {}).get("volumeClaimTemplates") or []:
            prefix = f"{(template.get('metadata') or {}).get('name')}-{ref.name}-"
            for pvc in view.all("PersistentVolumeClaim", ref.namespace):
                name = Ref.of(pvc).name
                if name.startswith(prefix) and name[len(prefix) :].isdigit():
                    add(pvc, None, workload)
    return list(result.values())


def _claim_names(pod: dict) -> list[str]:
    return [
        claim
        for v in (pod.get("spec") or {}).get("volumes") or []
        if (claim := (v.get("persistentVolumeClaim") or {}).get("claimName"))
    ]


def _pvc_finding(ctx: Context, pvc: dict, pods: list[dict], owner: dict | None) -> Finding | None:
    view = ctx.view
    ref = Ref.of(pvc)
    spec = pvc.get("spec") or {}
    class_name = spec.get("storageClassName")
    requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
    modes = ",".join(spec.get("accessModes") or [])
    created = (pvc.get("metadata") or {}).get("creationTimestamp")
    events = view.events_for(pvc)
    warnings = [e for e in events if e.get("type") == "Warning"]
    blocked = [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") == "Pending" and not (p.get("spec") or {}).get("nodeName")
    ]
    class_text = (
        'storageClassName "" (static binding to a pre-created PV only)'
        if class_name == ""
        else f"storageClassName {class_name}"
        if class_name
        else "no storageClassName (the default StorageClass applies)"
    )
    evidence = [
        ctx.cite(
            "status",
            pvc,
            f"phase Pending, created {time_ago(view, created)}, {class_text}, requests {requested} {modes}",
        )
    ]
    parts = [
        f"PersistentVolumeClaim {ref.namespace}/{ref.name} is Pending (unbound) — created "
        f"{time_ago(view, created)}, "
        f"{class_text}, requesting {requested} {modes} [{evidence[0]}]."
    ]
    if warnings:
        last = warnings[-1]
        evidence.append(
            ctx.cite("event", pvc, f"{last.get('reason')}{event_count_text(last)}: {last.get('message')}")
        )
        parts.append(
            f'Event {last.get("reason")}{event_count_text(last)}: "{last.get("message")}" [{evidence[-1]}].'
        )
    if blocked:
        pod = blocked[0]
        message = scheduling_message(view, pod)
        evidence.append(ctx.cite("event", pod, f"FailedScheduling: {message}"))
        parts.append(
            f"So {len(blocked)} pod(s) that mount it cannot be scheduled "
            f"({', '.join(Ref.of(p).name for p in blocked[:3])}): "
            f'"{message}" [{evidence[-1]}].'
        )
    confidence = 0.6 if (blocked or warnings) else 0.4
    summary_cause = "no volume has been bound to it"
    contributing: list[Contributing] = []
    recommendations: list[Recommendation] = []
    classes = view.all("StorageClass")
    storage_class = view.get("StorageClass", "", class_name) if class_name else None
    default = [
        c
        for c in classes
        if ((c.get("metadata") or {}).get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    if class_name and storage_class is None:
        listed = ", ".join(Ref.of(c).name + (" (default)" if c in default else "") for c in classes) or "none"
        evidence.append(
            ctx.cite(
                "status", pvc, f'StorageClass "{class_name}" not found; StorageClasses present: {listed}'
            )
        )
        parts.append(
            f'The StorageClass "{class_name}" it names does not exist (not found); the cluster has: {listed} '
            f"[{evidence[-1]}]. No provisioner will ever create its volume."
        )
        summary_cause = f"StorageClass {class_name} not found"
        confidence = 0.9
        if owner is not None and owner.get("kind") == "StatefulSet":
            contributing.append(
                Contributing(
                    Ref.of(owner),
                    f"volumeClaimTemplates set storageClassName={class_name}, which does not exist",
                )
            )
            parts.append(
                f"The claim comes from StatefulSet {Ref.of(owner).name}'s volumeClaimTemplates, which set "
                f"storageClassName={class_name}."
            )
        recommendations.append(
            Recommendation(
                "Use a StorageClass that exists",
                "immediate",
                "storageClassName is immutable on a claim (and volumeClaimTemplates on a "
                "StatefulSet): fix the "
                "manifest to an existing class, re-create the StatefulSet without deleting its "
                "pods, then delete "
                "the Pending claim so it is re-created. Or create the missing StorageClass.",
                [
                    kp.get_storage(),
                    *(
                        [kp.delete(Ref.of(owner), "--cascade=orphan")]
                        if owner is not None and owner.get("kind") == "StatefulSet"
                        else []
                    ),
                    kp.delete(ref),
                ],
            )
        )
    elif class_name == "" or (class_name is None and not default):
        pv, why = _static_volume(view, pvc)
        if pv is not None:
            pv_ref = Ref.of(pv)
            pv_spec = pv.get("spec") or {}
            claim_ref = pv_spec.get("claimRef") or {}
            phase = (pv.get("status") or {}).get("phase")
            since = (pv.get("status") or {}).get("lastPhaseTransitionTime")
            evidence.append(
                ctx.cite(
                    "status",
                    pv,
                    f"PV {pv_ref.name} phase {phase}"
                    + (f" since {since}" if since else "")
                    + f", reclaimPolicy {pv_spec.get('persistentVolumeReclaimPolicy')}, claimRef "
                    f"{claim_ref.get('namespace')}/{claim_ref.get('name')} uid {claim_ref.get('uid')}",
                )
            )
            if why == "released":
                parts.append(
                    f"The PersistentVolume that should serve it, {pv_ref.name} ({_pv_source(pv)}, "
                    f"{(pv_spec.get('capacity') or {}).get('storage')}), is in phase Released"
                    + (f" since {ts(since)}" if since else "")
                    + f" with reclaimPolicy {pv_spec.get('persistentVolumeReclaimPolicy')} and a "
                    "stale claimRef "
                    f"to {claim_ref.get('namespace')}/{claim_ref.get('name')} uid "
                    f"{claim_ref.get('uid')} — the "
                    "deleted previous claim; the current PVC has uid "
                    f"{(pvc.get('metadata') or {}).get('uid')} "
                    f"[{evidence[-1]}]. A Released PV is never re-bound automatically, so the new "
                    "claim finds no "
                    "available volume."
                )
                summary_cause = f"PV {pv_ref.name} is Released with a stale claimRef to the deleted claim"
                confidence = 0.9
                contributing.append(
                    Contributing(
                        pv_ref, f"phase Released, claimRef uid {claim_ref.get('uid')} (deleted claim)"
                    )
                )
                recommendations.append(
                    Recommendation(
                        "Release the stale claimRef so the PV can bind again",
                        "immediate",
                        "With reclaimPolicy Retain the data is still there; clearing spec.claimRef "
                        "makes the PV "
                        "Available and the Pending claim binds to it. Check the volume's contents first.",
                        [
                            kubectl.get_yaml(pv_ref),
                            kubectl.patch_merge(pv_ref, '{"spec":{"claimRef":null}}'),
                            kp.get(ref),
                        ],
                    )
                )
            else:
                parts.append(f"PersistentVolume {pv_ref.name}: {why} [{evidence[-1]}].")
                summary_cause = f"PV {pv_ref.name} cannot bind it ({why})"
                confidence = 0.8
                contributing.append(Contributing(pv_ref, why))
        else:
            evidence.append(
                ctx.cite(
                    "status", pvc, f"no PersistentVolume matches (class {class_name!r}, {requested}, {modes})"
                )
            )
            parts.append(
                "No PersistentVolume with a matching class, access modes and capacity is Available "
                f"[{evidence[-1]}]."
            )
            summary_cause = "no PersistentVolume is available for it"
            confidence = 0.8 if (blocked or warnings) else 0.5
    else:
        binding_mode = (storage_class or (default[0] if default else {})).get("volumeBindingMode")
        failed = [e for e in warnings if e.get("reason") in ("ProvisioningFailed", "FailedBinding")]
        if failed:
            message = failed[-1].get("message") or ""
            summary_cause = f"provisioning failed: {message[:140]}"
            confidence = 0.85
            if "node affinity" in message.lower() or "zone" in message.lower():
                summary_cause = f"volume zone/topology conflict: {message[:140]}"
        elif any("persistent volumes to bind" in scheduling_message(view, p).lower() for p in blocked):
            same_class = [
                pv
                for pv in view.all("PersistentVolume")
                if ((pv.get("spec") or {}).get("storageClassName") or "") == (class_name or "")
            ]
            phases = Counter((pv.get("status") or {}).get("phase") or "?" for pv in same_class)
            shown = ", ".join(f"{count} {phase}" for phase, count in phases.items()) or "none"
            evidence.append(ctx.cite("status", pvc, f"PersistentVolumes of class {class_name}: {shown}"))
            parts.append(
                f"The scheduler didn't find available persistent volumes to bind: StorageClass {class_name} "
                f"(provisioner {(storage_class or {}).get('provisioner')}) has PersistentVolumes {shown} "
                f"[{evidence[-1]}], none Available with {requested} {modes} on a node the pod may use."
            )
            summary_cause = f"no available PersistentVolume of class {class_name} to bind"
            confidence = 0.85
        elif binding_mode == "WaitForFirstConsumer":
            parts.append(
                "Its StorageClass uses volumeBindingMode WaitForFirstConsumer, so the claim stays "
                "Pending until a "
                "pod that uses it is scheduled: that is normal, not a cause by itself."
            )
            confidence = min(confidence, 0.3)
        if any("volume node affinity conflict" in scheduling_message(view, p).lower() for p in blocked):
            confidence = max(confidence, 0.8)
            summary_cause = "volume node affinity (zone) conflict with the schedulable nodes"
    if storage_class is not None:
        contributing.append(
            Contributing(Ref.of(storage_class), f"provisioner {storage_class.get('provisioner')}")
        )
    recommendations.append(
        Recommendation(
            "Inspect the claim and the volumes",
            "immediate",
            "The claim's events, the PersistentVolumes and the StorageClasses that exist.",
            [kubectl.describe(ref), kp.get_storage()],
        )
    )
    recommendations.append(
        Recommendation(
            "Keep claims and volumes in step with releases",
            "preventive",
            "Reference only StorageClasses that exist (check in CI); for static PVs, keep the PVC out of the "
            "Helm release (helm.sh/resource-policy: keep) or pre-bind it with spec.volumeName.",
            [],
        )
    )
    summary = f"PersistentVolumeClaim {ref.namespace}/{ref.name} is Pending: {summary_cause}"
    return Finding(
        category="pvc-unbound",
        resource=ref,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"storageClassName": class_name},
        recommendations=recommendations,
    )


def _pv_source(pv: dict) -> str:
    spec = pv.get("spec") or {}
    for key in ("nfs", "csi", "hostPath", "local", "awsElasticBlockStore", "gcePersistentDisk", "azureDisk"):
        if key in spec:
            return f"{key} volume"
    return "volume"


def _static_volume(view: ClusterView, pvc: dict) -> tuple[dict | None, str]:
    """The PV a statically bound claim should get, and why it does not: 'released' (stale claimRef)
    or another reason. (None, '') when no PV could serve it."""
    ref = Ref.of(pvc)
    spec = pvc.get("spec") or {}
    wanted_class = spec.get("storageClassName") or ""
    wanted_modes = set(spec.get("accessModes") or [])
    wanted_size = parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage")) or 0
    uid = (pvc.get("metadata") or {}).get("uid")
    named = spec.get("volumeName")
    candidates = []
    for pv in view.all("PersistentVolume"):
        pv_spec = pv.get("spec") or {}
        if named and Ref.of(pv).name != named:
            continue
        if (pv_spec.get("storageClassName") or "") != wanted_class:
            continue
        claim = pv_spec.get("claimRef") or {}
        same_claim = claim.get("namespace") == ref.namespace and claim.get("name") == ref.name
        size = parse_quantity((pv_spec.get("capacity") or {}).get("storage")) or 0
        fits = wanted_modes <= set(pv_spec.get("accessModes") or []) and size >= wanted_size
        if not (same_claim or fits):
            continue
        candidates.append((0 if same_claim else 1, pv, same_claim, fits))
    candidates.sort(key=lambda item: item[0])
    for _rank, pv, same_claim, fits in candidates:
        phase = (pv.get("status") or {}).get("phase")
        claim = (pv.get("spec") or {}).get("claimRef") or {}
        if phase == "Released" and (same_claim or fits) and claim.get("uid") and claim.get("uid") != uid:
            return pv, "released"
        if phase == "Bound" and claim.get("uid") and claim.get("uid") != uid and same_claim:
            return pv, f"bound to another claim uid {claim.get('uid')}"
        if phase == "Failed":
            return pv, "phase Failed"
        if same_claim and not fits:
            return pv, "its capacity or access modes do not satisfy the claim"
    return None, ""
