"""dns-resolution-failed: lookups fail (timeouts, refused or SERVFAIL from the nameserver, or "no such
host" for Services that exist), and the resolver is where it breaks:

- the pod's own resolver settings: dnsPolicy None with dnsConfig nameservers nothing serves, or
  dnsPolicy Default / hostNetwork (the node's resolver, which knows no cluster names): the workload is
  the cause (0.9 when a rollout brought the setting, 0.85 otherwise);
- the cluster DNS: the kube-dns Service (the nameserver the lines name) has no ready endpoint. Its
  pods crash on a configuration error ("Error during parsing", "Unknown directive", a loop) that
  names a file, traced through the volume mounts to the ConfigMap key (0.95, the ConfigMap);
  otherwise the DNS workload (scaled to 0, crashing, pending: 0.85).

Stands down when a NetworkPolicy blocks the pod's egress to the DNS (network-policy-blocked names it)
and when "no such host" concerns a name that does not exist (a wrong value: bad-config-value).
"""

from __future__ import annotations

from investigations.engine import kubectl
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import pod_logs, service_for_host
from investigations.engine.analyzers.dns_cluster import cluster_dns_finding
from investigations.engine.analyzers.dns_servers import Failed, Nameserver, dns_nameserver
from investigations.engine.analyzers.helpers import quote_line
from investigations.engine.analyzers.netpol_rules import Peer, egress_verdict
from investigations.engine.analyzers.workload_facts import latest_rollout
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import pod_spec
from investigations.engine.kubectl import Recommendation
from investigations.engine.name_resolution import failed_lookups

# NodeLocal DNSCache's documented link-local address: pods pointed at it need the node-local-dns DaemonSet.
NODELOCAL_ADDRESS = "169.254.20.10"


def relevant_lookups(ctx: Context, pods: list[dict]) -> list[Failed]:
    """Failed lookups pointing at the resolver: transient ones, or "no such host" for existing Services."""
    view = ctx.view
    found = []
    for pod in pods:
        namespace = Ref.of(pod).namespace
        for container, text, previous in pod_logs(view, pod):
            for lookup in failed_lookups(text):
                if lookup.transient or _existing_service(view, lookup.host, namespace):
                    found.append(Failed(pod, container, previous, lookup))
    return found


def _existing_service(view: ClusterView, host: str, namespace: str) -> bool:
    """A cluster Service of that name exists (ExternalName ones point outside: their NXDOMAIN is a value)."""
    service = service_for_host(view, host, namespace) if host else None
    return service is not None and (service.get("spec") or {}).get("type") != "ExternalName"


def _egress_blocked(view: ClusterView, pod: dict, server: Nameserver | None) -> bool:
    if server is None or server.ref.kind != "Service":
        return False
    for backend in server.pods[:1]:
        ip = (backend.get("status") or {}).get("podIP", "")
        if egress_verdict(view, pod, Peer(backend, ip), 53, "UDP").blocking:
            return True
    return False


@analyzer("dns-resolution-failed")
def dns_resolution_failed(ctx: Context) -> list[Finding]:
    view = ctx.view
    scope = ctx.in_scope_pods()
    failed = relevant_lookups(ctx, scope)
    server = dns_nameserver(view, [f.lookup for f in failed])
    failed = [f for f in failed if not _egress_blocked(view, f.pod, server)]
    own = _pod_resolver(ctx, failed)
    if own is not None:
        return [own]
    in_scope_dns = [p for p in scope if server is not None and any(p is d for d in server.pods)]
    if not failed and not in_scope_dns:
        return []
    cluster_failed = [f for f in failed if _uses_cluster_dns(view, f.pod)]
    if server is not None and server.ref.kind == "Service" and cluster_failed:
        # the pods may ask a node-local cache first: the address their lines name decides
        server = dns_nameserver(view, [f.lookup for f in cluster_failed]) or server
    everywhere = relevant_lookups(ctx, _pods_with_logs(view))
    finding = cluster_dns_finding(ctx, server, cluster_failed, everywhere, in_scope_dns)
    return [finding] if finding is not None else []


