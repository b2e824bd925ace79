"""network-policy-blocked: a pod's connections time out (dropped, not refused) to a destination that
answers (a Service with ready endpoints, the cluster DNS, addresses behind a selector-less Service),
and the NetworkPolicies, evaluated rule by rule (netpol_rules), admit no path: the caller is isolated
for egress with no rule for that peer and port, or the destination is isolated for ingress with no
rule for the caller.

0.9 when the timing-out line names the destination, 0.85 when the line names nothing and exactly one
destination of the pod's configuration is blocked (0.7 when several are), 0.55 when the
connections are refused rather than dropped; +0.05 when the blocking policy changed recently. The
finding names the policy that isolates the pod without admitting the traffic (one without rules in
that direction first, then the most recently changed).
"""

from __future__ import annotations

import dataclasses
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import pod_logs
from investigations.engine.analyzers.destinations import (
    Destination,
    configured_destinations,
    external,
    host_ports,
    resolve,
)
from investigations.engine.analyzers.helpers import RECENT, quote_around
from investigations.engine.analyzers.netpol_rules import (
    Peer,
    Verdict,
    describe_rules,
    egress_to_outside,
    egress_verdict,
    ingress_verdict,
)
from investigations.engine.analyzers.policy_changes import change_of, rank_policies
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, labels_of
from investigations.engine.kubectl import Recommendation
from investigations.engine.name_resolution import failed_lookup

_DROPPED = re.compile(
    r"timed? ?out|ETIMEDOUT|i/o timeout|deadline exceeded|SocketTimeoutException|timeout exceeded|"
    r"connect(?:ion)? timeout|no route to host|EHOSTUNREACH",
    re.I,
)
_REFUSED = re.compile(r"connection refused|ECONNREFUSED", re.I)


@dataclasses.dataclass
class Blocked:
    pod: dict
    container: str
    line: str
    previous: bool
    destination: Destination
    verdicts: list[Verdict]  # the blocking verdict of each backend
    named: bool  # the failing line names the destination
    refused: bool

    @property
    def verdict(self) -> Verdict:
        return self.verdicts[0]


def _evaluate(ctx: Context, pod: dict, destination: Destination) -> list[Verdict] | None:
    """The blocking verdict for each backend, or None when at least one backend is reachable."""
    view = ctx.view
    if not destination.backends:
        return None
    source = Peer(pod, (pod.get("status") or {}).get("podIP", ""))
    if destination.external:
        verdict = egress_to_outside(view, pod, destination.port, destination.protocol)
        return [verdict] if verdict.blocking else None
    verdicts = []
    for peer, port in destination.backends:
        egress = egress_verdict(view, pod, peer, port, destination.protocol)
        if egress.blocking:
            verdicts.append(egress)
            continue
        if peer.pod is not None:
            ingress = ingress_verdict(view, peer.pod, source, port, destination.protocol)
            if ingress.blocking:
                verdicts.append(ingress)
                continue
        return None
    return verdicts


def _dns_destination(ctx: Context, pod: dict, server: str, line: str) -> Destination | None:
    if not server:
        service = ctx.view.get("Service", "kube-system", "kube-dns")
        server = ((service or {}).get("spec") or {}).get("clusterIP", "")
    if not server:
        return None
    destination = resolve(ctx.view, server, 53, Ref.of(pod).namespace, source="log", line=line)
    if destination is not None:
        destination.protocol = "UDP"
        destination.backends = [(peer, port or 53) for peer, port in destination.backends]
    return destination


def blocked_connections(ctx: Context, pods: list[dict]) -> list[Blocked]:
    """Connections of `pods` that fail and that the NetworkPolicies do not admit."""
    view = ctx.view
    found: list[Blocked] = []
    for pod in pods:
        namespace = Ref.of(pod).namespace
        unnamed: tuple[str, str, bool] | None = None
        seen: set[tuple] = set()
        for container, text, previous in pod_logs(view, pod):
            for line in text.splitlines():
                dropped, refused = bool(_DROPPED.search(line)), bool(_REFUSED.search(line))
                if not dropped and not refused:
                    continue
                lookup = failed_lookup(line)
                destinations: list[Destination] = []
                if lookup is not None:
                    if lookup.failure in ("timeout", "again"):
                        dns = _dns_destination(ctx, pod, lookup.server, line)
                        destinations = [dns] if dns else []
                else:
                    for host, port in host_ports(line):
                        destination = resolve(view, host, port, namespace, source="log", line=line)
                        if destination is None and dropped:
                            destination = external(host, port, source="log", line=line)
                        if destination is not None:
                            destinations.append(destination)
                if not destinations and dropped and unnamed is None and lookup is None:
                    unnamed = (container, line, previous)
                for destination in destinations:
                    if destination.key() in seen:
                        continue
                    seen.add(destination.key())
                    verdicts = _evaluate(ctx, pod, destination)
                    if verdicts:
                        found.append(
                            Blocked(
                                pod,
                                container,
                                line.strip(),
                                previous,
                                destination,
                                verdicts,
                                True,
                                not dropped,
                            )
                        )
        if unnamed is not None:
            for destination in configured_destinations(view, pod, unnamed[0]):
                if destination.key() in seen:
                    continue
                verdicts = _evaluate(ctx, pod, destination)
                if verdicts:
                    found.append(
                        Blocked(pod, unnamed[0], unnamed[1], unnamed[2], destination, verdicts, False, False)
                    )
    return found


