"""The root-cause taxonomy: every category an investigation may conclude, in order, with its wording.

The one definition (shared/scenarios/TAXONOMY.md is the specification, in the same order): the
model's prompt and the validation of its answer, the analyzers' registrations, the pages' wording
and `Investigation.root_cause_category`'s choices all read it. Pure: no Django.
"""

from __future__ import annotations

from typing import NamedTuple


class Category(NamedTuple):
    value: str
    wording: str  # what an on-call engineer reads at a glance
    cause: str  # the mechanism, as the model's prompt defines the category (TAXONOMY.md "the cause")


CATEGORIES: tuple[Category, ...] = (
    Category("app-crash", "Application crash", "the program fails on its own with valid config"),
    Category(
        "missing-config-key",
        "Missing ConfigMap/Secret or key",
        "a referenced ConfigMap/Secret or key is absent",
    ),
    Category(
        "bad-config-value",
        "Wrong configuration value",
        "config exists but holds a wrong host, port, URL or flag",
    ),
    Category(
        "dependency-unavailable",
        "A dependency is unavailable",
        "a service the workload needs is down or has no ready endpoints",
    ),
    Category(
        "oom-killed", "Out of memory (OOMKilled)", "the container memory limit is too low or memory leaks"
    ),
    Category(
        "cpu-throttled",
        "CPU throttling",
        "the CPU limit is too low: latency or probe failures from throttling",
    ),
    Category(
        "image-pull-error", "Image cannot be pulled", "tag missing, registry auth, or registry unreachable"
    ),
    Category(
        "unschedulable-resources",
        "Unschedulable: not enough CPU/memory",
        "no node has enough requested CPU/memory/GPU",
    ),
    Category(
        "unschedulable-constraints",
        "Unschedulable: taints, affinity or selectors",
        "taints, affinity, nodeSelector or topology spread exclude every node",
    ),
    Category("pvc-unbound", "Volume claim not bound", "a volume claim stays Pending"),
    Category(
        "readiness-probe-misconfigured",
        "Readiness probe misconfigured",
        "the readiness probe checks the wrong port/path/timing of a healthy app",
    ),
    Category(
        "liveness-probe-misconfigured",
        "Liveness probe kills a healthy container",
        "the liveness probe kills a slow-starting or busy but healthy app",
    ),
    Category(
        "service-selector-mismatch",
        "Service selects no pods",
        "a Service's selector matches no (or the wrong) pods",
    ),
    Category(
        "service-port-mismatch",
        "Service port does not reach the container",
        "a Service targetPort (or Ingress backend port) misses the container port",
    ),
    Category(
        "ingress-misconfigured",
        "Ingress misconfigured",
        "an Ingress routes to a missing Service/port, wrong host/path, or a bad TLS secret",
    ),
    Category("node-problem", "Node problem", "a node is NotReady or under memory/disk/PID pressure"),
    Category(
        "hpa-at-max",
        "Autoscaler at its maximum",
        "the autoscaler is at maxReplicas (or blind) while load grows",
    ),
    Category(
        "quota-exceeded", "Resource quota or limit exceeded", "a ResourceQuota or LimitRange forbids the pods"
    ),
    Category("job-failed", "Job failed", "a Job exhausted its backoffLimit or deadline"),
    Category("rbac-forbidden", "Missing RBAC permission", "the service account lacks a permission it uses"),
    Category(
        "volume-full",
        "Volume or ephemeral storage full",
        "a volume (or ephemeral storage) the workload writes to is full: No space left on device",
    ),
    Category(
        "network-policy-blocked",
        "NetworkPolicy blocks the traffic",
        "a NetworkPolicy admits no rule for traffic the workload needs: timeouts to a healthy destination",
    ),
    Category(
        "dns-resolution-failed",
        "Cluster DNS does not resolve",
        "cluster DNS does not answer (CoreDNS or node-local DNS down or misconfigured), or the pod's "
        "dnsPolicy/dnsConfig points at a resolver that does not",
    ),
    Category(
        "certificate-invalid",
        "TLS certificate expired or invalid",
        "a TLS certificate or CA is expired, not renewed, or does not match the host (x509 errors)",
    ),
    Category(
        "admission-denied",
        "Admission policy rejects the pods",
        "an admission webhook, Pod Security admission or policy engine refuses the pods (FailedCreate)",
    ),
    Category(
        "unknown", "Undetermined: the evidence does not support a conclusion", "the evidence does not decide"
    ),
)

UNKNOWN = "unknown"
TAXONOMY: tuple[str, ...] = tuple(category.value for category in CATEGORIES)
WORDING: dict[str, str] = {category.value: category.wording for category in CATEGORIES}
CHOICES: list[tuple[str, str]] = [(category.value, category.wording) for category in CATEGORIES]


def category_label(category: str) -> str:
    """The category's wording; an unknown value (from an older release) reads as its own words."""
    if not category:
        return ""
    return WORDING.get(category, category.replace("-", " ").capitalize())
