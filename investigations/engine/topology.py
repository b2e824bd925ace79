"""Stage 2, topology: the graph of objects around the alerting resource.

From the target, walk owners (Pod → ReplicaSet → Deployment, StatefulSet, DaemonSet, Job → CronJob),
selectors (Service → Pods, Ingress → Service, HPA → target, NetworkPolicy → the pods it isolates)
and references (ConfigMaps, Secret *names*, PVC → PV → StorageClass, ServiceAccount, Node, an
Ingress's TLS secret → its cert-manager Certificate). Analyzers look first at what is in it.
"""

from __future__ import annotations

import dataclasses

from investigations.engine.analyzers.netpol_rules import isolating_policies
from investigations.engine.evidence import ClusterView, Ref
from investigations.engine.target import Target


@dataclasses.dataclass
class Topology:
    nodes: dict[Ref, str] = dataclasses.field(default_factory=dict)  # ref -> role (alerting, workload, ...)
    edges: list[tuple[Ref, Ref, str]] = dataclasses.field(default_factory=list)
    missing: list[tuple[Ref, str]] = dataclasses.field(default_factory=list)  # referenced but absent
    alerting: Ref | None = None
    workloads: list[dict] = dataclasses.field(default_factory=list)  # top-level controllers in scope
    pods: list[dict] = dataclasses.field(default_factory=list)  # pods in scope

    def add(self, ref: Ref, role: str) -> None:
        self.nodes.setdefault(ref, role)

    def link(self, source: Ref, target: Ref, relation: str, role: str = "related") -> None:
        self.add(target, role)
        if (source, target, relation) not in self.edges:
            self.edges.append((source, target, relation))

    def as_dict(self) -> dict:
        return {
            "nodes": [{**ref.as_dict(), "role": role} for ref, role in self.nodes.items()],
            "edges": [{"from": str(a), "to": str(b), "relation": rel} for a, b, rel in self.edges],
            "missing": [{**ref.as_dict(), "referenced_by": by} for ref, by in self.missing],
        }


def build_topology(view: ClusterView, target: Target) -> Topology:
    topology = Topology()
    start = view.get(target.kind, target.namespace, target.name) if target.known else None
    if target.known:
        topology.alerting = Ref(target.kind, "" if target.kind == "Node" else target.namespace, target.name)
        topology.add(topology.alerting, "alerting")
    if start is None:
        if topology.alerting is not None:  # set above exactly when the target is known
            topology.missing.append((topology.alerting, "the alert"))
        return topology

    workloads: list[dict] = []
    kind = start.get("kind")
    if kind == "Pod" or kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"):
        workloads = [view.top_owner(start)]
    elif kind == "HorizontalPodAutoscaler":
        ref = (start.get("spec") or {}).get("scaleTargetRef") or {}
        scaled = view.get(ref.get("kind", ""), target.namespace, ref.get("name", ""))
        topology.link(
            Ref.of(start), Ref(ref.get("kind", ""), target.namespace, ref.get("name", "")), "scales"
        )
        workloads = [scaled] if scaled else []
    elif kind == "Service":
        workloads = _workloads_of_pods(view, view.pods_selected_by(start))
        _link_service(view, topology, start)
    elif kind == "Ingress":
        for service_name, port, where in view.ingress_backends(start):
            service = view.get("Service", target.namespace, service_name)
            service_ref = Ref("Service", target.namespace, service_name)
            topology.link(Ref.of(start), service_ref, f"routes {where} → port {port}")
            if service is None:
                topology.missing.append((service_ref, f"Ingress {Ref.of(start).name}"))
                continue
            _link_service(view, topology, service)
            workloads += _workloads_of_pods(view, view.pods_selected_by(service))
    elif kind == "Node":
        topology.pods = [p for p in view.all("Pod") if (p.get("spec") or {}).get("nodeName") == target.name]
        workloads = _workloads_of_pods(view, topology.pods)
    elif kind == "PersistentVolumeClaim":
        workloads = _workloads_of_pods(
            view,
            [
                p
                for p in view.all("Pod", target.namespace)
                if any(
                    (v.get("persistentVolumeClaim") or {}).get("claimName") == target.name
                    for v in (p.get("spec") or {}).get("volumes") or []
                )
            ],
        )

    seen = set()
    for workload in workloads:
        if workload is None or id(workload) in seen:
            continue
        seen.add(id(workload))
        topology.workloads.append(workload)
        _walk_workload(view, topology, workload)
    if kind == "Pod" and start not in topology.pods:
        topology.pods.insert(0, start)
    return topology


def _workloads_of_pods(view: ClusterView, pods: list[dict]) -> list[dict]:
    result: list[dict] = []
    for pod in pods:
        owner = view.top_owner(pod)
        if all(owner is not other for other in result):
            result.append(owner)
    return result


