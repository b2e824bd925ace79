"""NetworkPolicy semantics, evaluated on what was read: does a policy let this pod reach that peer on
that port (egress), or let that peer reach this pod (ingress)?

The rules of networking.k8s.io/v1: a pod is isolated for a direction when at least one policy of its
namespace selects it (podSelector, `{}` = every pod) with that direction in policyTypes (absent
policyTypes mean Ingress, plus Egress when the policy has egress rules). An isolated pod's traffic is
allowed when any rule of any selecting policy admits it; rules are additive, nothing denies
explicitly. A peer is a podSelector (in the policy's namespace), a namespaceSelector (matched against
the namespace's labels, `kubernetes.io/metadata.name` included), both (pods with those labels in
those namespaces), or an ipBlock (cidr minus except). Ports are the destination pod's ports (after a
Service's DNAT), by number (with endPort) or by container port name, per protocol (TCP by default);
no ports means every port. Reply traffic is always allowed.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from investigations.engine.evidence import ClusterView, Ref, labels_of, selector_matches
from investigations.engine.facts import pod_spec


@dataclasses.dataclass(frozen=True)
class Peer:
    """One end of a connection: a pod of the cluster, or an address outside it."""

    pod: dict | None
    ip: str

    @property
    def namespace(self) -> str:
        return Ref.of(self.pod).namespace if self.pod is not None else ""

    def describe(self) -> str:
        if self.pod is not None:
            ref = Ref.of(self.pod)
            return f"pod {ref.namespace}/{ref.name}" + (f" ({self.ip})" if self.ip else "")
        return self.ip or "an address outside the cluster"


@dataclasses.dataclass
class Verdict:
    """What the policies of one side say about one connection."""

    direction: str  # egress | ingress
    allowed: bool
    isolating: list[dict]  # the policies that select the pod for this direction (none: not isolated)
    admitting: list[tuple[dict, int]]  # (policy, rule index) that admit the connection

    @property
    def blocking(self) -> bool:
        return bool(self.isolating) and not self.allowed


def selects(selector: dict | None, labels: dict[str, str]) -> bool:
    """A LabelSelector where `{}` selects everything (NetworkPolicy semantics)."""
    if selector is None:
        return False
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return True
    return selector_matches(selector, labels)


def namespace_labels(view: ClusterView, namespace: str) -> dict[str, str]:
    """A namespace's labels; the API server always sets kubernetes.io/metadata.name."""
    found = view.get("Namespace", "", namespace)
    labels = dict(labels_of(found)) if found else {}
    labels.setdefault("kubernetes.io/metadata.name", namespace)
    return labels


def policy_types(policy: dict) -> list[str]:
    spec = policy.get("spec") or {}
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def isolating_policies(view: ClusterView, pod: dict, direction: str) -> list[dict]:
    """The policies of the pod's namespace that select it for `direction` (Ingress or Egress)."""
    namespace = Ref.of(pod).namespace
    return [
        policy
        for policy in view.all("NetworkPolicy", namespace)
        if direction in policy_types(policy)
        and selects((policy.get("spec") or {}).get("podSelector") or {}, labels_of(pod))
    ]


def _in_block(ip: str, block: dict) -> bool:
    try:
        address = ipaddress.ip_address(ip)
        if address not in ipaddress.ip_network(block.get("cidr", ""), strict=False):
            return False
        return not any(
            address in ipaddress.ip_network(excepted, strict=False) for excepted in block.get("except") or []
        )
    except ValueError:
        return False


def peer_matches(view: ClusterView, peer_rule: dict, policy_namespace: str, other: Peer) -> bool:
    """Whether one entry of a rule's `to`/`from` designates the other end of the connection."""
    if "ipBlock" in peer_rule:
        return bool(other.ip) and _in_block(other.ip, peer_rule["ipBlock"] or {})
    if other.pod is None:
        return False  # pod and namespace selectors designate pods of the cluster only
    pod_selector = peer_rule.get("podSelector")
    namespace_selector = peer_rule.get("namespaceSelector")
    if namespace_selector is not None:
        if not selects(namespace_selector, namespace_labels(view, other.namespace)):
            return False
    elif other.namespace != policy_namespace:
        return False
    return pod_selector is None or selects(pod_selector, labels_of(other.pod))


def named_port(pod: dict | None, name: str) -> int | None:
    for container in pod_spec(pod or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port.get("containerPort") or 0) or None
    return None


