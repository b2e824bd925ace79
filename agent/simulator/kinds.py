"""The resource kinds the simulator serves: kind → API group, version, plural, scope."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One resource type as it appears in API discovery."""

    kind: str
    group: str  # "" for the core ("legacy") group
    version: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""
    # Secrets are listed in discovery (every cluster has them) but every read is denied.
    forbidden: bool = False

    @property
    def group_version(self) -> str:
        """`v1` for the core group, `<group>/<version>` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


def _k(
    kind: str, gv: str, plural: str, *, namespaced: bool = True, short: tuple[str, ...] = (), **kw
) -> Kind:
    group, _, version = gv.rpartition("/")
    return Kind(kind, group, version, plural, namespaced, short, **kw)


_ADMISSION = "admissionregistration.k8s.io/v1"

KINDS: tuple[Kind, ...] = (
    # core/v1
    _k("Pod", "v1", "pods", short=("po",)),
    _k("Service", "v1", "services", short=("svc",)),
    _k("Endpoints", "v1", "endpoints", short=("ep",), singular="endpoints"),
    _k("ConfigMap", "v1", "configmaps", short=("cm",)),
    _k("Secret", "v1", "secrets", forbidden=True),
    _k("PersistentVolumeClaim", "v1", "persistentvolumeclaims", short=("pvc",)),
    _k("PersistentVolume", "v1", "persistentvolumes", namespaced=False, short=("pv",)),
    _k("Node", "v1", "nodes", namespaced=False, short=("no",)),
    _k("Namespace", "v1", "namespaces", namespaced=False, short=("ns",)),
    _k("Event", "v1", "events", short=("ev",)),
    _k("ServiceAccount", "v1", "serviceaccounts", short=("sa",)),
    _k("ResourceQuota", "v1", "resourcequotas", short=("quota",)),
    _k("LimitRange", "v1", "limitranges", short=("limits",)),
    _k("ReplicationController", "v1", "replicationcontrollers", short=("rc",)),
    # apps/v1
    _k("Deployment", "apps/v1", "deployments", short=("deploy",)),
    _k("ReplicaSet", "apps/v1", "replicasets", short=("rs",)),
    _k("StatefulSet", "apps/v1", "statefulsets", short=("sts",)),
    _k("DaemonSet", "apps/v1", "daemonsets", short=("ds",)),
    _k("ControllerRevision", "apps/v1", "controllerrevisions"),
    # batch/v1
    _k("Job", "batch/v1", "jobs"),
    _k("CronJob", "batch/v1", "cronjobs", short=("cj",)),
    # networking.k8s.io/v1
    _k("Ingress", "networking.k8s.io/v1", "ingresses", short=("ing",)),
    _k("IngressClass", "networking.k8s.io/v1", "ingressclasses", namespaced=False),
    _k("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", short=("netpol",)),
    # discovery.k8s.io/v1
    _k("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
    # autoscaling: v2 is the storage form; v1 is converted (see conversions.py)
    _k("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers", short=("hpa",)),
    _k("HorizontalPodAutoscaler", "autoscaling/v1", "horizontalpodautoscalers", short=("hpa",)),
    # policy/v1
    _k("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets", short=("pdb",)),
    # rbac.authorization.k8s.io/v1
    _k("Role", "rbac.authorization.k8s.io/v1", "roles"),
    _k("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings"),
    _k("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    _k("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False),
    # storage.k8s.io/v1
    _k("StorageClass", "storage.k8s.io/v1", "storageclasses", namespaced=False, short=("sc",)),
    _k("CSIDriver", "storage.k8s.io/v1", "csidrivers", namespaced=False),
    _k("VolumeAttachment", "storage.k8s.io/v1", "volumeattachments", namespaced=False),
    # admissionregistration.k8s.io/v1
    _k("ValidatingWebhookConfiguration", _ADMISSION, "validatingwebhookconfigurations", namespaced=False),
    _k("MutatingWebhookConfiguration", _ADMISSION, "mutatingwebhookconfigurations", namespaced=False),
    _k("ValidatingAdmissionPolicy", _ADMISSION, "validatingadmissionpolicies", namespaced=False),
    _k(
        "ValidatingAdmissionPolicyBinding",
        _ADMISSION,
        "validatingadmissionpolicybindings",
        namespaced=False,
    ),
    # scheduling.k8s.io/v1
    _k("PriorityClass", "scheduling.k8s.io/v1", "priorityclasses", namespaced=False, short=("pc",)),
    # events.k8s.io/v1: a view of the core/v1 Events (see conversions.py)
    _k("Event", "events.k8s.io/v1", "events"),
    # metrics.k8s.io/v1beta1: only advertised when the scenario has metrics (see discovery.py)
    _k("PodMetrics", "metrics.k8s.io/v1beta1", "pods"),
    _k("NodeMetrics", "metrics.k8s.io/v1beta1", "nodes", namespaced=False),
)

METRICS_GROUP = "metrics.k8s.io"

# Where an object from cluster.json is stored, keyed by (group, kind) whatever its version:
# a scenario may write autoscaling/v1 or v2 HPAs, core or events.k8s.io Events.
STORAGE_VERSION: dict[tuple[str, str], str] = {
    ("autoscaling", "HorizontalPodAutoscaler"): "v2",
    ("events.k8s.io", "Event"): "",  # stored as core/v1 Event
}

_BY_PATH: dict[tuple[str, str, str], Kind] = {(k.group, k.version, k.plural): k for k in KINDS}
_BY_KIND: dict[tuple[str, str], Kind] = {}
for _kind in KINDS:
    _BY_KIND.setdefault((_kind.group, _kind.kind), _kind)


def kind_for_path(group: str, version: str, plural: str) -> Kind | None:
    """The served kind at `/api[s]/<group>/<version>/<plural>`, if any."""
    return _BY_PATH.get((group, version, plural))


def kind_for_object(api_version: str, kind: str) -> Kind | None:
    """The built-in kind an object from cluster.json belongs to, by its apiVersion and kind."""
    group, _, _version = api_version.rpartition("/")
    return _BY_KIND.get((group, kind))


def guessed_kind(api_version: str, kind: str, namespaced: bool) -> Kind:
    """A kind for an object this table does not know (a custom resource), with an English plural."""
    group, _, version = api_version.rpartition("/")
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        plural = lower[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        plural = lower + "es"
    else:
        plural = lower + "s"
    return Kind(kind, group, version, plural, namespaced)


def group_versions(kinds: tuple[Kind, ...] | list[Kind] = KINDS) -> dict[str, list[str]]:
    """Non-core groups → their versions, preferred (first listed) first."""
    out: dict[str, list[str]] = {}
    for k in kinds:
        if k.group and k.version not in out.setdefault(k.group, []):
            out[k.group].append(k.version)
    return out
