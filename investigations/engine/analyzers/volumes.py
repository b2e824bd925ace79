"""volume-full: a volume a workload writes to is full.

- "No space left on device" (ENOSPC, PostgreSQL SQLSTATE 53100 / PANIC on a WAL write, SQLite "database
  or disk is full", Redis MISCONF, Elasticsearch flood-stage watermark, MySQL errno 28) in a pod's
  logs, traced to the mount the path falls under: a PersistentVolumeClaim (0.9, the claim), an
  emptyDir or the container's writable layer (the workload, where the limits live);
- the same errors relayed by clients (a database answering "could not extend file"), traced to the
  dependency the clients fail on and its claim (0.75);
- kubelet evictions for a pod's own ephemeral-storage limit or an emptyDir sizeLimit (0.9, the
  workload). A node that ran out of disk (DiskPressure, "the node was low on resource") is
  node-problem, not this.
"""

from __future__ import annotations

import dataclasses
import re

from investigations.engine import kubectl
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.connections import connection_failures, pod_logs, service_for_host
from investigations.engine.analyzers.destinations import host_ports
from investigations.engine.analyzers.helpers import quote_line
from investigations.engine.analyzers.volume_fixes import ephemeral_recommendations, pvc_recommendations
from investigations.engine.analyzers.workload_facts import readable_settings
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import container_states, pod_spec

_FULL = re.compile(
    r"No space left on device|\bENOSPC\b|SQLSTATE 53100|could not extend file|database or disk is full|"
    r"MISCONF Redis is configured to save RDB snapshots|flood[- ]stage disk watermark|"
    r"read-only-allow-delete|index read-only / allow delete|"
    r"(?:Errcode|errno): 28\b|\bdisk (?:is )?full\b|out of disk space",
    re.I,
)
_PATH = re.compile(r"(/[\w.@%+-]+(?:/[\w.@%+-]+)+)")
_EVICTION = (
    (
        "ephemeral-storage",
        re.compile(
            r"Pod ephemeral local storage usage exceeds the total limit of containers "
            r"(?P<limit>\S+?)\.?(?:\s|$)"
        ),
    ),
    (
        "ephemeral-storage",
        re.compile(
            r"Container (?P<container>[\w-]+) exceeded its local ephemeral storage limit "
            r"\"(?P<limit>[^\"]+)\""
        ),
    ),
    (
        "emptyDir",
        re.compile(
            r"Usage of EmptyDir volume \"(?P<volume>[\w-]+)\" exceeds the limit \"(?P<limit>[^\"]+)\""
        ),
    ),
)


@dataclasses.dataclass
class Full:
    pod: dict
    container: str
    line: str
    previous: bool
    relayed: bool = False  # a client reporting its server's error


@dataclasses.dataclass
class Volume:
    kind: str  # pvc | emptyDir | writable layer
    name: str  # volume name in the pod
    mount: str  # mountPath
    claim: dict | None = None
    size_limit: str = ""


def full_lines(view: ClusterView, pods: list[dict]) -> list[Full]:
    """The first "no space" line of each container log (with the line before it when only that one names
    the path, as Java's "IOException: No space left on device" under "Error while writing … /data/…")."""
    found = []
    for pod in pods:
        for container, text, previous in pod_logs(view, pod):
            lines = text.splitlines()
            for index, line in enumerate(lines):
                if not _FULL.search(line):
                    continue
                before = lines[index - 1].strip() if index else ""
                if not _PATH.search(line) and _PATH.search(before) and len(before) < 300:
                    line = f"{before} / {line.strip()}"
                found.append(Full(pod, container, line.strip(), previous))
                break
    return found


