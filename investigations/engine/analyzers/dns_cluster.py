"""The cluster DNS side of dns-resolution-failed: the nameserver has no ready endpoint or pod; the
configuration error its pods log names the ConfigMap key (dns_servers), else the DNS workload is
named; a DNS that runs but cannot reach its upstream is dns_upstream's.
"""

from __future__ import annotations

import re

from investigations.engine.analyzers.dns_fixes import dns_recommendations
from investigations.engine.analyzers.dns_servers import Failed, Nameserver, config_error
from investigations.engine.analyzers.dns_upstream import upstream_finding
from investigations.engine.analyzers.helpers import RECENT, quote_line
from investigations.engine.analyzers.policy_changes import change_of
from investigations.engine.analyzers.service_lookup import workloads_matching_selector
from investigations.engine.analyzers.workload_facts import latest_rollout
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref
from investigations.engine.facts import container_states

# CoreDNS plugins removed or renamed, and what replaced them.
_REPLACED = {"proxy": "forward"}


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
        recommendations=dns_recommendations(
            server, primary if primary.kind != "Service" else None, None, "", pods
        ),
    )


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
        recommendations=dns_recommendations(
            server,
            Ref.of(workload) if workload is not None else None,
            configmap,
            key,
            [pod],
            replacement,
            directive.group(1) if directive else "",
        ),
    )
