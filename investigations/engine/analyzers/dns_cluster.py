"""The cluster DNS side of dns-resolution-failed: which Service is the nameserver, which pods serve it,
why they do not answer, and which ConfigMap key a configuration error in their logs points at.
"""

from __future__ import annotations

import dataclasses
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analyzers.helpers import RECENT, quote_line
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.analyzers.service_lookup import workloads_matching_selector
from investigations.engine.analyzers.workload_facts import latest_rollout
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, labels_of
from investigations.engine.facts import container_states, pod_spec
from investigations.engine.kubectl import Recommendation
from investigations.engine.name_resolution import Lookup

_CONFIG_ERROR = (
    re.compile(r"(?P<path>/[\w./*-]+):(?P<line>\d+) - Error during parsing: (?P<message>[^\n]+)"),
    re.compile(r"\[FATAL\] (?P<message>plugin/loop: Loop [^\n]+)"),
    re.compile(r"(?P<message>Corefile:(?P<line>\d+) - Error during parsing: [^\n]+)"),
)
# CoreDNS plugins removed or renamed, and what replaced them.
_REPLACED = {"proxy": "forward"}


@dataclasses.dataclass
class Failed:
    """A failed lookup in one pod's log."""

    pod: dict
    container: str
    previous: bool
    lookup: Lookup


@dataclasses.dataclass
class Nameserver:
    """What answers DNS at an address: a Service (kube-dns) or a hostNetwork DaemonSet (node-local DNS)."""

    obj: dict
    ip: str
    pods: list[dict]
    ready: int
    not_ready: int
    known: bool  # endpoints or pods were read: "0 ready" means down, not unknown

    @property
    def ref(self) -> Ref:
        return Ref.of(self.obj)

    def describe(self) -> str:
        return f"{self.ref.kind} {self.ref.namespace}/{self.ref.name} ({self.ip})"


def _service_nameserver(view: ClusterView, service: dict) -> Nameserver:
    ready, not_ready = view.endpoints(service)
    ref = Ref.of(service)
    known = view.get("Endpoints", ref.namespace, ref.name) is not None or any(
        labels_of(s).get("kubernetes.io/service-name") == ref.name
        for s in view.all("EndpointSlice", ref.namespace)
    )
    pods = view.pods_selected_by(service)
    return Nameserver(
        service, (service.get("spec") or {}).get("clusterIP", ""), pods, ready, not_ready, known or bool(pods)
    )


def _daemonset_nameserver(view: ClusterView, daemonset: dict, ip: str) -> Nameserver:
    pods = view.pods_of(daemonset)
    ready = sum(
        1 for p in pods if all(s.ready for s in container_states(p) if not s.init) and container_states(p)
    )
    return Nameserver(daemonset, ip, pods, ready, len(pods) - ready, bool(pods))


def dns_nameserver(view: ClusterView, lookups: list[Lookup]) -> Nameserver | None:
    """The nameserver the failing lines name (a Service's ClusterIP, a node-local address), else kube-dns."""
    for lookup in lookups:
        if not lookup.server:
            continue
        for service in view.all("Service"):
            spec = service.get("spec") or {}
            if lookup.server == spec.get("clusterIP") or lookup.server in (spec.get("clusterIPs") or []):
                return _service_nameserver(view, service)
        for daemonset in view.all("DaemonSet"):
            spec = pod_spec(daemonset)
            if spec.get("hostNetwork") and lookup.server in str(spec.get("containers")):
                return _daemonset_nameserver(view, daemonset, lookup.server)
    found = view.get("Service", "kube-system", "kube-dns")
    if found is None:
        found = next(
            (
                s
                for s in view.all("Service", "kube-system")
                if any(int(p.get("port") or 0) == 53 for p in (s.get("spec") or {}).get("ports") or [])
            ),
            None,
        )
    return _service_nameserver(view, found) if found is not None else None


def config_error(
    view: ClusterView, pods: list[dict]
) -> tuple[dict, str, str, dict | None, str, int | None] | None:
    """(pod, container, log line, ConfigMap, key, line number) of a configuration error the DNS pods log."""
    for pod in pods:
        for state in container_states(pod):
            for previous in (True, False):
                text = view.log(pod, state.name, previous=previous)
                for pattern in _CONFIG_ERROR:
                    match = pattern.search(text)
                    if not match:
                        continue
                    groups = match.groupdict()
                    line_no = int(groups["line"]) if groups.get("line") else None
                    configmap, key = _mounted_configmap(view, pod, state.name, groups.get("path") or "")
                    return pod, state.name, match.group(0).strip(), configmap, key, line_no
    return None


