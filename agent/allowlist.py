"""What the agent agrees to read: the allow-list, enforced here whatever the portal asks.

`vet()` turns a raw command into an `AllowedCommand` or raises `Rejected`; nothing reaches
the executor otherwise. Standard library only, so the portal can import it to check its own
commands before sending them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from agent.protocol import Command, CommandParams, ProtocolError, validate_command


@dataclass(frozen=True)
class KindSpec:
    """An allow-listed kind: where it lives in the API and whether it is namespaced."""

    kind: str
    group: str  # "" for core/v1
    version: str
    plural: str
    namespaced: bool
    # A custom resource (CRD) or an aggregated API, read through the generic custom-objects calls;
    # a cluster without it answers `not_found` for the list.
    custom: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _spec(kind: str, gv: str, plural: str, namespaced: bool = True, *, custom: bool = False) -> KindSpec:
    group, _, version = gv.rpartition("/")
    return KindSpec(kind, group, version, plural, namespaced, custom)


_ADMISSION = "admissionregistration.k8s.io/v1"

KINDS: dict[str, KindSpec] = {
    s.kind: s
    for s in (
        _spec("Pod", "v1", "pods"),
        _spec("Service", "v1", "services"),
        _spec("Endpoints", "v1", "endpoints"),
        _spec("ConfigMap", "v1", "configmaps"),
        _spec("PersistentVolumeClaim", "v1", "persistentvolumeclaims"),
        _spec("PersistentVolume", "v1", "persistentvolumes", False),
        _spec("Node", "v1", "nodes", False),
        _spec("Namespace", "v1", "namespaces", False),
        _spec("Event", "v1", "events"),
        _spec("ResourceQuota", "v1", "resourcequotas"),
        _spec("LimitRange", "v1", "limitranges"),
        _spec("ServiceAccount", "v1", "serviceaccounts"),
        _spec("Deployment", "apps/v1", "deployments"),
        _spec("ReplicaSet", "apps/v1", "replicasets"),
        _spec("StatefulSet", "apps/v1", "statefulsets"),
        _spec("DaemonSet", "apps/v1", "daemonsets"),
        _spec("Job", "batch/v1", "jobs"),
        _spec("CronJob", "batch/v1", "cronjobs"),
        _spec("Ingress", "networking.k8s.io/v1", "ingresses"),
        _spec("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies"),
        _spec("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
        _spec("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers"),
        _spec("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets"),
        _spec("Role", "rbac.authorization.k8s.io/v1", "roles"),
        _spec("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings"),
        _spec("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", False),
        _spec("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
        _spec("StorageClass", "storage.k8s.io/v1", "storageclasses", False),
        # Admission: which webhooks and policies may reject pods (webhook configurations hold no secret,
        # their caBundle is a public CA certificate).
        _spec("ValidatingWebhookConfiguration", _ADMISSION, "validatingwebhookconfigurations", False),
        _spec("MutatingWebhookConfiguration", _ADMISSION, "mutatingwebhookconfigurations", False),
        _spec("ValidatingAdmissionPolicy", _ADMISSION, "validatingadmissionpolicies", False),
        _spec("ValidatingAdmissionPolicyBinding", _ADMISSION, "validatingadmissionpolicybindings", False),
        # Add-ons, when installed: cert-manager (certificates and how they are issued, never the key
        # Secrets) and Kyverno policies.
        _spec("Certificate", "cert-manager.io/v1", "certificates", custom=True),
        _spec("CertificateRequest", "cert-manager.io/v1", "certificaterequests", custom=True),
        _spec("Issuer", "cert-manager.io/v1", "issuers", custom=True),
        _spec("ClusterIssuer", "cert-manager.io/v1", "clusterissuers", False, custom=True),
        _spec("Order", "acme.cert-manager.io/v1", "orders", custom=True),
        _spec("Challenge", "acme.cert-manager.io/v1", "challenges", custom=True),
        _spec("ClusterPolicy", "kyverno.io/v1", "clusterpolicies", False, custom=True),
        _spec("Policy", "kyverno.io/v1", "policies", custom=True),
        _spec("PodMetrics", "metrics.k8s.io/v1beta1", "pods", custom=True),
        _spec("NodeMetrics", "metrics.k8s.io/v1beta1", "nodes", False, custom=True),
    )
}
METRICS_KINDS = frozenset({"PodMetrics", "NodeMetrics"})
RBAC_KINDS = frozenset({"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"})

# Hard sanity bounds: a command beyond these is refused as absurd, not clamped.
MAX_LIMIT = 100_000
MAX_TAIL_LINES = 100_000
MAX_SINCE_SECONDS = 30 * 24 * 3600
MAX_SELECTOR_LENGTH = 1024

# Kubernetes name rules (ASCII only; fullmatch so a trailing newline cannot slip through).
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# RBAC objects may be named like "system:controller:job-controller" (path-segment names).
_RBAC_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9:._@-]*[A-Za-z0-9])?")
_LABEL_SELECTOR = re.compile(r"[A-Za-z0-9._/=!,() -]*")
_FIELD_SELECTOR = re.compile(r"[A-Za-z0-9._/=!,-]*")
_FORBIDDEN_OPS = frozenset(
    {
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
        "apply",
        "replace",
        "edit",
        "exec",
        "attach",
        "port-forward",
        "portforward",
        "proxy",
        "watch",
        "scale",
        "cordon",
        "drain",
        "evict",
        "impersonate",
        "escalate",
        "bind",
        "approve",
    }
)


class Rejected(Exception):
    """A command the agent will not run; `code` is `refused` or `invalid`."""

    def __init__(self, code: str, message: str, command_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.command_id = command_id


@dataclass(frozen=True)
class Limits:
    """The agent's caps; requests above them are served up to the cap and marked truncated."""

    max_log_lines: int = 2000
    max_log_bytes: int = 512 * 1024
    max_list_items: int = 500
    max_result_bytes: int = 200_000