def volume_for(view: ClusterView, pod: dict, container: str, line: str) -> Volume:
    """The volume an ENOSPC line is about: the mount its path falls under, else the pod's one claim."""
    spec = pod_spec(pod)
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    mounts = next(
        (c.get("volumeMounts") or [] for c in spec.get("containers") or [] if c.get("name") == container), []
    )
    writable = [
        m for m in mounts if not m.get("readOnly") and _writable_source(volumes.get(m.get("name")) or {})
    ]
    chosen = None
    for path in _PATH.findall(line):
        for mount in writable:
            prefix = (mount.get("mountPath") or "").rstrip("/") + "/"
            if (path + "/").startswith(prefix) and (
                chosen is None or len(prefix) > len(chosen.get("mountPath", ""))
            ):
                chosen = mount
    if chosen is None:
        claims = [m for m in writable if "persistentVolumeClaim" in (volumes.get(m.get("name")) or {})]
        chosen = claims[0] if len(claims) == 1 else (writable[0] if len(writable) == 1 else None)
    if chosen is None:
        return Volume("writable layer", "", "/")
    volume = volumes.get(chosen.get("name")) or {}
    if "persistentVolumeClaim" in volume:
        claim_name = volume["persistentVolumeClaim"].get("claimName", "")
        claim = view.get("PersistentVolumeClaim", Ref.of(pod).namespace, claim_name)
        return Volume(
            "pvc",
            chosen.get("name", ""),
            chosen.get("mountPath", ""),
            claim
            or {
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": Ref.of(pod).namespace},
            },
        )
    size = (volume.get("emptyDir") or {}).get("sizeLimit", "")
    return Volume("emptyDir", chosen.get("name", ""), chosen.get("mountPath", ""), size_limit=size)


def _writable_source(volume: dict) -> bool:
    return "persistentVolumeClaim" in volume or "emptyDir" in volume or "ephemeral" in volume


def _servers_of(ctx: Context, clients: list[dict]) -> list[dict]:
    """Pods behind the Services the clients fail to reach or are configured to use (the database or
    broker a relayed error comes from), ready or not."""
    view = ctx.view
    services = [f.service for f in connection_failures(view, clients) if f.service is not None]
    for client in clients[:6]:
        namespace = Ref.of(client).namespace
        for spec in pod_spec(client).get("containers") or []:
            for _name, value, _where in readable_settings(view, client, spec):
                for host, _port in host_ports(value):
                    service = service_for_host(view, host, namespace)
                    if service is not None:
                        services.append(service)
    servers: list[dict] = []
    for service in services:
        for pod in view.pods_selected_by(service):
            if all(pod is not s for s in servers) and all(pod is not c for c in clients):
                servers.append(pod)
    return servers


@analyzer("volume-full")
def volume_full(ctx: Context) -> list[Finding]:
    view = ctx.view
    scope = ctx.in_scope_pods()
    eviction = _evictions(ctx, scope)
    if eviction is not None:
        return [eviction]
    own = full_lines(view, scope)
    servers = _servers_of(ctx, scope)
    server_lines = full_lines(view, servers)
    candidates = [f for f in server_lines + own if not _relayed(view, f)]
    clients = [f for f in own if _relayed(view, f)]
    for item in clients:
        item.relayed = True
    if not candidates:
        return _relayed_finding(ctx, clients, servers) if clients and servers else []
    ranked = sorted(candidates, key=lambda c: _KINDS.index(volume_for(view, c.pod, c.container, c.line).kind))
    best = ranked[0]
    kind = volume_for(view, best.pod, best.container, best.line).kind
    if kind != "pvc" and _disk_pressure(view, best.pod):
        return []  # the node's own disk is full: node-problem explains it
    confidence = {"pvc": 0.9, "emptyDir": 0.7}.get(kind, 0.6)
    linked = any(best.pod is p for p in scope) or any(best.pod is s for s in servers)
    return [_full_finding(ctx, best, clients, confidence if linked else 0.5)]


_KINDS = ("pvc", "emptyDir", "writable layer")
# A database's error as its clients log it: the disk is the server's, not theirs.
_SERVER_ERROR = re.compile(
    r"SQLSTATE 53100|could not extend file|MISCONF|flood[- ]stage|read-only-allow-delete|"
    r"allow delete \(api\)|Errcode: 28|errno: 28",
    re.I,
)