@analyzer("network-policy-blocked")
def network_policy_blocked(ctx: Context) -> list[Finding]:
    if not ctx.view.all("NetworkPolicy"):
        return []
    blocked = blocked_connections(ctx, ctx.in_scope_pods())
    if not blocked:
        return []
    by_destination: dict[tuple, list[Blocked]] = {}
    for item in blocked:
        by_destination.setdefault(item.destination.key(), []).append(item)
    groups = sorted(
        by_destination.values(),
        key=lambda g: (
            not any(b.named for b in g),
            g[0].destination.external,
            all(b.refused for b in g),
            -len(g),
        ),
    )
    group = groups[0]
    config_only = not any(b.named for b in group)
    blocked_configured = sum(1 for g in groups if not any(b.named for b in g))
    if all(b.refused for b in group):
        confidence = 0.55
    elif group[0].destination.external:
        confidence = 0.75  # the address is unknown: only rules that cannot match any address are certain
    elif not config_only:
        confidence = 0.9
    else:
        confidence = 0.85 if blocked_configured == 1 else 0.7
    return [_finding(ctx, group, confidence)]


def _finding(ctx: Context, group: list[Blocked], confidence: float) -> Finding:
    view = ctx.view
    first = next((b for b in group if b.named), group[0])
    pod, destination, verdict = first.pod, first.destination, first.verdict
    pod_ref, workload = Ref.of(pod), view.top_owner(pod)
    workload_ref = Ref.of(workload)
    direction = verdict.direction
    policies = rank_policies(view, verdict.isolating, direction)
    primary = policies[0]
    primary_ref = Ref.of(primary)
    backends = ", ".join(
        f"{peer.describe()}:{port}" if port else peer.describe() for peer, port in destination.backends[:4]
    )
    service = destination.service
    what = (
        f"Service {Ref.of(service).namespace}/{Ref.of(service).name} ({destination.address})"
        if service is not None
        else destination.address
    )
    if destination.external:
        what = f"{destination.address}, outside the cluster"
    if destination.port == 53 and destination.protocol == "UDP":
        what = f"the cluster DNS {what} on UDP 53"
    pattern = _REFUSED if first.refused else _DROPPED
    evidence = [
        ctx.cite("previous_log" if first.previous else "log", pod, quote_around(first.line, pattern, 400))
    ]
    clients = sorted({Ref.of(b.pod).name for b in group})
    how = "times out" if not first.refused else "is refused"
    parts = [
        f"{len(clients)} pod(s) of {workload_ref.kind} {workload_ref.name} cannot reach {what}: the "
        "connection "
        f'{how} ("{quote_around(first.line, _REFUSED if first.refused else _DROPPED)}") [{evidence[0]}]'
        + (
            f"; the log line names no host, and {destination.address} is the address the pod's configuration "
            f"gives ({destination.source})."
            if not first.named
            else "."
        )
    ]
    if service is not None:
        evidence.append(
            ctx.cite("endpoints", service, f"Endpoints {Ref.of(service).name}: ready backends {backends}")
        )
        parts.append(
            f"The destination is healthy: {len(destination.backends)} ready backend(s) ({backends}) "
            f"[{evidence[-1]}], "
            "so it is not down; the packets are dropped on the way, which is what a NetworkPolicy does "
            "(timeouts, "
            "not connection refused)."
        )
    side = pod_ref.namespace if direction == "egress" else Ref.of(first.verdict.isolating[0]).namespace
    change = change_of(view, primary)
    detail = (
        f"podSelector {_selector_text(primary)}, policyTypes {', '.join(_types(primary))}: "
        + describe_rules(primary, direction)
    )
    evidence.append(
        ctx.cite(
            "spec",
            primary,
            f"NetworkPolicy {primary_ref.name}: {detail}"
            + (f"; {change.what} {change.age} ago" if change else ""),
        )
    )
    peer, port = destination.backends[0]
    if direction == "egress":
        parts.append(
            f"NetworkPolicy {primary_ref.name} in {side} selects pod {pod_ref.name} for egress ({detail}) "
            f"[{evidence[-1]}]."
        )
    else:
        parts.append(
            f"NetworkPolicy {primary_ref.name} in {side} selects the destination pods for ingress ({detail}) "
            f"[{evidence[-1]}]; nothing admits {pod_ref.namespace}/{workload_ref.name}."
        )
    others = list(policies[1:])
    contributing = []
    if others:
        text = "; ".join(f"{Ref.of(p).name}: {describe_rules(p, direction)}" for p in others[:4])
        evidence.append(ctx.cite("spec", others[0], f"other {direction} policies selecting the pod: {text}"))
        parts.append(
            f"The other {direction} policies that select it admit only what they list ({text}) "
            f"[{evidence[-1]}]; "
            f"none admits {peer.describe()} on {destination.protocol}/{port}."
        )
        contributing += [Contributing(Ref.of(p), describe_rules(p, direction)) for p in others[:4]]
    else:
        parts.append(f"No rule admits {peer.describe()} on {destination.protocol}/{port}.")
    if change is not None:
        parts.append(
            f"What changed: NetworkPolicy {primary_ref.name} was {change.what} {change.age} before the "
            "capture."
        )
        contributing.insert(0, Contributing(primary_ref, f"{change.what} at {change.when}"))
        changed_ago = view.age_seconds(change.when)
        if changed_ago is not None and changed_ago <= RECENT and not first.refused:
            confidence = min(0.95, round(confidence + 0.05, 2))
    if service is not None:
        contributing.append(
            Contributing(Ref.of(service), f"healthy: {len(destination.backends)} ready backend(s)")
        )
    recommendations = [
        Recommendation(
            f"Allow {workload_ref.name} to reach {destination.address} in NetworkPolicy {primary_ref.name}",
            "immediate",
            f"Add a {direction} rule for exactly this peer and port (or commit the same rule where the "
            "policy is "
            "managed, so a GitOps sync does not revert it).",
            [
                kpol.describe_networkpolicy(primary_ref),
                kpol.add_policy_rule(primary, direction, _rule(view, pod, destination, direction)),
                kpol.get_networkpolicies(primary_ref.namespace),
                kubectl.rollout_status(workload_ref)
                if workload_ref.kind in ("Deployment", "StatefulSet", "DaemonSet")
                else kubectl.describe(pod_ref),
            ],
        ),
        Recommendation(
            "Check what the destination answers",
            "immediate",
            "Its backends are ready; once the rule is in, the client's errors stop.",
            [kubectl.logs(pod_ref, first.container, previous=first.previous, tail=50)]
            + ([kpol.get_endpoints(Ref.of(service))] if service is not None else []),
        ),
        Recommendation(
            "Land default-deny baselines with their allow rules",
            "preventive",
            "Before a deny-by-default policy reaches a namespace, list the destinations its workloads use "
            "(Services "
            "in other namespaces, addresses outside the cluster, DNS) and ship the allow rules with it; "
            "alert on "
            "connection timeouts after policy changes.",
            [],
        ),
    ]
    summary = (
        f"NetworkPolicy {primary_ref.name} ({side}) blocks {direction} from {workload_ref.name} to "
        f"{destination.address} ({destination.protocol}/{port}): connections time out"
    )
    return Finding(
        category="network-policy-blocked",
        resource=primary_ref,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"direction": direction, "destination": destination.address, "port": port},
        recommendations=recommendations,
    )


