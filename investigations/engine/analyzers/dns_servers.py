"""The nameservers of dns-resolution-failed: which Service (kube-dns) or hostNetwork DaemonSet (a node-local
cache) answers at the address failing lookups name, which pods serve it, and the configuration error
(and the ConfigMap key behind it) that keeps them from starting.
"""

from __future__ import annotations

import dataclasses
import re

from investigations.engine.evidence import ClusterView, Ref, labels_of
from investigations.engine.facts import container_states, pod_spec
from investigations.engine.name_resolution import Lookup

_CONFIG_ERROR = (
    re.compile(r"(?P<path>/[\w./*-]+):(?P<line>\d+) - Error during parsing: (?P<message>[^\n]+)"),
    re.compile(r"\[FATAL\] (?P<message>plugin/loop: Loop [^\n]+)"),
    re.compile(r"(?P<message>Corefile:(?P<line>\d+) - Error during parsing: [^\n]+)"),
)


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