def _mounted_configmap(view: ClusterView, pod: dict, container: str, path: str) -> tuple[dict | None, str]:
    """The ConfigMap (and key) a file inside the container comes from: by the longest mount prefix, else
    (a file the program generates from a template, "Corefile" from "Corefile.base") by the file name."""
    spec = pod_spec(pod)
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    mounts = next(
        (c.get("volumeMounts") or [] for c in spec.get("containers") or [] if c.get("name") == container), []
    )
    best = None
    for mount in mounts:
        prefix = (mount.get("mountPath") or "").rstrip("/") + "/"
        source = (volumes.get(mount.get("name")) or {}).get("configMap") or {}
        if source.get("name") and path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, source)
    namespace = Ref.of(pod).namespace
    if best is not None:
        prefix, source = best
        relative = path[len(prefix) :]
        key = next(
            (i.get("key", relative) for i in source.get("items") or [] if i.get("path") == relative), relative
        )
        return view.get("ConfigMap", namespace, source["name"]), key
    filename = path.rsplit("/", 1)[-1] or "Corefile"
    for mount in mounts:
        source = (volumes.get(mount.get("name")) or {}).get("configMap") or {}
        configmap = view.get("ConfigMap", namespace, source.get("name", "")) if source.get("name") else None
        for key in (configmap or {}).get("data") or {}:
            if key == filename or key.startswith(filename + "."):
                return configmap, key
    return None, ""


def cluster_dns_finding(
    ctx: Context,
    server: Nameserver | None,
    failed: list[Failed],
    everywhere: list[Failed],
    in_scope_dns: list[dict],
) -> Finding | None:
    view = ctx.view
    if server is None or not server.known:
        return None  # neither endpoints nor pods were read: nothing says the DNS is down
    transient = [f for f in failed + everywhere if f.lookup.transient]
    if not transient and not in_scope_dns:
        return None  # "no such host" is an answer: the DNS is up
    error = config_error(view, server.pods)
    if server.ready and error is None and not in_scope_dns:
        return upstream_finding(ctx, server, transient)
    if server.ready and (not in_scope_dns or error is None):
        return None  # the DNS answers: timeouts come from elsewhere (the network, the upstream)
    evidence: list[str] = []
    parts: list[str] = []
    clients = {Ref.of(view.top_owner(f.pod)) for f in everywhere + failed}
    namespaces = sorted({ref.namespace for ref in clients})
    examples = failed or everywhere
    if examples:
        example = examples[0]
        evidence.append(
            ctx.cite(
                "previous_log" if example.previous else "log",
                example.pod,
                quote_line(example.lookup.line, 400),
            )
        )
        parts.append(
            f"Name lookups fail in {len(clients)} workload(s) across {len(namespaces)} namespace(s) "
            f"({', '.join(sorted(r.name for r in clients)[:5])}): "
            f'"{quote_line(example.lookup.excerpt or example.lookup.line, 220)}" [{evidence[-1]}].'
        )
    what = "ready endpoint(s)" if server.ref.kind == "Service" else "ready pod(s)"
    evidence.append(
        ctx.cite(
            "endpoints" if server.ref.kind == "Service" else "status",
            server.obj,
            f"{server.describe()}: {server.ready} {what}, {server.not_ready} not ready",
        )
    )
    parts.append(
        f"They ask the nameserver {server.ip}, served by {server.describe()}, which has {server.ready} "
        f"{what} "
        f"({server.not_ready} not ready) [{evidence[-1]}]: nothing answers on port 53."
    )
    pods = server.pods
    if server.ref.kind == "DaemonSet":
        workload: dict | None = server.obj
    elif pods:
        workload = view.top_owner(pods[0])
    else:  # no pod at all: the workload whose template the Service selects (scaled to 0, deleted pods)
        workload = next(iter(workloads_matching_selector(view, server.obj)), None)
    failing = [
        f"{Ref.of(p).name}: {s.waiting_reason or s.last_reason or 'not ready'} (exit {s.last_exit_code}, "
        f"restarts {s.restarts})"
        for p in pods
        for s in container_states(p)
        if s.failing
    ]
    if failing:
        evidence.append(ctx.cite("status", pods[0], "; ".join(failing[:3])))
        parts.append(f"The DNS pods do not run: {'; '.join(failing[:3])} [{evidence[-1]}].")
    contributing = [] if server.obj is workload else [Contributing(server.ref, f"{server.ready} {what}")]
    if workload is not None:
        contributing.insert(0, Contributing(Ref.of(workload), "; ".join(failing[:2]) or "no ready pod"))
        change = latest_rollout(view, workload, pods[0] if pods else None)
        if change is not None and change.details and (view.age_seconds(change.when) or RECENT + 1) <= RECENT:
            evidence.append(
                ctx.cite(
                    "change", workload, f"{change.what} {change.age} ago: {'; '.join(change.details[:3])}"
                )
            )
            parts.append(
                f"What changed: {Ref.of(workload).name} {change.what} {change.age} before the capture "
                f"({'; '.join(change.details[:3])}) [{evidence[-1]}]."
            )
    if error is not None:
        return _config_finding(ctx, server, workload, error, evidence, parts, contributing, bool(transient))
    if workload is None:
        primary, confidence = server.ref, 0.75
        parts.append(f"No pod backs {server.describe()}.")
    else:
        primary, confidence = Ref.of(workload), 0.85
        if (workload.get("spec") or {}).get("replicas") == 0:
            parts.append(f"{primary.kind} {primary.name} is scaled to 0, so nothing serves DNS.")
            confidence = 0.9
    if not failing and pods:
        confidence = 0.6
    return Finding(
        category="dns-resolution-failed",
        resource=primary,
        confidence=confidence if transient else 0.5,
        summary=f"cluster DNS is down: {server.describe()} has no ready "
        f"{'endpoint' if server.ref.kind == 'Service' else 'pod'}; lookups fail",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"nameserver": str(server.ref), "ready": server.ready},
        recommendations=_recommendations(
            server, primary if primary.kind != "Service" else None, None, "", pods
        ),
    )


