"""dns-resolution-failed when the DNS pods run but the upstream they forward outside names to does not
answer: named from their own logs, for exactly the names the clients fail on.
"""

from __future__ import annotations

import re

from investigations.engine.analyzers.dns_fixes import dns_recommendations
from investigations.engine.analyzers.dns_servers import Failed, Nameserver
from investigations.engine.analyzers.helpers import quote_line
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref
from investigations.engine.facts import container_states, pod_spec

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
                    recommendations=dns_recommendations(server, None, configmap, key, [pod]),
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
