"""missing-config-key, from the logs: a crashing app names a setting it needs (a missing environment
variable or config key), and the container really does not get it.
"""

from __future__ import annotations

import difflib
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analyzers.workload_facts import (
    change_text,
    crashing_containers,
    diagnose_pod,
    first_of,
    group_by_workload,
    latest_rollout,
    line_with,
    log_text,
    readable_settings,
    shorten,
    spec_of,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref
from investigations.engine.facts import recent_edit
from investigations.engine.kubectl import Recommendation

_MISSING_SETTING = (
    re.compile(
        r"(?:missing|required|undefined|unset)\s+(?:required\s+)?(?:environment variable|env var(?:iable)?|"
        r"setting|config(?:uration)? (?:key|value|option))s?\W+(?P<name>[A-Za-z_][A-Za-z0-9_.]{2,})",
        re.I,
    ),
    re.compile(
        r"(?:environment variable|env var|setting|config key)\W+(?P<name>[A-Z_][A-Z0-9_]{2,})\W+"
        r"(?:is )?(?:not set|missing|required|must be set|undefined)",
        re.I,
    ),
    re.compile(r"\b(?P<name>[A-Z][A-Z0-9_]{2,}) (?:is not set|must be set|is required|is not defined)"),
    re.compile(r"KeyError: '(?P<name>[A-Z][A-Z0-9_]{2,})'"),
)


def missing_setting_in_logs(ctx: Context) -> list[Finding]:
    """A crashing app names a setting it needs, and the container really does not get it."""
    view = ctx.view
    findings = []
    for workload, members in group_by_workload(view, crashing_containers(ctx)):
        text, state, log_kind = log_text(view, members)
        if state is None:
            continue
        match = first_of(m for pattern in _MISSING_SETTING if (m := pattern.search(text)))
        if match is None:
            continue
        setting = match.group("name")
        container = spec_of(view, state.pod, state.name)
        defined = {name for name, _value, _where in readable_settings(view, workload, container)}
        if setting in defined:
            continue  # it is set: a wrong value, not a missing one
        workload_ref, pod_ref = Ref.of(workload), Ref.of(state.pod)
        namespace = workload_ref.namespace
        sources = [
            name
            for source in container.get("envFrom") or []
            if (name := (source.get("configMapRef") or {}).get("name"))
        ]
        configmap = first_of(
            c for name in sources if (c := view.get("ConfigMap", namespace, name)) is not None
        )
        line = line_with(text, match.group(0))
        evidence = [ctx.cite(log_kind, state.pod, line)]
        parts = [
            f"Container {state.name} of {workload_ref.kind} {workload_ref.name} exits (exit code "
            f"{state.last_exit_code}, restarts {state.restarts}) because a setting is missing: "
            f'"{shorten(line, 300)}" [{evidence[0]}].',
            f"Nothing in the container's env, envFrom or mounted ConfigMaps defines {setting}.",
        ]
        contributing = []
        if configmap is not None:
            resource = Ref.of(configmap)
            keys = sorted((configmap.get("data") or {}).keys())
            evidence.append(
                ctx.cite("config", configmap, f"ConfigMap {resource.name} keys: {', '.join(keys)}")
            )
            parts.append(
                f"The container takes its environment from ConfigMap {resource.name}, which has no key "
                f"{setting} "
                f"({', '.join(keys)}) [{evidence[-1]}]."
            )
            similar = difflib.get_close_matches(setting, keys, n=1, cutoff=0.75)
            if similar:
                parts.append(f"A similar key exists: {similar[0]} (key name mismatch).")
            edit = recent_edit(view, configmap)
            if edit:
                evidence.append(
                    ctx.cite("change", configmap, f"ConfigMap {resource.name} {edit.what} {edit.age} ago")
                )
                parts.append(
                    f"What changed: ConfigMap {resource.name} was {edit.what} {edit.age} ago "
                    f"[{evidence[-1]}]."
                )
                contributing.append(Contributing(resource, f"{edit.what} {edit.age} ago"))
            fix = [kx.set_configmap_key(resource, setting, "<value>"), kubectl.rollout_restart(workload_ref)]
        else:
            resource = workload_ref
            fix = [
                f"kubectl {kubectl.ns(workload_ref)}set env {kubectl.resource(workload_ref)} "
                + kubectl.q(f"{setting}=<value>")
            ]
        change = latest_rollout(view, workload, state.pod)
        if change and any(setting in d for d in change.details):
            evidence.append(ctx.cite("change", workload, change_text(change, keep=[setting])))
            parts.append(f"What changed: {change_text(change, keep=[setting])} [{evidence[-1]}].")
            if resource != workload_ref:
                contributing.append(Contributing(workload_ref, change.what))
        findings.append(
            Finding(
                category="missing-config-key",
                resource=resource,
                confidence=0.7 if configmap is not None else 0.6,
                summary=f"{workload_ref.kind} {workload_ref.name} crashes: setting {setting} is not provided"
                + (f" (ConfigMap {resource.name} has no such key)" if configmap is not None else ""),
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"setting": setting},
                recommendations=[
                    Recommendation(
                        f"Provide {setting}",
                        "immediate",
                        "Add the setting where the container reads its configuration, then restart the pods.",
                        fix,
                    ),
                    diagnose_pod(pod_ref, state.name),
                    Recommendation(
                        "Fail fast on config in CI",
                        "preventive",
                        "Validate required settings against the rendered manifests before deploying.",
                        [],
                    ),
                ],
            )
        )
    return findings