def _types(policy: dict) -> list[str]:
    from investigations.engine.analyzers.netpol_rules import policy_types

    return policy_types(policy)


def _selector_text(policy: dict) -> str:
    selector = (policy.get("spec") or {}).get("podSelector") or {}
    labels = selector.get("matchLabels") or {}
    if not labels and not selector.get("matchExpressions"):
        return "{} (every pod of the namespace)"
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "matchExpressions"


def _rule(view, pod: dict, destination: Destination, direction: str) -> dict:
    """The narrowest rule admitting this connection."""
    peer, port = destination.backends[0]
    ports = [{"protocol": destination.protocol, "port": port}] if port else []
    if direction == "egress":
        if destination.external:  # its addresses are unknown: public addresses on that port
            peers = [
                {
                    "ipBlock": {
                        "cidr": "0.0.0.0/0",
                        "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
                    }
                }
            ]
        elif peer.pod is None:
            peers = [{"ipBlock": {"cidr": f"{p.ip}/32"}} for p, _port in destination.backends if p.ip]
        else:
            labels = _stable_labels(destination.service, peer.pod)
            entry: dict = {"podSelector": {"matchLabels": labels}}
            if peer.namespace != Ref.of(pod).namespace:
                entry["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": peer.namespace}}
            peers = [entry]
        return {"to": peers, "ports": ports} if ports else {"to": peers}
    labels = _stable_labels(None, pod)
    entry = {"podSelector": {"matchLabels": labels}}
    if peer.namespace != Ref.of(pod).namespace:
        entry["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": Ref.of(pod).namespace}}
    return {"from": [entry], "ports": ports} if ports else {"from": [entry]}


def _stable_labels(service: dict | None, pod: dict) -> dict[str, str]:
    selector = ((service or {}).get("spec") or {}).get("selector")
    if selector:
        return dict(selector)
    return {
        k: v
        for k, v in labels_of(pod).items()
        if k not in ("pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name")
    }