def _relayed(view: ClusterView, item: Full) -> bool:
    """A client reporting its server's full disk (it has no writable volume of its own)."""
    volume = volume_for(view, item.pod, item.container, item.line)
    return volume.kind == "writable layer" and bool(_SERVER_ERROR.search(item.line))


def _disk_pressure(view: ClusterView, pod: dict) -> bool:
    node = view.node_of(pod)
    return any(
        c.get("type") == "DiskPressure" and c.get("status") == "True"
        for c in ((node or {}).get("status") or {}).get("conditions") or []
    )


def _full_finding(ctx: Context, item: Full, clients: list[Full], confidence: float) -> Finding:
    view = ctx.view
    pod, pod_ref = item.pod, Ref.of(item.pod)
    workload = view.top_owner(pod)
    workload_ref = Ref.of(workload)
    volume = volume_for(view, pod, item.container, item.line)
    evidence = [ctx.cite("previous_log" if item.previous else "log", pod, quote_line(item.line, 400))]
    states = [s for s in container_states(pod) if s.name == item.container]
    state = states[0] if states else None
    status = (
        f" ({state.waiting_reason or ('running' if state.running else 'not running')}, "
        f"restarts {state.restarts}, "
        f"last exit code {state.last_exit_code})"
        if state
        else ""
    )
    parts = [
        f"Container {item.container} of pod {pod_ref.name} ({workload_ref.kind} {workload_ref.name}) "
        "cannot write: "
        f'"{quote_line(item.line, 300)}" [{evidence[0]}]{status}.'
    ]
    contributing: list[Contributing] = []
    if volume.kind == "pvc" and volume.claim is not None:
        claim = volume.claim
        claim_ref = Ref.of(claim)
        capacity = ((claim.get("status") or {}).get("capacity") or {}).get("storage") or (
            ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}
        ).get("storage", "?")
        storage_class = (claim.get("spec") or {}).get("storageClassName") or ""
        sc = view.get("StorageClass", "", storage_class) if storage_class else None
        expandable = bool((sc or {}).get("allowVolumeExpansion"))
        evidence.append(
            ctx.cite(
                "spec",
                claim,
                f"PVC {claim_ref.name}: capacity {capacity}, storageClass {storage_class or 'none'}"
                + (f" (allowVolumeExpansion {expandable})" if sc else "")
                + f", mounted at {volume.mount} (volume {volume.name})",
            )
        )
        parts.append(
            f"The path is on volume {volume.name}, mounted at {volume.mount}, which is PersistentVolumeClaim "
            f"{claim_ref.name} of {capacity} [{evidence[-1]}]: the claim is full (No space left on "
            "device), so every "
            "write fails."
        )
        if re.search(r"pg_wal|xlog", item.line):
            parts.append(
                "The failed write is a WAL segment (pg_wal): PostgreSQL cannot finish recovery without it "
                "and exits "
                "(PANIC); WAL that is never recycled (an inactive replication slot, a failing "
                "archive_command) is the "
                "usual reason it grows."
            )
        primary = claim_ref
        contributing.append(
            Contributing(workload_ref, f"writes to {claim_ref.name}; {status.strip(' ()') or 'affected'}")
        )
        recommendations = pvc_recommendations(view, claim, pod, expandable, capacity)
    else:
        where = (
            f"emptyDir volume {volume.name} at {volume.mount}"
            + (f" (sizeLimit {volume.size_limit})" if volume.size_limit else "")
            if volume.kind == "emptyDir"
            else "the container's writable layer (ephemeral storage)"
        )
        evidence.append(ctx.cite("spec", workload, f"{workload_ref.kind} {workload_ref.name}: {where}"))
        parts.append(
            f"The path is on {where} [{evidence[-1]}], local storage of the node that the pod may fill."
        )
        primary = workload_ref
        recommendations = ephemeral_recommendations(
            workload, item.container, volume.name, volume.size_limit, ""
        )
    if clients:
        client = clients[0]
        evidence.append(ctx.cite("log", client.pod, quote_line(client.line, 300)))
        names = sorted({Ref.of(view.top_owner(c.pod)).name for c in clients})
        parts.append(
            f"Its clients ({', '.join(names)}) get the same error back [{evidence[-1]}] and then fail to "
            "connect."
        )
        contributing += [
            Contributing(Ref.of(view.top_owner(c.pod)), "gets the write errors, then no database")
            for c in clients[:1]
        ]
    node = view.node_of(pod)
    if node is not None:
        pressure: dict = next(
            (
                c
                for c in (node.get("status") or {}).get("conditions") or []
                if c.get("type") == "DiskPressure"
            ),
            {},
        )
        if pressure.get("status") == "False":
            parts.append(
                f"Node {Ref.of(node).name} reports DiskPressure False: the node's disk is fine, the volume "
                "is not."
            )
    return Finding(
        category="volume-full",
        resource=primary,
        confidence=confidence,
        summary=(
            f"{primary.kind} {primary.name} is full (No space left on device): {workload_ref.name} cannot "
            "write" + (f" {volume.mount}" if volume.mount and volume.mount != "/" else "")
        ),
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"volume": volume.kind, "mount": volume.mount},
        recommendations=recommendations,
    )