@dataclass(frozen=True)
class AllowedCommand:
    """A vetted command, with the parameters the executor will actually use."""

    command: Command
    spec: KindSpec
    limit: int | None  # list/events: items to ask for (capped)
    tail_lines: int | None  # logs: lines to ask for (capped)
    limit_capped: bool  # the caller asked for more than the cap (or for everything)
    tail_capped: bool

    @property
    def id(self) -> str:
        return self.command.id


def _mentions_secret(text: str) -> bool:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "secret" in folded


def _check_name(value: str, spec: KindSpec, what: str, cid: str) -> None:
    if spec.kind == "Namespace" or what == "namespace":
        ok, max_len, rule = _DNS_LABEL.fullmatch(value), 63, "a DNS-1123 label"
    elif spec.kind in RBAC_KINDS:
        ok, max_len, rule = _RBAC_NAME.fullmatch(value), 253, "a valid RBAC object name"
    else:
        ok, max_len, rule = _DNS_SUBDOMAIN.fullmatch(value), 253, "a DNS-1123 subdomain"
    if len(value) > max_len or not ok or ".." in value:
        raise Rejected(
            "invalid",
            f"{what} {value[:80]!r} is not {rule} (lowercase letters, digits, '-', '.'; "
            f"at most {max_len} characters)",
            cid,
        )


def _check_selector(value: str, pattern: re.Pattern[str], what: str, cid: str) -> None:
    if len(value) > MAX_SELECTOR_LENGTH or not pattern.fullmatch(value):
        raise Rejected(
            "invalid",
            f"{what} contains characters a Kubernetes selector does not use, or is longer than "
            f"{MAX_SELECTOR_LENGTH}: {value[:80]!r}",
            cid,
        )


def _check_bounded(value: int | None, upper: int, what: str, cid: str) -> None:
    if value is not None and not 1 <= value <= upper:
        raise Rejected("invalid", f"{what} must be between 1 and {upper}, got {value}", cid)


_OP_PARAMS = {
    "get": frozenset(),
    "list": frozenset({"label_selector", "field_selector", "limit"}),
    "logs": frozenset({"container", "previous", "tail_lines", "since_seconds"}),
    "events": frozenset({"limit"}),
}