_UPSTREAM_ERROR = re.compile(
    r"\[ERROR\] plugin/errors: \d+ (?P<name>\S+?)\.? \w+: (?P<error>[^\n]*?->(?P<upstream>[\d.]+):53[^\n]*)"
)


def upstream_finding(ctx: Context, server: Nameserver, transient: list[Failed]) -> Finding | None:
    """The DNS pods run but cannot reach the upstream they forward outside names to, for exactly the names
    the clients fail on: the forward target in their configuration is the cause."""
    view = ctx.view
    failing = {
        f.lookup.host for f in transient if f.lookup.host and not f.lookup.host.endswith((".svc", ".local"))
    }
    for pod in server.pods:
        for state in container_states(pod):
            for match in _UPSTREAM_ERROR.finditer(view.log(pod, state.name)):
                if match.group("name").lower().rstrip(".") not in failing:
                    continue
                upstream = match.group("upstream")
                configmap, key = _config_naming(view, pod, upstream)
                client = next(
                    f for f in transient if f.lookup.host == match.group("name").lower().rstrip(".")
                )
                evidence = [
                    ctx.cite("log", client.pod, quote_line(client.lookup.line, 400)),
                    ctx.cite("log", pod, quote_line(match.group(0), 400)),
                ]
                parts = [
                    f'Lookups of {client.lookup.host} fail ("{quote_line(client.lookup.excerpt, 200)}") '
                    f"[{evidence[0]}] while {server.describe()} is up: its pods cannot reach the upstream "
                    f"{upstream}:53 they forward outside names to "
                    f'("{quote_line(match.group("error"), 200)}") '
                    f"[{evidence[1]}]. Cluster names still resolve; names outside the cluster do not."
                ]
                primary = Ref.of(configmap) if configmap is not None else Ref.of(view.top_owner(pod))
                if configmap is not None:
                    change = change_of(view, configmap, f"f:{key}") or change_of(view, configmap)
                    detail = f"ConfigMap {primary.name} key {key} forwards to {upstream}" + (
                        f"; {change.what} at {change.when}" if change else ""
                    )
                    evidence.append(ctx.cite("config", configmap, detail))
                    parts.append(f"{detail} [{evidence[-1]}]: that upstream does not answer.")
                return Finding(
                    category="dns-resolution-failed",
                    resource=primary,
                    confidence=0.7,
                    summary=f"DNS upstream {upstream} does not answer: outside names fail to resolve",
                    explanation=" ".join(parts),
                    evidence=evidence,
                    contributing=[Contributing(Ref.of(view.top_owner(pod)), f"forwards to {upstream}")],
                    facts={"upstream": upstream},
                    recommendations=_recommendations(server, None, configmap, key, [pod]),
                )
    return None


def _config_naming(view: ClusterView, pod: dict, text: str) -> tuple[dict | None, str]:
    """The ConfigMap (and key) mounted into a pod whose content names `text` (an upstream address)."""
    for volume in pod_spec(pod).get("volumes") or []:
        name = (volume.get("configMap") or {}).get("name")
        configmap = view.get("ConfigMap", Ref.of(pod).namespace, name) if name else None
        for key, value in ((configmap or {}).get("data") or {}).items():
            if text in str(value):
                return configmap, key
    return None, ""