def port_matches(ports: list[dict] | None, port: int | None, protocol: str, destination: dict | None) -> bool:
    """Whether a rule's `ports` admit `port`/`protocol` on the destination pod (no ports: all)."""
    if not ports:
        return True
    for entry in ports:
        if (entry.get("protocol") or "TCP").upper() != protocol.upper():
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if port is None:
            continue
        if isinstance(wanted, str) and not wanted.isdigit():
            if named_port(destination, wanted) == port:
                return True
            continue
        low = int(wanted)
        high = int(entry.get("endPort") or low)
        if low <= port <= high:
            return True
    return False


def egress_verdict(
    view: ClusterView, source: dict, destination: Peer, port: int | None, protocol: str
) -> Verdict:
    policies = isolating_policies(view, source, "Egress")
    admitting = []
    for policy in policies:
        namespace = Ref.of(policy).namespace
        for index, rule in enumerate((policy.get("spec") or {}).get("egress") or []):
            peers = rule.get("to")
            reaches = not peers or any(peer_matches(view, p, namespace, destination) for p in peers)
            if reaches and port_matches(rule.get("ports"), port, protocol, destination.pod):
                admitting.append((policy, index))
    return Verdict("egress", not policies or bool(admitting), policies, admitting)


def egress_to_outside(view: ClusterView, source: dict, port: int | None, protocol: str) -> Verdict:
    """Egress to an address outside the cluster that is not known: only rules without destinations or
    with an ipBlock (which might cover it) on that port can admit it."""
    policies = isolating_policies(view, source, "Egress")
    admitting = []
    for policy in policies:
        for index, rule in enumerate((policy.get("spec") or {}).get("egress") or []):
            peers = rule.get("to")
            reaches = not peers or any("ipBlock" in p for p in peers)
            if reaches and port_matches(rule.get("ports"), port, protocol, None):
                admitting.append((policy, index))
    return Verdict("egress", not policies or bool(admitting), policies, admitting)


def ingress_verdict(
    view: ClusterView, destination: dict, source: Peer, port: int | None, protocol: str
) -> Verdict:
    policies = isolating_policies(view, destination, "Ingress")
    admitting = []
    for policy in policies:
        namespace = Ref.of(policy).namespace
        for index, rule in enumerate((policy.get("spec") or {}).get("ingress") or []):
            peers = rule.get("from")
            reaches = not peers or any(peer_matches(view, p, namespace, source) for p in peers)
            if reaches and port_matches(rule.get("ports"), port, protocol, destination):
                admitting.append((policy, index))
    return Verdict("ingress", not policies or bool(admitting), policies, admitting)


def describe_rules(policy: dict, direction: str) -> str:
    """A short human reading of what a policy admits in one direction."""
    spec = policy.get("spec") or {}
    rules = spec.get("egress" if direction == "egress" else "ingress") or []
    if not rules:
        return f"no {direction} rule: every {direction} connection of the pods it selects is denied"
    parts = []
    for rule in rules:
        peers = rule.get("to" if direction == "egress" else "from") or []
        who = "; ".join(_describe_peer(p) for p in peers) or "anywhere"
        ports = ", ".join(
            f"{(p.get('protocol') or 'TCP')}/{p.get('port', 'any')}"
            + (f"-{p['endPort']}" if p.get("endPort") else "")
            for p in rule.get("ports") or []
        )
        parts.append(f"{who}" + (f" on {ports}" if ports else " on every port"))
    return (
        f"{direction} only to " + " | ".join(parts)
        if direction == "egress"
        else ("ingress only from " + " | ".join(parts))
    )


def _describe_peer(peer: dict) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"] or {}
        excepted = block.get("except") or []
        return f"ipBlock {block.get('cidr')}" + (f" except {', '.join(excepted)}" if excepted else "")
    parts = []
    if peer.get("namespaceSelector") is not None:
        parts.append(f"namespaces {_describe_selector(peer['namespaceSelector'])}")
    if peer.get("podSelector") is not None:
        parts.append(f"pods {_describe_selector(peer['podSelector'])}")
    return (
        " and ".join(parts)
        if peer.get("namespaceSelector") is not None
        else ((parts[0] + " of its namespace") if parts else "?")
    )


def _describe_selector(selector: dict) -> str:
    labels = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        labels.append(
            f"{expression.get('key')} {expression.get('operator')} {','.join(expression.get('values') or [])}"
        )
    return "{" + ", ".join(labels) + "}" if labels else "{} (all)"