def _pods_with_logs(view: ClusterView) -> list[dict]:
    keys = {key[:2] for key in list(view.logs) + list(view.previous_logs)}
    return [p for namespace, name in sorted(keys) if (p := view.get("Pod", namespace, name)) is not None]


def _uses_cluster_dns(view: ClusterView, pod: dict) -> bool:
    spec = pod_spec(pod)
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        return False
    return not (policy == "Default" or (spec.get("hostNetwork") and policy == "ClusterFirst"))


def _served(view: ClusterView, address: str) -> str:
    """What answers DNS at `address`: a Service with ready endpoints, a hostNetwork DNS DaemonSet, or ''."""
    for service in view.all("Service"):
        spec = service.get("spec") or {}
        if address == spec.get("clusterIP") or address in (spec.get("clusterIPs") or []):
            ready, _not_ready = view.endpoints(service)
            return f"Service {Ref.of(service).namespace}/{Ref.of(service).name}" if ready else ""
    for daemonset in view.all("DaemonSet"):
        if address in str(pod_spec(daemonset)) and pod_spec(daemonset).get("hostNetwork"):
            return f"DaemonSet {Ref.of(daemonset).namespace}/{Ref.of(daemonset).name}"
    return ""


def _pod_resolver(ctx: Context, failed: list[Failed]) -> Finding | None:
    """The pod's own resolver settings (dnsPolicy None/Default, hostNetwork) explain the failures."""
    view = ctx.view
    for item in failed:
        spec = pod_spec(item.pod)
        policy = spec.get("dnsPolicy") or "ClusterFirst"
        if policy == "None":
            nameservers = list((spec.get("dnsConfig") or {}).get("nameservers") or [])
            unserved = [n for n in nameservers if not _served(view, n)]
            if not unserved or (item.lookup.server and item.lookup.server not in unserved):
                continue
            return _pod_finding(ctx, item, failed, policy, unserved)
        if (
            not _uses_cluster_dns(view, item.pod)
            and item.lookup.host
            and (item.lookup.host.endswith((".svc", ".svc.cluster.local")) or "." not in item.lookup.host)
        ):
            return _pod_finding(ctx, item, failed, policy, [])
    return None