def _link_service(view: ClusterView, topology: Topology, service: dict) -> None:
    service_ref = Ref.of(service)
    topology.add(service_ref, "service")
    for pod in view.pods_selected_by(service):
        topology.link(service_ref, Ref.of(pod), "selects", "pod")


def _walk_workload(view: ClusterView, topology: Topology, workload: dict) -> None:
    workload_ref = Ref.of(workload)
    topology.add(workload_ref, "workload")
    for child in view.owned_by(workload):
        topology.link(workload_ref, Ref.of(child), "owns", "owned")
    pods = view.pods_of(workload)
    for pod in pods:
        if all(pod is not other for other in topology.pods):
            topology.pods.append(pod)
        owner = view.owner(pod)
        topology.link(Ref.of(owner) if owner else workload_ref, Ref.of(pod), "owns", "pod")
        _walk_pod(view, topology, pod)
    template = (
        ((workload.get("spec") or {}).get("template") or {})
        if workload.get("kind") != "CronJob"
        else (
            (((workload.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        )
    )
    if template:
        _walk_pod_spec(view, topology, workload_ref, template.get("spec") or {}, workload_ref.namespace)
    for hpa in view.all("HorizontalPodAutoscaler", workload_ref.namespace):
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == workload_ref.kind and ref.get("name") == workload_ref.name:
            topology.link(Ref.of(hpa), workload_ref, "scales", "autoscaler")
    for pod in pods[:1]:
        for service in view.services_selecting(pod):
            topology.link(Ref.of(service), workload_ref, "routes to", "service")
            for ingress in view.all("Ingress", workload_ref.namespace):
                if any(name == Ref.of(service).name for name, _p, _w in view.ingress_backends(ingress)):
                    topology.link(Ref.of(ingress), Ref.of(service), "routes to", "ingress")
                    _link_certificates(view, topology, ingress)
        for direction in ("Ingress", "Egress"):
            for policy in isolating_policies(view, pod, direction):
                topology.link(Ref.of(policy), workload_ref, f"isolates ({direction.lower()})", "policy")


def _link_certificates(view: ClusterView, topology: Topology, ingress: dict) -> None:
    """An Ingress's TLS secrets issued by cert-manager: the Certificate that fills each one."""
    namespace = Ref.of(ingress).namespace
    for tls in (ingress.get("spec") or {}).get("tls") or []:
        for cert in view.all("Certificate", namespace):
            if (cert.get("spec") or {}).get("secretName") == tls.get("secretName"):
                relation = f"TLS secret {tls.get('secretName')}"
                topology.link(Ref.of(ingress), Ref.of(cert), relation, "certificate")


def _walk_pod(view: ClusterView, topology: Topology, pod: dict) -> None:
    pod_ref = Ref.of(pod)
    node = view.node_of(pod)
    if node is not None:
        topology.link(pod_ref, Ref.of(node), "runs on", "node")
    _walk_pod_spec(view, topology, pod_ref, pod.get("spec") or {}, pod_ref.namespace)


def _walk_pod_spec(view: ClusterView, topology: Topology, owner: Ref, spec: dict, namespace: str) -> None:
    def reference(kind: str, name: str, how: str) -> None:
        if not name:
            return
        ref = Ref(kind, namespace, name)
        topology.link(owner, ref, how, "config" if kind in ("ConfigMap", "Secret") else "reference")
        if (
            kind != "Secret"
            and view.get(kind, namespace, name) is None
            and (ref, str(owner)) not in topology.missing
        ):
            topology.missing.append((ref, str(owner)))

    for volume in spec.get("volumes") or []:
        reference("ConfigMap", (volume.get("configMap") or {}).get("name", ""), "mounts")
        reference("Secret", (volume.get("secret") or {}).get("secretName", ""), "mounts")
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName", "")
        reference("PersistentVolumeClaim", claim, "mounts")
        pvc = view.get("PersistentVolumeClaim", namespace, claim) if claim else None
        if pvc is not None:
            volume_name = (pvc.get("spec") or {}).get("volumeName")
            if volume_name:
                topology.link(Ref.of(pvc), Ref("PersistentVolume", "", volume_name), "bound to", "storage")
            storage_class = (pvc.get("spec") or {}).get("storageClassName")
            if storage_class:
                topology.link(Ref.of(pvc), Ref("StorageClass", "", storage_class), "uses class", "storage")
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for source in container.get("envFrom") or []:
            reference("ConfigMap", (source.get("configMapRef") or {}).get("name", ""), "env from")
            reference("Secret", (source.get("secretRef") or {}).get("name", ""), "env from")
        for variable in container.get("env") or []:
            value_from = variable.get("valueFrom") or {}
            reference("ConfigMap", (value_from.get("configMapKeyRef") or {}).get("name", ""), "env key")
            reference("Secret", (value_from.get("secretKeyRef") or {}).get("name", ""), "env key")
    account = spec.get("serviceAccountName")
    if account:
        reference("ServiceAccount", account, "runs as")