def vet_command(cmd: Command, limits: Limits) -> AllowedCommand:
    """Apply the allow-list to a structurally valid command."""
    cid = cmd.id
    op = cmd.op
    if op not in _OP_PARAMS:
        verb = "a write or interactive operation" if op.casefold() in _FORBIDDEN_OPS else "an unknown op"
        raise Rejected(
            "refused", f"op {op[:40]!r} is {verb}; the agent only runs get, list, logs, events", cid
        )
    if _mentions_secret(cmd.kind):
        raise Rejected("refused", "Secrets are never read by the agent (names come from pod specs)", cid)
    spec = KINDS.get(cmd.kind)
    if spec is None:
        raise Rejected(
            "refused",
            f"kind {cmd.kind[:60]!r} is not on the agent's allow-list (exact spelling, e.g. 'Pod')",
            cid,
        )
    params = cmd.params
    extra = sorted(set(params.present()) - _OP_PARAMS[op])
    if extra:
        raise Rejected("invalid", f"params {extra} do not apply to op '{op}'", cid)

    _check_scope(cmd, spec)
    if cmd.namespace is not None:
        _check_name(cmd.namespace, spec, "namespace", cid)
    if cmd.name is not None:
        _check_name(cmd.name, spec, "name", cid)

    _check_params(cmd, params, cid)
    limit = tail = None
    limit_capped = tail_capped = False
    if op in ("list", "events"):
        limit = min(params.limit or limits.max_list_items, limits.max_list_items)
        limit_capped = params.limit is None or params.limit > limits.max_list_items
    if op == "logs":
        tail = min(params.tail_lines or limits.max_log_lines, limits.max_log_lines)
        tail_capped = params.tail_lines is None or params.tail_lines > limits.max_log_lines
    return AllowedCommand(cmd, spec, limit, tail, limit_capped, tail_capped)


def _check_scope(cmd: Command, spec: KindSpec) -> None:
    cid, op = cmd.id, cmd.op
    if op == "logs" and spec.kind != "Pod":
        raise Rejected("refused", "logs are only read from Pods", cid)
    if op == "events" and (spec.kind == "Event" or spec.kind in METRICS_KINDS):
        raise Rejected("invalid", f"events are read for an object, not for {spec.kind}", cid)
    if op == "list":
        if cmd.name is not None:
            raise Rejected("invalid", "list takes no name (use get, or a field selector)", cid)
    elif not cmd.name:
        raise Rejected("invalid", f"op '{op}' needs a name", cid)
    if spec.namespaced:
        if op != "list" and not cmd.namespace:
            raise Rejected("invalid", f"{spec.kind} is namespaced: op '{op}' needs a namespace", cid)
    elif cmd.namespace is not None:
        raise Rejected("invalid", f"{spec.kind} is cluster-scoped: namespace must be null", cid)


def _check_params(cmd: Command, params: CommandParams, cid: str) -> None:
    if params.label_selector is not None:
        _check_selector(params.label_selector, _LABEL_SELECTOR, "label_selector", cid)
    if params.field_selector is not None:
        _check_selector(params.field_selector, _FIELD_SELECTOR, "field_selector", cid)
    if params.container is not None and not _DNS_LABEL.fullmatch(params.container):
        raise Rejected("invalid", f"container {params.container[:80]!r} is not a DNS-1123 label", cid)
    _check_bounded(params.limit, MAX_LIMIT, "limit", cid)
    _check_bounded(params.tail_lines, MAX_TAIL_LINES, "tail_lines", cid)
    _check_bounded(params.since_seconds, MAX_SINCE_SECONDS, "since_seconds", cid)


def vet(raw: object, limits: Limits | None = None) -> AllowedCommand:
    """Validate and allow-list a raw command (as decoded from JSON); raises Rejected."""
    try:
        cmd = validate_command(raw)
    except ProtocolError as exc:
        code = "refused" if exc.code == "refused" else "invalid"
        raise Rejected(code, exc.message, exc.command_id) from None
    return vet_command(cmd, limits or Limits())
