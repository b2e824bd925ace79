"""Workload family: the pod's own container cannot start, crashes, or is probed/limited wrongly.

app-crash, missing-config-key, bad-config-value, liveness-probe-misconfigured,
readiness-probe-misconfigured, image-pull-error, cpu-throttled.

Every decision comes from mechanisms (container states, kubelet messages, events, probe specs,
log lines, env/ConfigMap values against what exists in the cluster, metrics against limits),
never from names. Each analyzer stands down when its symptom is explained by a more specific cause.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.context import Context
from investigations.engine.evidence import (
    ClusterView,
    Contributing,
    Finding,
    Ref,
    human_age,
    parse_quantity,
    parse_time,
)
from investigations.engine.facts import (
    Change,
    ContainerState,
    container_spec,
    container_states,
    pod_spec,
    recent_edit,
    rollout_changes,
    ts,
)
from investigations.engine.kubectl import Recommendation

# -- shared helpers ------------------------------------------------------------------------------

# Something in the logs points at a connection, a dependency or configuration, not at the code.
_DEPENDENCY_SIGNAL = re.compile(
    r"could not translate host name|name or service not known|no such host|ENOTFOUND|EAI_AGAIN|"
    r"UnknownHostException|NXDOMAIN|connection refused|ECONNREFUSED|could not connect|"
    r"failed to connect|i/o timeout|timed out|connection reset|does not support SSL|SSL was required|"
    r"certificate|x509|forbidden|permission denied|authentication failed|access denied|"
    r"missing required|is required|not set|environment variable|KeyError|no such file|"
    r"invalid value|invalid configuration|unknown (?:option|flag|setting)",
    re.I,
)
_CRASH_SIGNATURE = re.compile(
    r"^(?:panic: .*|fatal error: .*|Traceback \(most recent call last\):|Exception in thread .*|"
    r"Unhandled (?:exception|rejection).*|\S*(?:Error|Exception)(?::| \[).*|.*segmentation fault.*|"
    r"\s*at \S+\(\S+\.java:\d+\).*)$",
    re.M,
)
_ERROR_LINE = re.compile(r"\b(?:ERROR|FATAL|FTL|CRITICAL|panic)\b", re.I)
_PROBE_TIMEOUT = re.compile(r"context deadline exceeded|Client\.Timeout|timed out|timeout", re.I)
_KILLED_BY_SIGNAL = (137, 143)
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


def _workload(view: ClusterView, pod: dict) -> dict:
    return view.top_owner(pod)


def _group_by_workload(view: ClusterView, items: Iterable) -> list[tuple[dict, list]]:
    """[(workload, [items…])] keeping first-seen order; items have a .pod or are (pod, …) tuples."""
    groups: list[tuple[dict, list]] = []
    for item in items:
        pod = item.pod if isinstance(item, ContainerState) else item[0]
        owner = _workload(view, pod)
        for existing, members in groups:
            if existing is owner:
                members.append(item)
                break
        else:
            groups.append((owner, [item]))
    return groups


def _events(view: ClusterView, obj: dict, reason: str | None = None, text: str = "") -> list[dict]:
    found = []
    for event in view.events_for(obj):
        if reason and event.get("reason") != reason:
            continue
        if text and text.lower() not in (event.get("message") or "").lower():
            continue
        found.append(event)
    return found


def _count(event: dict) -> int:
    try:
        return int(event.get("count") or (event.get("series") or {}).get("count") or 1)
    except (TypeError, ValueError):
        return 1


def _last_terminated(pod: dict, container: str) -> dict:
    for item in (pod.get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == container:
            return (item.get("lastState") or {}).get("terminated") or {}
    return {}


def _ran_seconds(pod: dict, container: str) -> float | None:
    last = _last_terminated(pod, container)
    start, end = parse_time(last.get("startedAt")), parse_time(last.get("finishedAt"))
    return (end - start).total_seconds() if start and end else None


def _spec_of(view: ClusterView, pod: dict, name: str) -> dict:
    return container_spec(pod, name) or container_spec(_workload(view, pod), name) or {}


def _pod_revision(view: ClusterView, pod: dict) -> tuple[str, str]:
    """(revision, change-cause) of the ReplicaSet that created the pod."""
    owner = view.owner(pod)
    if owner is None or owner.get("kind") != "ReplicaSet":
        return "", ""
    annotations = (owner.get("metadata") or {}).get("annotations") or {}
    return (
        annotations.get("deployment.kubernetes.io/revision", ""),
        annotations.get("kubernetes.io/change-cause", ""),
    )


def _latest_rollout(view: ClusterView, workload: dict, pod: dict | None = None) -> Change | None:
    """The rollout that created `pod`'s revision (or the newest one) when it differs from the last."""
    changes = rollout_changes(view, workload)
    if not changes:
        return None
    if pod is not None:
        revision, _cause = _pod_revision(view, pod)
        for change in changes:
            if str(change.revision) == revision:
                return change
    return changes[0]


def _change_text(change: Change, keep: Iterable[str] | None = None) -> str:
    details = [d for d in change.details if keep is None or any(k in d for k in keep)]
    text = f"{change.what}, {change.age} before the capture ({ts(change.when)})"
    return text + (f": {'; '.join(details[:4])}" if details else "")


