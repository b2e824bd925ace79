"""What is in scope: the alerting workloads, the cause's, and everything they reference."""

from __future__ import annotations

from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Ref, labels_match, labels_of, selector_matches
from investigations.engine.facts import container_states, pod_spec

_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
_SKIPPED_KINDS = {"Pod", "ReplicaSet", "Event", "Endpoints", "EndpointSlice", "PodMetrics", "NodeMetrics"}


def workloads_in_scope(ctx: Context, causes: set[Ref]) -> list[dict]:
    view = ctx.view
    found: dict[Ref, dict] = {Ref.of(w): w for w in ctx.in_scope_workloads() if w}
    for ref in causes:
        obj = view.get(ref.kind, ref.namespace, ref.name)
        if obj is None:
            continue
        if ref.kind in ("Pod", "ReplicaSet", "Job"):
            obj = view.top_owner(obj)
        if obj.get("kind") == "Service":
            for workload in _workloads_behind(view, obj):
                found.setdefault(Ref.of(workload), workload)
        elif obj.get("kind") == "ResourceQuota":
            # what used the quota up is another workload of the namespace: a new one, or one scaled up
            for workload in _top_level_workloads(view, ref.namespace):
                found.setdefault(Ref.of(workload), workload)
        elif obj.get("kind") in _WORKLOAD_KINDS:
            found.setdefault(Ref.of(obj), obj)
    return list(found.values())


def _top_level_workloads(view: ClusterView, namespace: str) -> list[dict]:
    return [w for kind in _WORKLOAD_KINDS for w in view.all(kind, namespace) if view.owner(w) is None]


def _workloads_behind(view: ClusterView, service: dict) -> list[dict]:
    """Workloads whose pod template a Service selects (those scaled to zero too)."""
    selector = (service.get("spec") or {}).get("selector")
    namespace = Ref.of(service).namespace
    found = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for workload in view.all(kind, namespace):
            if labels_match(selector, _template_labels(workload)):
                found.append(workload)
    return found


def objects_in_scope(ctx: Context, workloads: list[dict], causes: set[Ref]) -> list[dict]:
    view = ctx.view
    scope: dict[Ref, dict] = {}

    def add(obj: dict | None) -> None:
        if obj is not None and obj.get("kind") not in _SKIPPED_KINDS:
            scope.setdefault(Ref.of(obj), obj)

    target = ctx.target
    if target.known:
        add(view.get(target.kind, target.namespace, target.name))
    for ref in causes:
        add(view.get(ref.kind, ref.namespace, ref.name))
    for workload in workloads:
        add(workload)
        for obj in _referenced(view, workload):
            add(obj)
    return list(scope.values())


def _referenced(view: ClusterView, workload: dict) -> list[dict]:
    """What a workload's pods read or are governed by (Secrets are never read)."""
    namespace = Ref.of(workload).namespace
    pods = view.pods_of(workload)
    specs = [pod_spec(workload), *(p.get("spec") or {} for p in pods)]
    label_sets = [labels_of(p) for p in pods] or [_template_labels(workload)]
    found: list[dict | None] = []
    for spec in specs:
        for kind, name in _spec_references(spec):
            obj = view.get(kind, namespace, name)
            found.append(obj)
            if kind == "PersistentVolumeClaim" and obj is not None:
                volume = view.get("PersistentVolume", "", (obj.get("spec") or {}).get("volumeName") or "")
                found.append(volume)
                storage_class = (obj.get("spec") or {}).get("storageClassName") or ""
                found.append(view.get("StorageClass", "", storage_class))
    account = pod_spec(workload).get("serviceAccountName") or pod_spec(workload).get("serviceAccount")
    if account:
        found += _rbac_of(view, namespace, account)
    for service in view.all("Service", namespace):
        selector = (service.get("spec") or {}).get("selector")
        if any(labels_match(selector, labels) for labels in label_sets):
            found.append(service)
            name = Ref.of(service).name
            found += [
                i
                for i in view.all("Ingress", namespace)
                if any(backend == name for backend, _port, _where in view.ingress_backends(i))
            ]
    ref = Ref.of(workload)
    for hpa in view.all("HorizontalPodAutoscaler", namespace):
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if target.get("kind") == ref.kind and target.get("name") == ref.name:
            found.append(hpa)
    for policy in view.all("NetworkPolicy", namespace):
        selector = (policy.get("spec") or {}).get("podSelector")
        if selector == {} or any(selector_matches(selector, labels) for labels in label_sets):
            found.append(policy)
    for budget in view.all("PodDisruptionBudget", namespace):
        if any(selector_matches((budget.get("spec") or {}).get("selector"), labels) for labels in label_sets):
            found.append(budget)
    found += view.all("ResourceQuota", namespace) + view.all("LimitRange", namespace)
    return [obj for obj in found if obj is not None]


def _spec_references(spec: dict) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for source in container.get("envFrom") or []:
            refs.append(("ConfigMap", (source.get("configMapRef") or {}).get("name", "")))
        for variable in container.get("env") or []:
            key_ref = (variable.get("valueFrom") or {}).get("configMapKeyRef") or {}
            refs.append(("ConfigMap", key_ref.get("name", "")))
    for volume in spec.get("volumes") or []:
        refs.append(("ConfigMap", (volume.get("configMap") or {}).get("name", "")))
        refs.append(
            ("PersistentVolumeClaim", (volume.get("persistentVolumeClaim") or {}).get("claimName", ""))
        )
        for source in (volume.get("projected") or {}).get("sources") or []:
            refs.append(("ConfigMap", (source.get("configMap") or {}).get("name", "")))
    return [(kind, name) for kind, name in dict.fromkeys(refs) if name]


def _rbac_of(view: ClusterView, namespace: str, account: str) -> list[dict | None]:
    """The ServiceAccount, the bindings naming it and the roles they grant."""
    found: list[dict | None] = [view.get("ServiceAccount", namespace, account)]
    bindings = view.all("RoleBinding", namespace) + view.all("ClusterRoleBinding")
    for binding in bindings:
        if not any(
            s.get("kind") == "ServiceAccount"
            and s.get("name") == account
            and (s.get("namespace") or Ref.of(binding).namespace) == namespace
            for s in binding.get("subjects") or []
        ):
            continue
        found.append(binding)
        role = binding.get("roleRef") or {}
        found.append(view.get(role.get("kind", ""), namespace, role.get("name", "")))
    return found


def _template_labels(workload: dict) -> dict[str, str]:
    spec = workload.get("spec") or {}
    if workload.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def failing_containers(view: ClusterView, workload: dict) -> set[str]:
    return {
        state.name
        for pod in view.pods_of(workload)
        for state in container_states(pod)
        if state.failing or (not state.ready and state.terminated_reason != "Completed")
    }