def _config_finding(
    ctx: Context,
    server: Nameserver,
    workload: dict | None,
    error: tuple,
    evidence: list[str],
    parts: list[str],
    contributing: list[Contributing],
    clients_fail: bool,
) -> Finding:
    view = ctx.view
    pod, _container, line, configmap, key, line_no = error
    evidence.append(ctx.cite("previous_log", pod, quote_line(line, 400)))
    parts.append(f'They exit at start-up on their configuration: "{line}" [{evidence[-1]}].')
    replacement = ""
    directive = re.search(r"Unknown directive '(\w+)'", line)
    if directive and directive.group(1) in _REPLACED:
        replacement = _REPLACED[directive.group(1)]
        parts.append(
            f"The {directive.group(1)} plugin no longer exists in CoreDNS; {replacement} replaced it, so "
            "the file must "
            f"say `{replacement}` instead."
        )
    if configmap is None:
        primary = Ref.of(workload) if workload is not None else server.ref
        confidence = 0.85
    else:
        primary = Ref.of(configmap)
        text = ((configmap.get("data") or {}).get(key) or "").splitlines()
        offending = text[line_no - 1].strip() if line_no and 0 < line_no <= len(text) else ""
        change = change_of(view, configmap, f"f:{key}") or change_of(view, configmap)
        detail = f"ConfigMap {primary.name} key {key}" + (
            f" line {line_no}: `{offending}`" if offending else ""
        )
        if change is not None:
            detail += f"; {change.what} at {change.when} ({change.age} before the capture)"
        evidence.append(ctx.cite("config", configmap, detail))
        parts.append(
            f"The file comes from key {key} of ConfigMap {primary.namespace}/{primary.name}, mounted into "
            "the DNS pods"
            + (f"; line {line_no} reads `{offending}`" if offending else "")
            + f" [{evidence[-1]}]."
        )
        if change is not None:
            parts.append(
                f"What changed: ConfigMap {primary.name} was {change.what} {change.age} before the "
                "capture; running "
                "DNS pods keep their loaded configuration, so the outage starts when they restart or reload."
            )
            contributing.append(Contributing(primary, f"{change.what} at {change.when}"))
        confidence = 0.95 if clients_fail else 0.9
    return Finding(
        category="dns-resolution-failed",
        resource=primary,
        confidence=confidence,
        summary=(
            f"cluster DNS is down: its pods fail to parse {key or 'their configuration'}"
            + (f" (ConfigMap {primary.name})" if configmap is not None else "")
            + f"; {server.describe()} answers nothing and lookups fail"
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"nameserver": str(server.ref), "config_error": line},
        recommendations=_recommendations(
            server,
            Ref.of(workload) if workload is not None else None,
            configmap,
            key,
            [pod],
            replacement,
            directive.group(1) if directive else "",
        ),
    )


def _recommendations(
    server: Nameserver,
    workload: Ref | None,
    configmap: dict | None,
    key: str,
    pods: list[dict],
    replacement: str = "",
    old: str = "",
) -> list[Recommendation]:
    out = []
    if configmap is not None:
        ref = Ref.of(configmap)
        commands = [kubectl.get_yaml(ref)]
        value = (configmap.get("data") or {}).get(key) or ""
        if replacement and old:
            fixed = re.sub(rf"(?m)^(\s*){old}\b", rf"\g<1>{replacement}", value)
            commands.append(kx.set_configmap_key(ref, key, fixed))
        else:
            commands.append(kubectl.edit(ref))
        out.append(
            Recommendation(
                f"Fix key {key} of ConfigMap {ref.name}",
                "immediate",
                "The DNS pods cannot start until the file parses"
                + (f" (`{old}` → `{replacement}`)." if replacement else "."),
                commands,
            )
        )
    if workload is not None:
        out.append(
            Recommendation(
                f"Restart {workload.name} and check the DNS endpoints",
                "immediate",
                "Once the pods are Ready the Service has endpoints again and lookups succeed everywhere.",
                [kubectl.rollout_restart(workload), kubectl.rollout_status(workload)]
                + ([kpol.get_endpoints(server.ref)] if server.ref.kind == "Service" else [])
                + ([kubectl.logs(Ref.of(pods[0]), tail=50)] if pods else []),
            )
        )
    out.append(
        Recommendation(
            "Make the cluster DNS harder to break",
            "preventive",
            "Run at least two DNS replicas on different nodes with a PodDisruptionBudget, review and test "
            "Corefile "
            "changes before applying them, and alert on kube-dns endpoints and DNS error rates.",
            [],
        )
    )
    return out