def _relayed_finding(ctx: Context, own: list[Full], servers: list[dict]) -> list[Finding]:
    """Clients relay "no space" from a server whose logs were not read: its one claim, at 0.75."""
    for server in servers:
        claims = [v for v in pod_spec(server).get("volumes") or [] if "persistentVolumeClaim" in v]
        containers = pod_spec(server).get("containers") or []
        if len(claims) == 1 and containers:
            item = Full(server, containers[0].get("name", ""), own[0].line, False)
            finding = _full_finding(ctx, item, own, 0.75)
            return [finding]
    return []


def _evictions(ctx: Context, pods: list[dict]) -> Finding | None:
    view = ctx.view
    for pod in pods:
        messages = [(pod.get("status") or {}).get("message") or ""] + [
            e.get("message") or "" for e in view.events_for(pod) if e.get("reason") == "Evicted"
        ]
        for message in messages:
            for kind, pattern in _EVICTION:
                match = pattern.search(message)
                if match:
                    return _eviction_finding(ctx, pod, message, kind, match)
    return None


def _eviction_finding(ctx: Context, pod: dict, message: str, kind: str, match: re.Match) -> Finding:
    view = ctx.view
    workload = view.top_owner(pod)
    workload_ref = Ref.of(workload)
    groups = match.groupdict()
    evidence = [ctx.cite("status", pod, f"Evicted: {message.strip()}")]
    what = (
        f"emptyDir volume {groups.get('volume')} exceeds its sizeLimit {groups.get('limit')}"
        if kind == "emptyDir"
        else f"its ephemeral storage exceeds the limit {groups.get('limit')}"
    )
    evicted = [p for p in view.pods_of(workload) if (p.get("status") or {}).get("reason") == "Evicted"]
    parts = [
        f"The kubelet evicted pod {Ref.of(pod).name} of {workload_ref.kind} {workload_ref.name} because "
        f"{what}: "
        f'"{message.strip()}" [{evidence[0]}] ({len(evicted) or 1} evicted pod(s)). The pod fills its '
        "local storage "
        "(logs, caches or files written inside the container) up to the limit set in its own spec; the "
        "node itself "
        "is not short of disk."
    ]
    container = groups.get("container") or ((pod_spec(pod).get("containers") or [{}])[0].get("name", ""))
    return Finding(
        category="volume-full",
        resource=workload_ref,
        confidence=0.9,
        summary=f"{workload_ref.kind} {workload_ref.name}: pods evicted, {what}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=[Contributing(Ref.of(pod), "Evicted")],
        facts={"eviction": kind, "limit": groups.get("limit")},
        recommendations=[
            *ephemeral_recommendations(
                workload, container, groups.get("volume") or "", groups.get("limit") or "", kind
            ),
            kubectl_events(pod),
        ],
    )


def kubectl_events(pod: dict):
    from investigations.engine.kubectl import Recommendation

    ref = Ref.of(pod)
    return Recommendation("See the evictions", "immediate", "", [kubectl.describe(ref), kubectl.events(ref)])
