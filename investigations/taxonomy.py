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


CATEGORIES: tuple[Category, ...] = (
    Category("app-crash", "Application crash"),
    Category("missing-config-key", "Missing ConfigMap/Secret or key"),
    Category("bad-config-value", "Wrong configuration value"),
    Category("dependency-unavailable", "A dependency is unavailable"),
    Category("oom-killed", "Out of memory (OOMKilled)"),
    Category("cpu-throttled", "CPU throttling"),
    Category("image-pull-error", "Image cannot be pulled"),
    Category("unschedulable-resources", "Unschedulable: not enough CPU/memory"),
    Category("unschedulable-constraints", "Unschedulable: taints, affinity or selectors"),
    Category("pvc-unbound", "Volume claim not bound"),
    Category("readiness-probe-misconfigured", "Readiness probe misconfigured"),
    Category("liveness-probe-misconfigured", "Liveness probe kills a healthy container"),
    Category("service-selector-mismatch", "Service selects no pods"),
    Category("service-port-mismatch", "Service port does not reach the container"),
    Category("ingress-misconfigured", "Ingress misconfigured"),
    Category("node-problem", "Node problem"),
    Category("hpa-at-max", "Autoscaler at its maximum"),
    Category("quota-exceeded", "Resource quota or limit exceeded"),
    Category("job-failed", "Job failed"),
    Category("rbac-forbidden", "Missing RBAC permission"),
    Category("volume-full", "Volume or ephemeral storage full"),
    Category("network-policy-blocked", "NetworkPolicy blocks the traffic"),
    Category("dns-resolution-failed", "Cluster DNS does not resolve"),
    Category("certificate-invalid", "TLS certificate expired or invalid"),
    Category("admission-denied", "Admission policy rejects the pods"),
    Category("unknown", "Undetermined: the evidence does not support a conclusion"),
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