def _configmap_names(workload: dict) -> list[str]:
    names = []
    spec = pod_spec(workload)
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for source in container.get("envFrom") or []:
            name = (source.get("configMapRef") or {}).get("name")
            if name:
                names.append(name)
        for variable in container.get("env") or []:
            name = ((variable.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name")
            if name:
                names.append(name)
    for volume in spec.get("volumes") or []:
        name = (volume.get("configMap") or {}).get("name")
        if name:
            names.append(name)
        for source in (volume.get("projected") or {}).get("sources") or []:
            name = (source.get("configMap") or {}).get("name")
            if name:
                names.append(name)
    return list(dict.fromkeys(names))


def _settings(view: ClusterView, workload: dict, container: dict) -> list[tuple[str, str, str]]:
    """(name, value, where) of every readable setting: literal env, ConfigMap env keys, ConfigMap files."""
    namespace = Ref.of(workload).namespace
    out: list[tuple[str, str, str]] = []
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item:
            out.append((name, str(item.get("value")), ""))
            continue
        ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = view.get("ConfigMap", namespace, ref.get("name", ""))
            value = ((cm or {}).get("data") or {}).get(ref.get("key", ""))
            if value is not None:
                out.append((name, str(value), ref.get("name", "")))
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if not ref:
            continue
        cm = view.get("ConfigMap", namespace, ref.get("name", ""))
        prefix = source.get("prefix") or ""
        for key, value in ((cm or {}).get("data") or {}).items():
            out.append((prefix + key, str(value), ref.get("name", "")))
    mounted = set()
    for mount in container.get("volumeMounts") or []:
        mounted.add(mount.get("name"))
    for volume in pod_spec(workload).get("volumes") or []:
        name = (volume.get("configMap") or {}).get("name")
        if name and volume.get("name") in mounted:
            cm = view.get("ConfigMap", namespace, name)
            for key, value in ((cm or {}).get("data") or {}).items():
                out.append((key, str(value), name))
    for index, arg in enumerate((container.get("command") or []) + (container.get("args") or [])):
        out.append((f"args[{index}]", str(arg), ""))
    return out


def _contributing_edits(ctx: Context, workload: dict, only: str | None = None) -> list[tuple[Change, dict]]:
    view = ctx.view
    namespace = Ref.of(workload).namespace
    edits: list[tuple[Change, dict]] = []
    for name in _configmap_names(workload):
        if only and name != only:
            continue
        configmap = view.get("ConfigMap", namespace, name)
        edit = recent_edit(view, configmap) if configmap else None
        if edit and configmap:
            edits.append((edit, configmap))
    return edits


def _first(iterable: Iterable, default=None):
    return next(iter(iterable), default)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _diagnose_pod(pod_ref: Ref, container: str, previous: bool = True) -> Recommendation:
    return Recommendation(
        "Confirm on the pod",
        "immediate",
        "The pod's state, events and the last container's log.",
        [kubectl.describe(pod_ref), kubectl.logs(pod_ref, container, previous=previous)],
    )


# -- missing-config-key --------------------------------------------------------------------------

_MISSING_KEY = re.compile(
    r"couldn't find key (?P<key>\S+) in (?P<kind>ConfigMap|Secret) (?P<ns>[\w.-]+)/(?P<name>[\w.-]+)"
)
_MISSING_OBJECT = re.compile(r"(?P<kind>configmap|secret)s? \"(?P<name>[\w.-]+)\" not found", re.I)


@analyzer("missing-config-key")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def missing_config_key(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    hits: list[tuple[dict, str, str, re.Match]] = []  # (pod, container, message, match)
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.waiting_reason in ("CreateContainerConfigError", "CreateContainerError"):
                match = _MISSING_KEY.search(state.waiting_message) or _MISSING_OBJECT.search(
                    state.waiting_message
                )
                if match:
                    hits.append((pod, state.name, f"{state.waiting_reason}: {state.waiting_message}", match))
        if any(h[0] is pod for h in hits):
            continue
        phase = (pod.get("status") or {}).get("phase")
        if phase not in ("Pending", None, ""):
            continue
        for event in view.events_for(pod):
            if event.get("reason") not in ("Failed", "FailedMount"):
                continue
            message = event.get("message") or ""
            match = _MISSING_KEY.search(message) or _MISSING_OBJECT.search(message)
            if match:
                hits.append((pod, "", f"{event.get('reason')}: {message}", match))
                break
    if not hits:
        return _missing_setting_in_logs(ctx)
    pod, container_name, message, match = hits[0]
    stuck_reason = message.split(":", 1)[0]
    if stuck_reason in ("Failed", "FailedMount"):
        waiting = [st.waiting_reason for st in container_states(pod) if st.waiting_reason]
        stuck_reason = waiting[0] if waiting else "ContainerCreating"
    pod_ref = Ref.of(pod)
    namespace = pod_ref.namespace
    workload = _workload(view, pod)
    workload_ref = Ref.of(workload)
    groups = match.groupdict()
    kind = "ConfigMap" if groups["kind"].lower() == "configmap" else "Secret"
    name = groups["name"]
    key = groups.get("key")
    if groups.get("ns"):
        namespace = groups["ns"]
    resource = Ref(kind, namespace, name)
    affected = sorted({Ref.of(h[0]).name for h in hits if h[3].group("name") == name})
    evidence = [ctx.cite("status", pod, f"{message} (pods: {', '.join(affected[:4])})")]
    failed = [e for e in _events(view, pod) if match.group(0) in (e.get("message") or "")]
    if failed:
        evidence.append(
            ctx.cite(
                "event", pod, f"{failed[-1].get('reason')} x{_count(failed[-1])}: {failed[-1].get('message')}"
            )
        )
    parts = [
        f"The kubelet cannot create container {container_name or 'of the pod'} of {workload_ref.kind} "
        f'{workload_ref.name}: "{match.group(0)}" [{evidence[0]}]'
        + (f", repeated {_count(failed[-1])} times [{evidence[1]}]" if failed else "")
        + f". Pods {', '.join(affected[:4])} stay in {stuck_reason} and never start.",
    ]
    contributing: list[Contributing] = []
    similar: list[str] = []
    recommendations: list[Recommendation] = []
    if key:
        what = f"key {key} is missing from {kind} {name}"
        summary = (
            f"{kind} {namespace}/{name} has no key {key}, which {workload_ref.kind} {workload_ref.name} "
            "requires"
        )
    else:
        what = f"{kind} {name} does not exist in namespace {namespace}"
        summary = f"{kind} {namespace}/{name} not found: {workload_ref.kind} {workload_ref.name} cannot start"
    if kind == "ConfigMap":
        configmap = view.get("ConfigMap", namespace, name)
        if configmap is not None and key:
            keys = sorted(((configmap.get("data") or {}) | (configmap.get("binaryData") or {})).keys())
            similar = difflib.get_close_matches(key, keys, n=2, cutoff=0.75)
            evidence.append(ctx.cite("config", configmap, f"ConfigMap {name} keys: {', '.join(keys)}"))
            parts.append(
                f"ConfigMap {name} exists but does not contain the key {key}; it has {', '.join(keys)} "
                f"[{evidence[-1]}]."
            )
            if similar:
                parts.append(
                    f"A similar key exists: {similar[0]} — the reference and the ConfigMap disagree on the "
                    "key "
                    "name (key name mismatch)."
                )
        elif configmap is None:
            parts.append(f"No ConfigMap named {name} exists in namespace {namespace}.")
    else:
        parts.append(
            f"Secrets are not readable here, but the kubelet's message says {what}; the pod spec references "
            "it "
            "without optional: true."
        )
        parts += _secret_producers(ctx, namespace, name, evidence, contributing)
    referencing = _referencing_variable(workload, kind, name, key)
    if referencing:
        parts.append(f"It is referenced by {referencing} in the pod template.")
    change = _latest_rollout(view, workload, pod)
    if change and (not key or any(key in d or name in d for d in change.details) or not change.details):
        evidence.append(ctx.cite("change", workload, _change_text(change)))
        parts.append(f"What changed: {_change_text(change)} [{evidence[-1]}].")
        contributing.append(
            Contributing(workload_ref, f"{change.what} ({change.age} ago) introduced the reference")
        )
    elif workload.get("kind") != "Pod" and (workload.get("metadata") or {}).get("creationTimestamp"):
        age = view.age_seconds((workload.get("metadata") or {}).get("creationTimestamp"))
        if age is not None and age < 6 * 3600:
            parts.append(
                f"{workload_ref.kind} {workload_ref.name} was created {human_age(age)} before the capture."
            )
            contributing.append(
                Contributing(workload_ref, f"created {human_age(age)} ago referencing {name}")
            )
    if kind == "ConfigMap" and key:
        fix = [kx.set_configmap_key(resource, key, "<value>")]
        if similar:
            fix.insert(0, kx.list_keys(resource))
        recommendations.append(
            Recommendation(
                f"Add key {key} to ConfigMap {name} (or point the reference at the existing key)",
                "immediate",
                f"The container starts as soon as {name} has {key}"
                + (f"; the existing key is {similar[0]}" if similar else "")
                + ". Pods retry by themselves.",
                fix,
            )
        )
    elif kind == "ConfigMap":
        recommendations.append(
            Recommendation(
                f"Create ConfigMap {name} in {namespace}",
                "immediate",
                "The pods retry and start once it exists.",
                [
                    f"kubectl -n {kubectl.q(namespace)} create configmap {kubectl.q(name)} "
                    "--from-literal=KEY=value"
                ],
            )
        )
    else:
        recommendations.append(
            Recommendation(
                f"Make Secret {name} exist in {namespace}",
                "immediate",
                "Fix whatever produces the Secret (its ExternalSecret/SealedSecret or the pipeline), or "
                "create it.",
                [f"kubectl -n {kubectl.q(namespace)} get secret {kubectl.q(name)}"]
                + [
                    kx.describe_custom(c.resource.kind, c.resource.namespace, c.resource.name)
                    for c in contributing
                    if c.resource.kind not in _WORKLOAD_KINDS
                ]
                + [kubectl.events(resource)],
            )
        )
    if change and workload.get("kind") == "Deployment":
        recommendations.append(
            Recommendation(
                "Or roll back the rollout that added the reference",
                "immediate",
                "The previous revision starts without it.",
                [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
            )
        )
    recommendations.append(
        Recommendation(
            "Confirm on the pod",
            "immediate",
            "The kubelet's message in the pod's events (the container never started, so there are no logs).",
            [kubectl.describe(pod_ref), kubectl.events(pod_ref)],
        )
    )
    recommendations.append(
        Recommendation(
            "Validate config references before rollout",
            "preventive",
            "Check in CI that every configMapKeyRef/secretKeyRef exists in the target namespace (or mark "
            "optional), "
            "and alert on CreateContainerConfigError.",
            [],
        )
    )
    explanation = " ".join(parts) + f" Root cause: {what}, so the container is never created."
    return [
        Finding(
            category="missing-config-key",
            resource=resource,
            confidence=0.9,
            summary=summary,
            explanation=explanation,
            evidence=evidence,
            contributing=contributing,
            facts={"kind": kind, "name": name, "key": key, "similar": similar},
            recommendations=recommendations,
        )
    ]


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


def _missing_setting_in_logs(ctx: Context) -> list[Finding]:
    """A crashing app names a setting it needs, and the container really does not get it."""
    view = ctx.view
    findings = []
    for workload, members in _group_by_workload(view, _crashing(ctx)):
        text, state, log_kind = _log_text(view, members)
        if state is None:
            continue
        match = _first(m for pattern in _MISSING_SETTING if (m := pattern.search(text)))
        if match is None:
            continue
        setting = match.group("name")
        container = _spec_of(view, state.pod, state.name)
        defined = {name for name, _value, _where in _settings(view, workload, container)}
        if setting in defined:
            continue  # it is set: a wrong value, not a missing one
        workload_ref, pod_ref = Ref.of(workload), Ref.of(state.pod)
        namespace = workload_ref.namespace
        sources = [
            name
            for source in container.get("envFrom") or []
            if (name := (source.get("configMapRef") or {}).get("name"))
        ]
        configmap = _first(c for name in sources if (c := view.get("ConfigMap", namespace, name)) is not None)
        line = _line_with(text, match.group(0))
        evidence = [ctx.cite(log_kind, state.pod, line)]
        parts = [
            f"Container {state.name} of {workload_ref.kind} {workload_ref.name} exits (exit code "
            f"{state.last_exit_code}, restarts {state.restarts}) because a setting is missing: "
            f'"{_short(line, 300)}" [{evidence[0]}].',
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
        change = _latest_rollout(view, workload, state.pod)
        if change and any(setting in d for d in change.details):
            evidence.append(ctx.cite("change", workload, _change_text(change, keep=[setting])))
            parts.append(f"What changed: {_change_text(change, keep=[setting])} [{evidence[-1]}].")
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
                    _diagnose_pod(pod_ref, state.name),
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


def _referencing_variable(workload: dict, kind: str, name: str, key: str | None) -> str:
    ref_key = "configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"
    for container in pod_spec(workload).get("containers") or []:
        for variable in container.get("env") or []:
            ref = (variable.get("valueFrom") or {}).get(ref_key) or {}
            if ref.get("name") == name and (key is None or ref.get("key") == key):
                return (
                    f"env {variable.get('name')} of container {container.get('name')} ({ref_key} "
                    f"{name}/{ref.get('key')})"
                )
    return ""


def _secret_producers(
    ctx: Context, namespace: str, name: str, evidence: list[str], contributing: list[Contributing]
) -> list[str]:
    """Controllers that should produce the Secret (ExternalSecret, SealedSecret, …) and why they fail."""
    view = ctx.view
    parts = []
    for kind, objects in view.by_kind.items():
        if "secret" not in kind.lower() or kind == "Secret":
            continue
        for obj in objects:
            ref = Ref.of(obj)
            if ref.namespace != namespace:
                continue
            target = ((obj.get("spec") or {}).get("target") or {}).get("name") or ref.name
            if target != name:
                continue
            conditions = (obj.get("status") or {}).get("conditions") or []
            bad = [c for c in conditions if c.get("type") == "Ready" and c.get("status") != "True"]
            failures = [e for e in view.events_for(obj) if e.get("type") == "Warning"]
            if not bad and not failures:
                parts.append(f"{kind} {name} in {namespace} produces it and reports no failure.")
                continue
            detail = ""
            if bad:
                detail = (
                    f"Ready={bad[0].get('status')} {bad[0].get('reason', '')}: {bad[0].get('message', '')}"
                )
            if failures:
                last = failures[-1]
                detail += f"; {last.get('reason')} x{_count(last)}: {last.get('message')}"
            evidence.append(
                ctx.cite("status", obj, f"{kind} {ref.namespace}/{ref.name}: {detail.strip('; ')}")
            )
            parts.append(
                f"The Secret should be created by {kind} {ref.name}, which fails: "
                f"{_short(detail.strip('; '), 500)} "
                f"[{evidence[-1]}]."
            )
            contributing.append(Contributing(ref, _short(detail.strip("; "), 300)))
    if not parts:
        parts = _secret_producer_events(ctx, namespace, name, evidence, contributing)
    return parts


def _secret_producer_events(
    ctx: Context, namespace: str, name: str, evidence: list[str], contributing: list[Contributing]
) -> list[str]:
    """The producer from core Events alone: the agent cannot read custom resources (an ExternalSecret
    is not on its allow-list), but the controller's Warning events about it are ordinary Events."""
    parts = []
    seen = set()
    for event in ctx.view.events_in(namespace):
        involved = event.get("involvedObject") or event.get("regarding") or {}
        kind = involved.get("kind") or ""
        if "secret" not in kind.lower() or kind == "Secret" or event.get("type") != "Warning":
            continue
        if involved.get("name") != name and name not in (event.get("message") or ""):
            continue
        key = (kind, involved.get("name"))
        if key in seen:
            continue
        seen.add(key)
        producer = Ref(kind, namespace, involved.get("name") or name)
        detail = f"{event.get('reason')} x{_count(event)}: {event.get('message')}"
        evidence.append(ctx.cite("event", producer, f"{kind} {producer.name}: {detail}"))
        parts.append(
            f"The Secret should be created by {kind} {producer.name}, whose controller reports "
            f"{_short(detail, 500)} [{evidence[-1]}]."
        )
        contributing.append(Contributing(producer, _short(detail, 300)))
    return parts


# -- image-pull-error ----------------------------------------------------------------------------

_PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
_PULL_KINDS = (
    (
        re.compile(r"not found|NotFound|manifest unknown|does not exist", re.I),
        "the image or tag does not exist",
        0.9,
    ),
    (
        re.compile(r"unauthorized|authentication required|denied|403|no basic auth|pull access", re.I),
        "the registry refuses the credentials",
        0.85,
    ),
    (re.compile(r"toomanyrequests|429|rate limit", re.I), "the registry is rate-limiting pulls", 0.85),
    (
        re.compile(r"i/o timeout|no such host|connection refused|dial tcp|TLS handshake|x509", re.I),
        "the registry is unreachable from the node",
        0.8,
    ),
    (re.compile(r"InvalidImageName|invalid reference format", re.I), "the image reference is malformed", 0.9),
)


@analyzer("image-pull-error")
def image_pull_error(ctx: Context) -> list[Finding]:
    view = ctx.view
    states = [
        s for pod in ctx.in_scope_pods() for s in container_states(pod) if s.waiting_reason in _PULL_REASONS
    ]
    if not states:
        return []
    findings = []
    for workload, members in _group_by_workload(view, states):
        first: ContainerState = members[0]
        pod, pod_ref = first.pod, Ref.of(first.pod)
        workload_ref = Ref.of(workload)
        spec = _spec_of(view, pod, first.name)
        image = spec.get("image") or ""
        for item in (pod.get("status") or {}).get("containerStatuses") or []:
            if item.get("name") == first.name and not image:
                image = item.get("image", "")
        registry, repository, tag = _split_image(image)
        evidence = [
            ctx.cite(
                "status",
                pod,
                f"containers[{first.name}] waiting {first.waiting_reason}: {first.waiting_message} "
                f"(pods: {', '.join(sorted({Ref.of(s.pod).name for s in members})[:4])})",
            )
        ]
        registry_message = ""
        for event in _events(view, pod, "Failed"):
            message = event.get("message") or ""
            lowered = message.lower()
            if "failed to pull" in lowered or ("pulling image" in lowered and "error" in lowered):
                registry_message = message
        if registry_message:
            evidence.append(ctx.cite("event", pod, registry_message))
        cause, confidence = "the image cannot be pulled", 0.7
        for pattern, text, level in _PULL_KINDS:
            if pattern.search(registry_message or first.waiting_message or first.waiting_reason):
                cause, confidence = text, level
                break
        parts = [
            f"Container {first.name} of {workload_ref.kind} {workload_ref.name} is stuck in "
            f"{first.waiting_reason} "
            f"(ErrImagePull/ImagePullBackOff) for image {image} [{evidence[0]}]."
        ]
        if registry_message:
            parts.append(
                f'The registry ({registry or "docker.io"}) answers: "{_short(registry_message, 600)}" '
                f"[{evidence[-1]}]."
            )
        parts.append(f"Cause: {cause} (repository {repository}, tag {tag or 'latest'}).")
        change = _latest_rollout(view, workload, pod)
        previous_image = ""
        contributing = []
        if change:
            image_changes = [d for d in change.details if " image:" in d]
            if image_changes:
                previous_image = image_changes[0].split(": ", 1)[1].split(" → ")[0]
                evidence.append(ctx.cite("change", workload, _change_text(change, keep=[" image:"])))
                parts.append(
                    f"What changed: {_change_text(change, keep=[' image:'])} [{evidence[-1]}]; pods of the "
                    "previous "
                    f"revision run {previous_image} and are healthy."
                )
                contributing.append(
                    Contributing(workload_ref, f"{change.what}: image {previous_image} → {image}")
                )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: image {image} cannot be pulled "
            f"({first.waiting_reason}: {cause})"
        )
        recommendations = []
        if previous_image and workload.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            recommendations.append(
                Recommendation(
                    "Go back to the last image that pulls",
                    "immediate",
                    f"{previous_image} is what the previous revision runs.",
                    [
                        kubectl.rollout_undo(workload_ref),
                        kx.set_image(workload_ref, first.name, previous_image),
                    ],
                )
            )
        recommendations.append(
            Recommendation(
                "Check the image in the registry",
                "immediate",
                f"Confirm that {repository}:{tag or 'latest'} exists in {registry or 'docker.io'} and that "
                "the "
                "nodes may pull it; then fix the tag or push the image.",
                [kubectl.describe(pod_ref), kubectl.events(pod_ref)],
            )
        )
        recommendations.append(
            Recommendation(
                "Deploy only images that exist",
                "preventive",
                "Make the pipeline verify the pushed tag (or deploy by digest) before updating the workload.",
                [],
            )
        )
        findings.append(
            Finding(
                category="image-pull-error",
                resource=workload_ref,
                confidence=confidence,
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"image": image, "registry": registry, "tag": tag},
                recommendations=recommendations,
            )
        )
    return findings


def _split_image(image: str) -> tuple[str, str, str]:
    name, _, digest = image.partition("@")
    registry = ""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    return registry, repository, tag or digest


# -- app-crash -----------------------------------------------------------------------------------


def _crashing(ctx: Context) -> list[ContainerState]:
    out = []
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.last_reason == "OOMKilled" or state.terminated_reason == "OOMKilled":
                continue
            code = state.last_exit_code
            crash_loop = state.waiting_reason == "CrashLoopBackOff"
            if code in (None, 0) and not crash_loop:
                continue
            if state.restarts < 1 and not crash_loop:
                continue
            out.append(state)
    return out


def _crash_excerpt(log: str) -> tuple[str, str]:
    """(error line, code location) of the first crash in a log, or ('', '')."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("panic: ", "fatal error: ")):
            location = ""
            for offset, follow in enumerate(lines[index + 1 : index + 12], start=index + 1):
                if follow.startswith(("goroutine ", "[", "\t")) or "(" not in follow:
                    continue
                location = re.sub(r"\(0x[0-9a-f, x.]*\)$", "", follow.strip())
                nxt = lines[offset + 1].strip() if offset + 1 < len(lines) else ""
                if nxt:
                    location += f" at {nxt.split(' +')[0]}"
                break
            return stripped, location
    python = [line for line in lines if re.match(r"^[\w.]+(?:Error|Exception|Exit)\b.*:", line.strip())]
    if any("Traceback (most recent call last)" in line for line in lines) and python:
        frames = [f.strip() for f in lines if f.strip().startswith('File "') and "site-packages" not in f]
        return python[-1].strip(), (frames[-1] if frames else "")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("Exception in thread") or re.match(
            r"^[\w.$]+(?:Exception|Error)(?::|$)", stripped
        ):
            frame = _first(f.strip() for f in lines[index + 1 : index + 20] if f.strip().startswith("at "))
            return stripped, frame or ""
    for line in lines:
        if re.search(r"Unhandled|uncaught|segmentation fault", line, re.I):
            return line.strip(), ""
    return "", ""


@analyzer("app-crash")
def app_crash(ctx: Context) -> list[Finding]:
    view = ctx.view
    findings = []
    for workload, members in _group_by_workload(view, _crashing(ctx)):
        workload_ref = Ref.of(workload)
        codes = [s.last_exit_code for s in members if s.last_exit_code is not None]
        if codes and all(code in _KILLED_BY_SIGNAL for code in codes):
            continue  # killed from outside (SIGKILL/SIGTERM): not the program failing on its own
        if any(_events(view, s.pod, "Killing", "liveness") for s in members):
            continue
        crashing = [s for s in members if s.last_exit_code not in _KILLED_BY_SIGNAL]
        first = crashing[0]
        pod, pod_ref = first.pod, Ref.of(first.pod)
        logs = {
            Ref.of(s.pod).name: view.log(s.pod, s.name, previous=True) or view.log(s.pod, s.name)
            for s in crashing
        }
        text = "\n".join(logs.values())
        error, location = _crash_excerpt(text)
        dependency = _DEPENDENCY_SIGNAL.search(text)
        if error and not dependency:
            confidence = 0.6
        elif _ERROR_LINE.search(text) and not dependency:
            confidence = 0.4
            error = (
                error or _first(line.strip() for line in text.splitlines() if _ERROR_LINE.search(line)) or ""
            )
        else:
            confidence = 0.3
        code = first.last_exit_code
        spec = _spec_of(view, pod, first.name)
        image = spec.get("image", "")
        _registry, _repository, tag = _split_image(image)
        pods_text = ", ".join(f"{Ref.of(s.pod).name} (restarts {s.restarts})" for s in crashing[:4])
        evidence = [
            ctx.cite(
                "status",
                pod,
                f"containers[{first.name}] {first.waiting_reason or 'restarting'}; lastState.terminated "
                f"reason={first.last_reason or 'Error'} exitCode={code} on {pods_text}",
            )
        ]
        parts = [
            f"Container {first.name} of {workload_ref.kind} {workload_ref.name} keeps crashing: it exits "
            "with exit "
            f"code {code} (reason {first.last_reason or 'Error'}, not OOMKilled, not killed by a probe) and "
            "is "
            f"restarted in CrashLoopBackOff [{evidence[0]}]."
        ]
        if error:
            excerpt = error + (f" — {location}" if location else "")
            evidence.append(ctx.cite("previous_log", pod, excerpt))
            parts.append(
                f'The previous container\'s log ends with the crash: "{_short(excerpt, 500)}" '
                f"[{evidence[-1]}]."
            )
        if dependency:
            parts.append(
                f'The log also mentions "{dependency.group(0)}", which points at a dependency or '
                "configuration "
                "problem rather than a code bug."
            )
        elif error:
            parts.append(
                "Before the crash the log shows a normal start (no connection or configuration errors): the "
                "program "
                "itself fails, a bug in the code running on valid config."
            )
        contributing = []
        change = _latest_rollout(view, workload, pod)
        if change and change.details:
            evidence.append(ctx.cite("change", workload, _change_text(change)))
            parts.append(
                f"What changed: {_change_text(change)} [{evidence[-1]}]; the crashes start with this "
                "revision "
                f"(image {tag or image})."
            )
            contributing.append(Contributing(workload_ref, f"{change.what} ({change.age} ago)"))
        elif tag:
            parts.append(f"Image: {image}.")
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: {first.name} {tag or ''} crashes with exit code {code}"
            + (f": {_short(error, 160)}" if error else "")
        )
        recommendations = []
        if change and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Roll back to the last working revision",
                    "immediate",
                    f"The crashes begin with {change.what}; revision {change.previous_revision} ran without "
                    "them.",
                    [
                        kubectl.rollout_history(workload_ref),
                        kubectl.rollout_undo(workload_ref, change.previous_revision),
                        kubectl.rollout_status(workload_ref),
                    ],
                )
            )
        recommendations.append(_diagnose_pod(pod_ref, first.name))
        recommendations.append(
            Recommendation(
                "Fix the bug and guard the release",
                "preventive",
                "Reproduce with the crashing input, add a test, and use a canary/progressive rollout that "
                "stops on restarts.",
                [],
            )
        )
        findings.append(
            Finding(
                category="app-crash",
                resource=workload_ref,
                confidence=confidence,
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"exit_code": code, "error": error, "location": location},
                recommendations=recommendations,
            )
        )
    return findings


# -- bad-config-value ----------------------------------------------------------------------------

_DNS_FAILURE = (
    re.compile(r"could not translate host name \"(?P<host>[\w.-]+)\""),
    re.compile(r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)"),
    re.compile(r"lookup (?P<host>[\w.-]+)(?: on [\d.:]+)?: no such host"),
    re.compile(r"UnknownHostException: (?P<host>[\w.-]+)"),
    re.compile(r"(?P<host>[\w.-]+): (?:Name or service not known|nodename nor servname provided)"),
)
_SSL_MISMATCH = re.compile(
    r"server does not support SSL|SSL is not enabled on the server|SSL was required|"
    r"SSL SYSCALL error|wrong version number|tls: first record does not look like a TLS handshake",
    re.I,
)
_SERVER_AT = re.compile(r"(?:server at \"?|host=)(?P<host>[a-zA-Z][\w.-]*)")
_REFUSED = (
    re.compile(r"dial tcp (?P<host>[\w.-]+):(?P<port>\d+): connect: connection refused"),
    re.compile(r"connect ECONNREFUSED (?P<host>[\w.-]+):(?P<port>\d+)"),
    re.compile(
        r"server at \"(?P<host>[\w.-]+)\"(?: \([\d.]+\))?, port (?P<port>\d+) failed: Connection refused"
    ),
)
_SSL_OFF = re.compile(r"^\s*ssl\s*=\s*'?(off|false|0)'?", re.I | re.M)


def _log_text(view: ClusterView, states: list[ContainerState]) -> tuple[str, ContainerState | None, str]:
    for state in states:
        for previous in (True, False):
            text = view.log(state.pod, state.name, previous=previous)
            if text:
                return text, state, "previous_log" if previous else "log"
    return "", None, ""


def _line_with(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle.lower() in line.lower():
            return line.strip()
    return needle


def _service_for_host(view: ClusterView, host: str, namespace: str) -> tuple[dict | None, str, str]:
    """(Service, service name, namespace) a cluster hostname designates; Service None when absent."""
    if re.fullmatch(r"[\d.]+", host):
        for service in view.all("Service"):
            if (service.get("spec") or {}).get("clusterIP") == host:
                ref = Ref.of(service)
                return service, ref.name, ref.namespace
        return None, "", ""
    labels = host.split(".")
    name = labels[0]
    target_ns = namespace
    if len(labels) >= 2 and (len(labels) == 2 or labels[2] == "svc"):
        target_ns = labels[1]
    elif len(labels) > 2:
        return None, "", ""  # an external name: not a Service of this cluster
    return view.get("Service", target_ns, name), name, target_ns


@analyzer("bad-config-value")
def bad_config_value(ctx: Context) -> list[Finding]:
    view = ctx.view
    findings = []
    candidates = _crashing(ctx)
    not_ready = [
        s
        for pod in ctx.in_scope_pods()
        for s in container_states(pod)
        if not s.ready and s.running and s not in candidates
    ]
    for workload, members in _group_by_workload(view, candidates + not_ready):
        text, state, log_kind = _log_text(view, members)
        if not text or state is None:
            continue
        finding = (
            _dns_value(ctx, workload, state, text, log_kind)
            or _ssl_value(ctx, workload, state, text, log_kind)
            or _port_value(ctx, workload, state, text, log_kind)
        )
        if finding:
            findings.append(finding)
    return findings


def _holder(view: ClusterView, workload: dict, container: dict, predicate) -> tuple[str, str, str] | None:
    for name, value, where in _settings(view, workload, container):
        if predicate(name, value):
            return name, value, where
    return None


def _value_finding(
    ctx: Context,
    workload: dict,
    state: ContainerState,
    holder: tuple[str, str, str],
    *,
    summary: str,
    parts: list[str],
    evidence: list[str],
    confidence: float,
    fix_value: str | None,
) -> Finding:
    view = ctx.view
    workload_ref = Ref.of(workload)
    variable, value, where = holder
    namespace = workload_ref.namespace
    resource = Ref("ConfigMap", namespace, where) if where else workload_ref
    configmap = view.get("ConfigMap", namespace, where) if where else None
    contributing = []
    if configmap is not None:
        evidence.append(ctx.cite("config", configmap, f"ConfigMap {where}: {variable}={value}"))
        parts.append(f"The value comes from ConfigMap {where} ({variable}={value}) [{evidence[-1]}].")
        edit = recent_edit(view, configmap)
        if edit:
            evidence.append(
                ctx.cite("change", configmap, f"ConfigMap {where} {edit.what} at {ts(edit.when)}")
            )
            parts.append(
                f"What changed: ConfigMap {where} was {edit.what} {edit.age} before the capture "
                f"({ts(edit.when)}) "
                f"[{evidence[-1]}]."
            )
            contributing.append(
                Contributing(Ref.of(configmap), f"{edit.what} {edit.age} ago ({variable}={value})")
            )
    else:
        evidence.append(ctx.cite("spec", workload, f"containers[{state.name}] {variable}={value}"))
        parts.append(f"The value is set in the pod template: {variable}={value} [{evidence[-1]}].")
    change = _latest_rollout(view, workload, state.pod)
    if change:
        evidence.append(ctx.cite("change", workload, _change_text(change)))
        parts.append(
            f"Rollout: {_change_text(change)} [{evidence[-1]}]; pods started before it run the old value."
        )
        if resource != workload_ref:
            contributing.append(
                Contributing(workload_ref, f"{change.what} ({change.age} ago) picked up the value")
            )
    pod_ref = Ref.of(state.pod)
    fix = []
    if configmap is not None and fix_value is not None:
        fix.append(kx.set_configmap_key(resource, variable, fix_value))
    elif configmap is not None:
        fix.append(kubectl.edit(resource))
    else:
        fix.append(
            f"kubectl {kubectl.ns(workload_ref)}set env {kubectl.resource(workload_ref)} "
            + kubectl.q(f"{variable}={fix_value or '<value>'}")
        )
    if workload.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        fix.append(kubectl.rollout_restart(workload_ref))
    recommendations = [
        Recommendation(
            f"Correct {variable}" + (f" to {fix_value}" if fix_value else ""),
            "immediate",
            f"{variable}={value} is wrong for this cluster; fix it where it is defined and restart the pods.",
            fix,
        ),
        _diagnose_pod(pod_ref, state.name),
        Recommendation(
            "Review config changes like code",
            "preventive",
            "Keep the ConfigMap in Git, validate hosts/ports/flags against the target environment in CI, "
            "and avoid "
            "kubectl edit in production.",
            [],
        ),
    ]
    return Finding(
        category="bad-config-value",
        resource=resource,
        confidence=confidence,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"variable": variable, "value": value, "source": where},
        recommendations=recommendations,
    )


def _dns_value(
    ctx: Context, workload: dict, state: ContainerState, text: str, log_kind: str
) -> Finding | None:
    view = ctx.view
    for pattern in _DNS_FAILURE:
        match = pattern.search(text)
        if match:
            break
    else:
        return None
    host = match.group("host")
    namespace = Ref.of(workload).namespace
    service, name, target_ns = _service_for_host(view, host, namespace)
    if service is not None or not name:
        return None  # the Service exists (a DNS outage, not a value) or an external name we cannot judge
    container = _spec_of(view, state.pod, state.name)
    holder = _holder(view, workload, container, lambda _n, v: host.lower() in v.lower())
    if holder is None:
        return None
    existing = sorted(Ref.of(s).name for s in view.all("Service", target_ns))
    close = difflib.get_close_matches(name, existing, n=1, cutoff=0.5)
    line = _line_with(text, match.group(0))
    evidence = [ctx.cite(log_kind, state.pod, line)]
    workload_ref = Ref.of(workload)
    parts = [
        f'{workload_ref.kind} {workload_ref.name} cannot start: "{_short(line, 400)}" [{evidence[0]}] '
        f"(DNS resolution failed, exit code {state.last_exit_code}, restarts {state.restarts}).",
        f"{holder[0]} is set to {holder[1]}, but there is no Service {name} in namespace {target_ns}",
    ]
    evidence.append(
        ctx.cite(
            "endpoints", Ref("Service", target_ns, name), f"Services in {target_ns}: {', '.join(existing)}"
        )
    )
    parts[-1] += f"; the namespace has {', '.join(existing) or 'no Services'} [{evidence[-1]}]."
    fix_value = None
    if close:
        fix_value = holder[1].replace(name, close[0], 1) if "." in host else close[0]
        healthy = view.get("Service", target_ns, close[0])
        ready, _not_ready = view.endpoints(healthy) if healthy else (0, 0)
        parts.append(
            f"The existing Service {close[0]} ({close[0]}.{target_ns}.svc.cluster.local, {ready} ready "
            "endpoints) "
            "is what the setting should name."
        )
    summary = (
        f"{holder[0]}={holder[1]} names a host that does not exist (no Service {name} in {target_ns}); "
        f'{workload_ref.kind} {workload_ref.name} crash-loops on "could not translate host name"'
        if "could not translate host name" in line
        else f"{holder[0]}={holder[1]} names a host that does not exist (no Service {name} in {target_ns})"
    )
    return _value_finding(
        ctx,
        workload,
        state,
        holder,
        summary=summary,
        parts=parts,
        evidence=evidence,
        confidence=0.8,
        fix_value=fix_value,
    )


def _ssl_value(
    ctx: Context, workload: dict, state: ContainerState, text: str, log_kind: str
) -> Finding | None:
    view = ctx.view
    match = _SSL_MISMATCH.search(text)
    if not match:
        return None
    container = _spec_of(view, state.pod, state.name)
    holder = _holder(
        view,
        workload,
        container,
        lambda n, v: (
            ("ssl" in n.lower() and v.strip().lower() in ("require", "verify-ca", "verify-full", "true", "1"))
            or re.search(r"sslmode=(require|verify-ca|verify-full)", v, re.I) is not None
        ),
    )
    if holder is None:
        return None
    line = _line_with(text, match.group(0))
    evidence = [ctx.cite(log_kind, state.pod, line)]
    workload_ref = Ref.of(workload)
    parts = [
        f"{workload_ref.kind} {workload_ref.name} exits (exit code {state.last_exit_code}, restarts "
        f"{state.restarts}) "
        f'because the TLS setting does not match the server: "{_short(line, 400)}" [{evidence[0]}].',
        f"The client is configured with {holder[0]}={holder[1]} (SSL required).",
    ]
    confidence = 0.7
    server = _SERVER_AT.search(line) or _SERVER_AT.search(text)
    if server:
        service, _name, _ns = _service_for_host(view, server.group("host"), workload_ref.namespace)
        if service is not None:
            for pod in view.pods_selected_by(service)[:1]:
                owner = _workload(view, pod)
                for cm_name in _configmap_names(owner):
                    configmap = view.get("ConfigMap", Ref.of(owner).namespace, cm_name) or {}
                    for key, value in (configmap.get("data") or {}).items():
                        off = _SSL_OFF.search(str(value))
                        if off:
                            evidence.append(
                                ctx.cite(
                                    "config", configmap, f"ConfigMap {cm_name} {key}: {off.group(0).strip()}"
                                )
                            )
                            parts.append(
                                f"The server {Ref.of(owner).kind} {Ref.of(owner).name} (behind Service "
                                f"{Ref.of(service).name}) runs with {off.group(0).strip()} from ConfigMap "
                                f"{cm_name} "
                                f"[{evidence[-1]}]: the database has no TLS, so {holder[0]}={holder[1]} can "
                                "never succeed."
                            )
                            confidence = 0.8
                            break
    fix_value = "disable" if holder[1].strip().lower() in ("require", "verify-ca", "verify-full") else None
    parts.append(
        "The database itself is up; the client's SSL mode is the wrong value (or enable TLS on the server)."
    )
    summary = (
        f"{holder[0]}={holder[1]} requires SSL but the server does not support SSL: {workload_ref.kind} "
        f"{workload_ref.name} cannot connect"
    )
    return _value_finding(
        ctx,
        workload,
        state,
        holder,
        summary=summary,
        parts=parts,
        evidence=evidence,
        confidence=confidence,
        fix_value=fix_value,
    )


def _port_value(
    ctx: Context, workload: dict, state: ContainerState, text: str, log_kind: str
) -> Finding | None:
    view = ctx.view
    for pattern in _REFUSED:
        match = pattern.search(text)
        if match:
            break
    else:
        return None
    host, port = match.group("host"), int(match.group("port"))
    service, name, _target_ns = _service_for_host(view, host, Ref.of(workload).namespace)
    if service is None:
        return None
    ready, _not_ready = view.endpoints(service)
    ports = [p.get("port") for p in (service.get("spec") or {}).get("ports") or []]
    if ready == 0 or port in ports:
        return None  # no endpoints: the dependency is down; same port: the Service's own wiring
    container = _spec_of(view, state.pod, state.name)
    holder = _holder(view, workload, container, lambda _n, v: v.strip() == str(port) or f":{port}" in v)
    if holder is None:
        return None
    line = _line_with(text, match.group(0))
    evidence = [ctx.cite(log_kind, state.pod, line)]
    evidence.append(ctx.cite("endpoints", service, f"Service {name} ports {ports}, {ready} ready endpoints"))
    workload_ref = Ref.of(workload)
    parts = [
        f"{workload_ref.kind} {workload_ref.name} connects to {host}:{port} and gets connection refused "
        f'"{_short(line, 300)}" [{evidence[0]}].',
        f"Service {name} is healthy ({ready} ready endpoints) but listens on port(s) {ports}, not {port} "
        f"[{evidence[1]}].",
    ]
    fix_value = holder[1].replace(str(port), str(ports[0]), 1) if ports else None
    summary = f"{holder[0]}={holder[1]} points at port {port}; Service {name} serves {ports}"
    return _value_finding(
        ctx,
        workload,
        state,
        holder,
        summary=summary,
        parts=parts,
        evidence=evidence,
        confidence=0.8,
        fix_value=fix_value,
    )


# -- probes --------------------------------------------------------------------------------------


def _probe_port(probe: dict) -> tuple[object, str]:
    for kind in ("httpGet", "tcpSocket", "grpc"):
        if kind in probe:
            return (probe.get(kind) or {}).get("port"), kind
    return None, "exec" if "exec" in probe else ""


def _resolve_port(container: dict, port: object) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for item in container.get("ports") or []:
        if item.get("name") == port:
            return item.get("containerPort")
    return None


def _ports_text(container: dict) -> str:
    return ", ".join(
        f"{p.get('containerPort')}" + (f" ({p.get('name')})" if p.get("name") else "")
        for p in container.get("ports") or []
    )


def _probe_text(probe: dict) -> str:
    port, kind = _probe_port(probe)
    path = (probe.get("httpGet") or {}).get("path", "")
    return (
        f"{kind} {path} port {port}, initialDelaySeconds {probe.get('initialDelaySeconds', 0)}, "
        f"periodSeconds {probe.get('periodSeconds', 10)}, timeoutSeconds {probe.get('timeoutSeconds', 1)}, "
        f"failureThreshold {probe.get('failureThreshold', 3)}"
    )


_STARTED_IN = re.compile(
    r"(?:Started \S+|started|startup (?:complete|finished|took)|ready)\D{0,20}?"
    r"in (?P<s>\d+(?:\.\d+)?) ?(?:s\b|sec|seconds)",
    re.I,
)
_LISTENING = re.compile(r"listening\W+(?:on\W+)?(?:addr\W+)?(?:[\w.\[\]]*):(?P<port>\d{2,5})", re.I)


@analyzer("liveness-probe-misconfigured")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def liveness_probe_misconfigured(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    killed = []
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.restarts < 1 or "OOMKilled" in (state.last_reason, state.terminated_reason):
                continue
            kills = [
                e for e in _events(view, pod, "Killing") if "liveness" in (e.get("message") or "").lower()
            ]
            failures = _events(view, pod, "Unhealthy", "Liveness probe failed")
            if kills or (failures and state.last_exit_code in _KILLED_BY_SIGNAL):
                killed.append((pod, state, kills, failures))
    findings = []
    for workload, members in _group_by_workload(view, killed):
        pod, state, kills, failures = members[0]
        workload_ref, pod_ref = Ref.of(workload), Ref.of(pod)
        container = _spec_of(view, pod, state.name)
        probe = container.get("livenessProbe") or {}
        if not probe:
            continue
        startup = container.get("startupProbe")
        budget = int(probe.get("initialDelaySeconds", 0)) + int(probe.get("periodSeconds", 10)) * int(
            probe.get("failureThreshold", 3)
        )
        evidence = []
        if kills:
            evidence.append(
                ctx.cite("event", pod, f"Killing x{_count(kills[-1])}: {kills[-1].get('message')}")
            )
        if failures:
            evidence.append(
                ctx.cite("event", pod, f"Unhealthy x{_count(failures[-1])}: {failures[-1].get('message')}")
            )
        ran = _ran_seconds(pod, state.name)
        evidence.append(
            ctx.cite(
                "status",
                pod,
                f"restartCount {state.restarts}, lastState.terminated exitCode {state.last_exit_code}"
                + (f" after {int(ran)} s" if ran is not None else ""),
            )
        )
        code = state.last_exit_code
        signal = {143: "SIGTERM", 137: "SIGKILL"}.get(code or 0, "")
        parts = [
            f"The kubelet restarts container {state.name} of {workload_ref.kind} {workload_ref.name} "
            "because its "
            f"liveness probe fails ({'; '.join(f'[{e}]' for e in evidence[:-1])}): the container is stopped "
            "with exit code "
            f"{code}{f' ({signal})' if signal else ''}"
            + (f" after running {int(ran)} s" if ran is not None else "")
            + f", restartCount {state.restarts} [{evidence[-1]}].",
            f"livenessProbe: {_probe_text(probe)} — it gives the app about {budget} s (initialDelaySeconds "
            f"{probe.get('initialDelaySeconds', 0)} + {probe.get('failureThreshold', 3)} x "
            f"{probe.get('periodSeconds', 10)} s) before the first restart, and there is "
            + ("no startupProbe." if not startup else f"a startupProbe ({_probe_text(startup)})."),
        ]
        previous = view.log(pod, state.name, previous=True)
        error, _location = _crash_excerpt(previous)
        confidence = 0.7 if previous and not error else 0.55
        if previous and not error:
            tail = _first(reversed([line for line in previous.splitlines() if line.strip()]), "")
            evidence.append(
                ctx.cite("previous_log", pod, f"last line before the restart: {_short(tail, 300)}")
            )
            parts.append(
                f"The killed container's log shows a normal startup cut off, no exception [{evidence[-1]}]: "
                "the app is "
                "healthy but still starting (slow startup) when the probe kills it."
            )
        elif error:
            parts.append(f'The killed container logged an error before the kill: "{_short(error, 200)}".')
        startup_seconds = None
        startup_text = ""
        for other in view.pods_of(workload) or [pod]:
            for candidate in (view.log(other, state.name), view.log(other, state.name, previous=True)):
                found = _STARTED_IN.search(candidate or "")
                if found:
                    startup_text = found.group("s")
                    startup_seconds = float(startup_text)
                    evidence.append(ctx.cite("log", other, _line_with(candidate, found.group(0))))
                    break
            if startup_seconds:
                break
        if startup_seconds:
            parts.append(
                f"A pod that did start needed {startup_text} seconds (~{int(startup_seconds)}s) to start "
                f"[{evidence[-1]}] — longer than the ~{budget} s the liveness probe allows."
            )
            if startup_seconds > budget and not error:
                confidence += 0.1
        contributing = []
        change = _latest_rollout(view, workload, pod)
        if change:
            probe_changes = [d for d in change.details if "livenessProbe" in d or "startupProbe" in d]
            if probe_changes:
                evidence.append(ctx.cite("change", workload, _change_text(change, keep=["Probe"])))
                parts.append(
                    f"What changed: {_change_text(change, keep=['livenessProbe', 'startupProbe'])} "
                    f"[{evidence[-1]}]."
                )
                contributing.append(
                    Contributing(workload_ref, f"{change.what}: {'; '.join(probe_changes)[:300]}")
                )
                confidence += 0.05
        if _cpu_saturated(view, pod, state.name):
            confidence = min(confidence, 0.5)
            parts.append("CPU usage is at its limit, so throttling may be what slows the probe.")
        confidence = min(confidence, 0.85)
        wanted = max(int((startup_seconds or budget) * 1.5), budget + 60)
        period = int(probe.get("periodSeconds", 10)) or 10
        startup_probe = {
            "startupProbe": {
                **{k: v for k, v in probe.items() if k in ("httpGet", "tcpSocket", "grpc", "exec")},
                "periodSeconds": period,
                "failureThreshold": -(-wanted // period),
            }
        }
        recommendations = [
            Recommendation(
                "Give the app time to start: add a startupProbe",
                "immediate",
                f"A startupProbe allowing ~{wanted} s holds off the liveness probe until the app is up.",
                [kx.container_patch(workload_ref, state.name, startup_probe)],
            ),
        ]
        if contributing and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Or roll back the probe change",
                    "immediate",
                    "The previous revision's probes let the app start.",
                    [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
                )
            )
        recommendations.append(_diagnose_pod(pod_ref, state.name))
        recommendations.append(
            Recommendation(
                "Size probes from measured startup time",
                "preventive",
                "Use startupProbes for slow starters; keep liveness cheap and tolerant (it restarts, it "
                "does not route).",
                [],
            )
        )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: the liveness probe kills container {state.name} "
            f"(exit code {code}) before it finishes starting"
            + (f" (~{int(startup_seconds)}s startup vs ~{budget}s allowed)" if startup_seconds else "")
        )
        findings.append(
            Finding(
                category="liveness-probe-misconfigured",
                resource=workload_ref,
                confidence=confidence,
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"budget": budget, "startup_seconds": startup_seconds, "exit_code": code},
                recommendations=recommendations,
            )
        )
    return findings


_READINESS = re.compile(r"Readiness probe failed: (?P<msg>.*)", re.S)


@analyzer("readiness-probe-misconfigured")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def readiness_probe_misconfigured(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    stuck = []
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.ready or not state.running or state.restarts > 0:
                continue
            failures = [
                e for e in _events(view, pod, "Unhealthy") if _READINESS.search(e.get("message") or "")
            ]
            if failures and sum(_count(e) for e in failures) >= 3:
                stuck.append((pod, state, failures))
    findings = []
    for workload, members in _group_by_workload(view, stuck):
        pod, state, failures = members[0]
        workload_ref, pod_ref = Ref.of(workload), Ref.of(pod)
        container = _spec_of(view, pod, state.name)
        probe = container.get("readinessProbe") or {}
        port_value, probe_kind = _probe_port(probe)
        if not probe or probe_kind not in ("httpGet", "tcpSocket", "grpc"):
            continue
        port = _resolve_port(container, port_value)
        declared = [p.get("containerPort") for p in container.get("ports") or []]
        message = failures[-1].get("message") or ""
        refused = "connection refused" in message.lower()
        status = re.search(r"statuscode: (\d+)", message)
        log = view.log(pod, state.name)
        listening = sorted({int(m.group("port")) for m in _LISTENING.finditer(log)})
        problem = ""
        confidence = 0.0
        if refused and port is not None and port not in declared and (declared or listening):
            problem = f"port {port} is not a port the container listens on"
            confidence = 0.8 if (listening and port not in listening) or declared else 0.7
        elif refused and port is not None and listening and port not in listening:
            problem = f"port {port} is not where the app listens"
            confidence = 0.75
        elif status and status.group(1) == "404":
            problem = f"path {(probe.get('httpGet') or {}).get('path')} does not exist (HTTP 404)"
            confidence = 0.7
        if not problem:
            continue
        if _DEPENDENCY_SIGNAL.search(log or "") and not listening:
            confidence -= 0.2
        total = sum(_count(e) for e in failures)
        affected = sorted({Ref.of(m[0]).name for m in members})
        evidence = [ctx.cite("event", pod, f"Unhealthy x{total}: {message}")]
        evidence.append(
            ctx.cite(
                "spec",
                workload,
                f"containers[{state.name}].readinessProbe {_probe_text(probe)}; containerPorts "
                f"{_ports_text(container)}",
            )
        )
        readiness = _READINESS.search(message)  # every failure kept above matched it
        probe_error = readiness.group("msg") if readiness else message
        parts = [
            f"Pods {', '.join(affected[:4])} of {workload_ref.kind} {workload_ref.name} run (restartCount "
            "0) but never "
            f'become Ready: "Readiness probe failed: {_short(probe_error, 300)}" '
            f"x{total} [{evidence[0]}].",
            f"The readiness probe checks {_probe_text(probe)}, while the container ports are "
            f"{_ports_text(container)} "
            f"[{evidence[1]}]: {problem}.",
        ]
        if listening:
            line = _first(line for line in log.splitlines() if _LISTENING.search(line)) or ""
            evidence.append(
                ctx.cite("log", pod, "\n".join(x for x in log.splitlines() if _LISTENING.search(x))[:600])
            )
            parts.append(
                f"The app itself is healthy and listening on {', '.join(map(str, listening))} "
                f"[{evidence[-1]}] "
                f'("{_short(line, 200)}"), so the probe fails only because it asks the wrong place.'
            )
        liveness = container.get("livenessProbe") or {}
        if liveness:
            parts.append(f"The liveness probe ({_probe_text(liveness)}) succeeds: no restarts.")
        contributing = []
        change = _latest_rollout(view, workload, pod)
        if change:
            probe_changes = [d for d in change.details if "readinessProbe" in d or "ports" in d]
            if probe_changes:
                evidence.append(
                    ctx.cite("change", workload, _change_text(change, keep=["readinessProbe", "ports"]))
                )
                parts.append(
                    f"What changed: {_change_text(change, keep=['readinessProbe', 'ports'])} "
                    f"[{evidence[-1]}]; "
                    "the rollout is stuck because the new pods never become Ready."
                )
                contributing.append(
                    Contributing(workload_ref, f"{change.what}: {'; '.join(probe_changes)[:300]}")
                )
                confidence += 0.05
        good_port = _first(p for p in listening if p in declared) or _first(declared)
        named = _first(
            p.get("name")
            for p in container.get("ports") or []
            if p.get("containerPort") == good_port and p.get("name")
        )
        fixed_probe = None
        if "httpGet" in probe and good_port and "port" in problem:
            fixed_probe = {"readinessProbe": {"httpGet": {**probe["httpGet"], "port": named or good_port}}}
        elif "tcpSocket" in probe and good_port and "port" in problem:
            fixed_probe = {"readinessProbe": {"tcpSocket": {"port": named or good_port}}}
        recommendations = []
        if fixed_probe:
            recommendations.append(
                Recommendation(
                    f"Point the readiness probe at port {named or good_port}",
                    "immediate",
                    "The app answers there; pods become Ready and the rollout continues.",
                    [
                        kx.container_patch(workload_ref, state.name, fixed_probe),
                        kubectl.rollout_status(workload_ref),
                    ],
                )
            )
        if contributing and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Or roll back to the previous revision",
                    "immediate",
                    "Its readiness probe worked.",
                    [kubectl.rollout_undo(workload_ref)],
                )
            )
        recommendations.append(_diagnose_pod(pod_ref, state.name, previous=False))
        recommendations.append(
            Recommendation(
                "Probe named ports",
                "preventive",
                "Reference containerPort names in probes (port: http) and test charts with a rollout in "
                "staging.",
                [],
            )
        )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: readinessProbe checks "
            f"{problem.split(' is')[0].split(' does')[0]} "
            f"(container ports {', '.join(map(str, declared))}); healthy pods never become Ready"
        )
        findings.append(
            Finding(
                category="readiness-probe-misconfigured",
                resource=workload_ref,
                confidence=min(confidence, 0.85),
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"probe_port": port, "container_ports": declared, "listening": listening},
                recommendations=recommendations,
            )
        )
    return findings


# -- cpu-throttled -------------------------------------------------------------------------------


def _cpu_usage(view: ClusterView, pod: dict, container: str) -> tuple[float | None, float | None, str, str]:
    """(usage cores, limit cores, usage text, limit text) of one container."""
    spec = _spec_of(view, pod, container)
    limit_text = ((spec.get("resources") or {}).get("limits") or {}).get("cpu")
    usage_text = ""
    metrics = view.metrics_for(pod)
    for item in (metrics or {}).get("containers") or []:
        if item.get("name") == container:
            usage_text = (item.get("usage") or {}).get("cpu") or ""
    return parse_quantity(usage_text), parse_quantity(limit_text), usage_text, limit_text or ""


def _cpu_saturated(view: ClusterView, pod: dict, container: str) -> bool:
    usage, limit, _u, _l = _cpu_usage(view, pod, container)
    return bool(usage and limit and usage >= 0.9 * limit)


_THROTTLE_TEXT = re.compile(r"(?P<pct>\d+(?:\.\d+)?)\s*% throttl", re.I)


@analyzer("cpu-throttled")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def cpu_throttled(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    findings = []
    alert_text = ctx.target.text or ""
    alert_throttle = _THROTTLE_TEXT.search(alert_text) or (
        re.search(r"throttl", f"{ctx.target.alertname} {alert_text}", re.I)
    )
    for workload in ctx.in_scope_workloads():
        pods = [p for p in view.pods_of(workload) if (p.get("status") or {}).get("phase") == "Running"]
        if not pods:
            continue
        if any(
            "OOMKilled" in (s.last_reason, s.terminated_reason) for p in pods for s in container_states(p)
        ):
            continue  # memory is the more specific cause
        workload_ref = Ref.of(workload)
        by_container: dict[str, list[tuple[dict, float, float, str, str]]] = {}
        measured = 0
        for pod in pods:
            for state in container_states(pod):
                usage, limit, usage_text, limit_text = _cpu_usage(view, pod, state.name)
                if usage is None or not limit:
                    continue
                measured += 1
                if usage >= 0.9 * limit:
                    by_container.setdefault(state.name, []).append(
                        (pod, usage, limit, usage_text, limit_text)
                    )
        if not by_container or not measured:
            continue
        name, saturated = max(by_container.items(), key=lambda item: len(item[1]))
        if len(saturated) * 2 < len(pods):
            continue
        pod = saturated[0][0]
        limit_text = saturated[0][4]
        usages = ", ".join(f"{Ref.of(p).name} {u_text}" for p, _u, _l, u_text, _lt in saturated[:4])
        evidence = [ctx.cite("metric", pod, f"CPU usage {usages} of a {limit_text} limit (limits.cpu)")]
        parts = [
            f"Container {name} of {workload_ref.kind} {workload_ref.name} runs at its CPU limit: {usages} of "
            f"limits.cpu {limit_text} [{evidence[0]}]. At the limit the kernel's CFS quota throttles the "
            "process "
            "(CPU throttling): it is paused every period, so requests and probes become slow."
        ]
        confidence = 0.6
        if alert_throttle:
            pct = alert_throttle.group("pct") if "pct" in (alert_throttle.groupdict() or {}) else ""
            parts.append(
                f"The alert reports {pct + '% ' if pct else ''}throttled CPU periods "
                f"({ctx.target.alertname or 'alert'})."
            )
            confidence += 0.1
        timeouts = []
        for p in pods:
            for event in _events(view, p, "Unhealthy"):
                if _PROBE_TIMEOUT.search(event.get("message") or ""):
                    timeouts.append((p, event))
        if timeouts:
            total = sum(_count(e) for _p, e in timeouts)
            p, event = timeouts[-1]
            evidence.append(
                ctx.cite(
                    "event",
                    p,
                    f"Unhealthy x{total} on {len({id(x) for x, _ in timeouts})} pods: {event.get('message')}",
                )
            )
            restarts = sum(s.restarts for x in pods for s in container_states(x))
            parts.append(
                "Probes time out instead of failing (readiness probe timeout: "
                f'"{_short(event.get("message") or "", 250)}", '
                f"x{total}) [{evidence[-1]}] with {restarts} restarts: the app answers, too slowly."
            )
            confidence += 0.1
        log = view.log(pod, name)
        if log and not _crash_excerpt(log)[0]:
            slow = [line for line in log.splitlines() if re.search(r"\d{4,}\s?ms|Pause", line)]
            if slow:
                evidence.append(ctx.cite("log", pod, "\n".join(slow[-3:])))
                parts.append(f"The logs show no errors, only slow work and long pauses [{evidence[-1]}].")
        spec = _spec_of(view, pod, name)
        requests = ((spec.get("resources") or {}).get("requests") or {}).get("cpu")
        contributing = []
        previous_limit = None
        change = _latest_rollout(view, workload, pod)
        if change:
            cpu_changes = [d for d in change.details if "cpu" in d]
            if cpu_changes:
                evidence.append(ctx.cite("change", workload, _change_text(change, keep=["cpu"])))
                parts.append(f"What changed: {_change_text(change, keep=['cpu'])} [{evidence[-1]}].")
                contributing.append(Contributing(workload_ref, f"{change.what}: {'; '.join(cpu_changes)}"))
                limit_change = _first(d for d in cpu_changes if "limits.cpu" in d)
                if limit_change:
                    previous_limit = limit_change.split(": ", 1)[1].split(" → ")[0]
                confidence += 0.05
        node_notes = []
        for p, *_rest in saturated[:3]:
            node = view.node_of(p)
            node_metrics = view.get("NodeMetrics", "", Ref.of(node).name) if node else None
            capacity = parse_quantity(((node or {}).get("status") or {}).get("allocatable", {}).get("cpu"))
            used = parse_quantity(((node_metrics or {}).get("usage") or {}).get("cpu"))
            if node and capacity and used is not None:
                node_notes.append(f"{Ref.of(node).name} {used / capacity:.0%}")
        if node_notes:
            parts.append(
                f"The nodes are not saturated ({', '.join(node_notes)} CPU used): the limit is, not the node."
            )
        parts.append(f"requests.cpu is {requests}." if requests else "")
        target_limit = previous_limit or _double_cpu(limit_text)
        recommendations = [
            Recommendation(
                "Raise the CPU limit",
                "immediate",
                f"Give the container headroom above its working CPU ({limit_text} is saturated)"
                + (f"; {previous_limit} worked before" if previous_limit else "")
                + ".",
                [kubectl.set_resources(workload_ref, name, limits={"cpu": target_limit})]
                if target_limit
                else [],
            ),
        ]
        if contributing and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Or roll back the limit change",
                    "immediate",
                    "The previous revision had enough CPU.",
                    [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
                )
            )
        recommendations.append(
            Recommendation(
                "Watch usage against the limit",
                "immediate",
                "Usage pinned at the limit confirms throttling.",
                [kx.top_pods(workload_ref.namespace), kubectl.describe(Ref.of(pod))],
            )
        )
        recommendations.append(
            Recommendation(
                "Right-size on peaks, not medians",
                "preventive",
                "Size CPU limits from p95/p99 usage incl. startup and GC, or drop CPU limits and rely on "
                "requests; alert "
                "on container_cpu_cfs_throttled_periods_total.",
                [],
            )
        )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: container {name} is CPU-throttled at its "
            f"{limit_text} CPU limit "
            "(limits.cpu)" + (f", lowered from {previous_limit}" if previous_limit else "")
        )
        findings.append(
            Finding(
                category="cpu-throttled",
                resource=workload_ref,
                confidence=min(confidence, 0.85),
                summary=summary,
                explanation=" ".join(p for p in parts if p),
                evidence=evidence,
                contributing=contributing,
                facts={"limit": limit_text, "previous_limit": previous_limit},
                recommendations=recommendations,
            )
        )
    return findings


def _double_cpu(limit: str) -> str | None:
    value = parse_quantity(limit)
    if not value:
        return None
    millis = int(value * 2000)
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"