def _pod_finding(
    ctx: Context, item: Failed, failed: list[Failed], policy: str, unserved: list[str]
) -> Finding:
    view = ctx.view
    pod, workload = item.pod, view.top_owner(item.pod)
    pod_ref, workload_ref = Ref.of(pod), Ref.of(workload)
    spec = pod_spec(pod)
    same = [f for f in failed if view.top_owner(f.pod) is workload]
    pods = sorted({Ref.of(f.pod).name for f in same})
    hosts = sorted({f.lookup.host for f in same if f.lookup.host})[:4]
    evidence = [ctx.cite("previous_log" if item.previous else "log", pod, quote_line(item.lookup.line, 400))]
    config = spec.get("dnsConfig") or {}
    setting = (
        f"dnsPolicy {policy}"
        + (
            f", dnsConfig nameservers {config.get('nameservers')}"
            + (f", options {config.get('options')}" if config.get("options") else "")
            if config
            else ""
        )
        + (", hostNetwork true" if spec.get("hostNetwork") else "")
    )
    evidence.append(ctx.cite("spec", pod, f"pod spec {setting}"))
    parts = [
        f"{len(pods)} pod(s) of {workload_ref.kind} {workload_ref.name} cannot resolve names "
        f"({', '.join(hosts) or 'cluster Services'}): "
        f'"{quote_line(item.lookup.excerpt or item.lookup.line, 240)}" '
        f"({item.lookup.failure.replace('again', 'temporary failure')}) [{evidence[0]}].",
    ]
    if policy == "None":
        parts.append(
            f"Their pod spec sets {setting} [{evidence[1]}]: with dnsPolicy None the pods ask only "
            f"{', '.join(unserved)}, and nothing in the cluster serves DNS there (no Service with that "
            "ClusterIP, no hostNetwork DNS DaemonSet)."
        )
        if NODELOCAL_ADDRESS in unserved:
            parts.append(
                f"{NODELOCAL_ADDRESS} is the address of NodeLocal DNSCache (the node-local-dns DaemonSet), "
                "which "
                "this cluster does not run."
            )
    else:
        parts.append(
            f"Their pod spec sets {setting} [{evidence[1]}]: the pods use the node's resolver, which knows "
            "no "
            "cluster names (*.svc.cluster.local)."
        )
    server = dns_nameserver(view, [])
    if server is not None and server.ready:
        evidence.append(
            ctx.cite("endpoints", server.obj, f"{server.describe()}: {server.ready} ready endpoints")
        )
        parts.append(
            f"The cluster DNS itself is healthy: {server.describe()} has {server.ready} ready endpoint(s) "
            f"[{evidence[-1]}]; pods with dnsPolicy ClusterFirst resolve through it."
        )
    contributing: list[Contributing] = []
    change = latest_rollout(view, workload, pod)
    dns_change = [
        d
        for d in (change.details if change else [])
        if d.startswith(("dnsPolicy", "dnsConfig", "hostNetwork"))
    ]
    confidence = 0.85
    if change is not None and dns_change:
        evidence.append(
            ctx.cite("change", workload, f"{change.what} {change.age} ago: {'; '.join(dns_change)}")
        )
        parts.append(
            f"What changed: {change.what}, {change.age} before the capture, set {'; '.join(dns_change)} "
            f"[{evidence[-1]}]."
        )
        contributing.append(
            Contributing(workload_ref, f"{change.what} at {change.when}: {'; '.join(dns_change)}")
        )
        confidence = 0.9
    owner = view.owner(pod)
    if owner is not None and owner is not workload:
        contributing.append(Contributing(Ref.of(owner), f"its pods fail to resolve: {', '.join(pods[:3])}"))
    recommendations = []
    if change is not None and dns_change and workload_ref.kind == "Deployment":
        recommendations.append(
            Recommendation(
                f"Roll {workload_ref.name} back to revision {change.previous_revision}",
                "immediate",
                "The previous revision resolved through the cluster DNS.",
                [
                    kubectl.rollout_undo(workload_ref, change.previous_revision),
                    kubectl.rollout_status(workload_ref),
                ],
            )
        )
    operations: list[dict] = [
        {"op": "replace", "path": "/spec/template/spec/dnsPolicy", "value": "ClusterFirst"}
    ]
    if config:
        operations.append({"op": "remove", "path": "/spec/template/spec/dnsConfig"})
    recommendations.append(
        Recommendation(
            "Resolve through the cluster DNS again",
            "immediate",
            "dnsPolicy ClusterFirst sends lookups to kube-dns (fix the chart values too, or the next release "
            "brings the setting back).",
            [kpol.patch_json(workload_ref, operations), kubectl.rollout_status(workload_ref)]
            if workload_ref.kind != "Pod"
            else [kubectl.get_yaml(pod_ref)],
        )
    )
    recommendations.append(
        Recommendation(
            "Point pods only at resolvers that exist",
            "preventive",
            "Deploy a local DNS cache (node-local-dns) before pointing pods at its address, and keep "
            "per-environment "
            "DNS settings out of shared chart values.",
            [],
        )
    )
    return Finding(
        category="dns-resolution-failed",
        resource=workload_ref,
        confidence=confidence,
        summary=(
            f"{workload_ref.kind} {workload_ref.name} resolves names through "
            f"{', '.join(unserved) or 'the node resolver'} "
            f"({setting}), which does not answer: lookups fail"
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"dnsPolicy": policy, "nameservers": unserved},
        recommendations=recommendations,
    )
