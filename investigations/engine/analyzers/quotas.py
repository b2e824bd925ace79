"""quota-exceeded: FailedCreate "exceeded quota" / "failed quota: must specify" (a quota on requests or
limits makes them mandatory) / LimitRange "forbidden: maximum|minimum": the controllers creating the
in-scope pods are refused.
"""

from __future__ import annotations

import json
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import (
    RECENT,
    creators_in_scope,
    event_count_text,
    fmt_amount,
    fmt_bytes,
    time_ago,
)
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, event_time, parse_quantity
from investigations.engine.facts import pod_spec
from investigations.engine.kubectl import Recommendation

_QUOTA = re.compile(
    r"exceeded quota: (?P<name>[^,\s]+), requested: (?P<requested>.+?), used: (?P<used>.+?), "
    r"limited: (?P<limited>[^\n]+)"
)
_QUOTA_SPECIFY = re.compile(r"failed quota: (?P<name>[^:\s]+): must specify (?P<what>[^\n]+)")
_LIMITRANGE = re.compile(
    r"forbidden: (?P<what>(maximum|minimum) (?P<resource>[\w.-]+) usage per "
    r"(?P<scope>Container|Pod|PersistentVolumeClaim) is (?P<bound>\S+)"
    r"(, but (limit|request) is (?P<value>\S+))?)",
    re.I,
)


@analyzer("quota-exceeded")
def quota_exceeded(ctx: Context) -> list[Finding]:
    view = ctx.view
    sources = creators_in_scope(ctx)
    hits: list[tuple[dict, dict | None, str]] = []
    for creator in sources:
        for event in view.events_for(creator):
            if event.get("reason") != "FailedCreate":
                continue
            age = view.age_seconds(event_time(event))
            if age is not None and age > RECENT:
                continue
            message = event.get("message") or ""
            if _QUOTA.search(message) or _LIMITRANGE.search(message) or _QUOTA_SPECIFY.search(message):
                hits.append((creator, event, message))
        for condition in (creator.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
                message = condition.get("message") or ""
                if _QUOTA.search(message) or _LIMITRANGE.search(message) or _QUOTA_SPECIFY.search(message):
                    hits.append((creator, None, message))
    if not hits:
        return []
    hits.sort(key=lambda h: 0 if h[1] is not None else 1)
    creator, cause_event, message = hits[0]
    quota = _QUOTA.search(message)
    if quota:
        return [_quota_finding(ctx, creator, cause_event, message, quota)]
    specify = _QUOTA_SPECIFY.search(message)
    if specify:
        return [_quota_specify_finding(ctx, creator, cause_event, message, specify)]
    limitrange = _LIMITRANGE.search(message)
    assert limitrange is not None  # hits keep only messages that one of the three patterns matched
    return [_limitrange_finding(ctx, creator, cause_event, message, limitrange)]


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def _quota_finding(ctx: Context, creator: dict, event: dict | None, message: str, match: re.Match) -> Finding:
    view = ctx.view
    creator_ref = Ref.of(creator)
    namespace = creator_ref.namespace
    name = match.group("name")
    requested, used, limited = (_pairs(match.group(g)) for g in ("requested", "used", "limited"))
    resource = next(iter(requested), "")
    quota = view.get("ResourceQuota", namespace, name)
    quota_ref = Ref("ResourceQuota", namespace, name)
    evidence = [
        ctx.cite(
            "event" if event else "status",
            creator,
            (f"FailedCreate{event_count_text(event)}: " if event else "ReplicaFailure: ") + message,
        )
    ]
    owner = view.top_owner(creator)
    owner_ref = Ref.of(owner)
    parts = [
        f"{creator_ref.kind} {creator_ref.name} ({owner_ref.kind} {owner_ref.name}) cannot create pods: "
        f'FailedCreate "{message.strip()}" [{evidence[0]}]. The API server rejects the pod before it exists '
        "(exceeded quota), so no pod is even Pending."
    ]
    if quota is not None:
        hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used_now = (quota.get("status") or {}).get("used") or {}
        rows = [f"{k} used {used_now.get(k, '?')} of hard {hard.get(k)}" for k in requested if k in hard]
        evidence.append(ctx.cite("status", quota, f"ResourceQuota {name}: " + "; ".join(rows)))
        parts.append(f"ResourceQuota {name}: {'; '.join(rows)} [{evidence[-1]}].")
    for key in requested:
        parts.append(
            f"A new pod needs {key}={requested[key]} but {used.get(key, '?')} of the "
            f"{limited.get(key, '?')} limit "
            f"is already used ({used.get(key, '?')} of {limited.get(key, '?')})."
        )
    consumers = _quota_consumers(view, namespace, resource, quota)
    contributing = [Contributing(creator_ref, f"FailedCreate: exceeded quota {name}")]
    newest = None
    if consumers:
        text = "; ".join(
            f"{ref.kind} {ref.name}: {count} pod(s) = {fmt_amount(_base(resource), total)} "
            f"(created {time_ago(view, created)})"
            for ref, count, total, created, _obj in consumers
        )
        evidence.append(ctx.cite("status", quota or creator, f"{resource} by workload: {text}"))
        parts.append(f"Who uses the quota's {resource}: {text} [{evidence[-1]}].")
        recent = [c for c in consumers if c[0] != owner_ref and (view.age_seconds(c[3]) or 1e12) <= 2 * 86400]
        if recent:
            newest = max(recent, key=lambda c: c[3] or "")
            ref, count, total, created, obj = newest
            manager = _creator_manager(obj)
            parts.append(
                f"{ref.kind} {ref.name} is a new workload, created {time_ago(view, created)}"
                + (f" by {manager}" if manager else "")
                + f": its {count} pod(s) take {fmt_amount(_base(resource), total)} of the quota, "
                "which left no room "
                f"for {owner_ref.name}'s replacement pod."
            )
            contributing.append(
                Contributing(
                    ref, f"new since {created}, uses {fmt_amount(_base(resource), total)} of {resource}"
                )
            )
    bumped = _bump(limited.get(resource), requested.get(resource))
    recommendations = [
        Recommendation(
            "Make room in the quota",
            "immediate",
            f"Raise {resource} in ResourceQuota {name}"
            + (f" (to at least {bumped})" if bumped else "")
            + (f", or scale down / resize {newest[0].name}" if newest else "")
            + "; the ReplicaSet retries on its own once the pod fits.",
            [
                kubectl.describe(quota_ref),
                *(
                    [kubectl.patch_merge(quota_ref, json.dumps({"spec": {"hard": {resource: bumped}}}))]
                    if bumped
                    else []
                ),
                *(
                    [kubectl.scale(newest[0], max(0, newest[1] - 1))]
                    if newest and newest[0].kind in ("Deployment", "StatefulSet")
                    else []
                ),
            ],
        ),
        Recommendation(
            "Confirm the rejection",
            "immediate",
            "The controller's FailedCreate events and the quota's usage.",
            [kubectl.events(creator_ref), kp.quota_usage(namespace)],
        ),
        Recommendation(
            "Budget the namespace for surge and new workloads",
            "preventive",
            "Size quotas for rolling updates and node drains (maxSurge pods), review quota headroom "
            "when adding "
            "workloads to a namespace, and alert when usage passes 85% of hard.",
            [],
        ),
    ]
    summary = (
        f"ResourceQuota {name} exceeded: {owner_ref.kind} {owner_ref.name} cannot create pods — "
        f"requested {resource}={requested.get(resource)}, used {used.get(resource)} of "
        f"{limited.get(resource)}"
        + (
            f" (new {newest[0].kind} {newest[0].name} uses {fmt_amount(_base(resource), newest[2])})"
            if newest
            else ""
        )
    )
    return Finding(
        category="quota-exceeded",
        resource=quota_ref,
        confidence=0.9 if quota is not None else 0.8,
        summary=summary,
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"quota": name, "requested": requested, "used": used, "limited": limited},
        recommendations=recommendations,
    )


def _quota_specify_finding(
    ctx: Context, creator: dict, event: dict | None, message: str, match: re.Match
) -> Finding:
    """A quota on limits/requests makes them mandatory: pods without them are rejected."""
    creator_ref = Ref.of(creator)
    quota_ref = Ref("ResourceQuota", creator_ref.namespace, match.group("name"))
    owner_ref = Ref.of(ctx.view.top_owner(creator))
    evidence = [ctx.cite("event" if event else "status", creator, f"FailedCreate: {message}")]
    return Finding(
        category="quota-exceeded",
        resource=quota_ref,
        confidence=0.85,
        summary=f"ResourceQuota {quota_ref.name} rejects {owner_ref.kind} {owner_ref.name}'s pods: "
        f"must specify {match.group('what')[:100]}",
        explanation=(
            f'{creator_ref.kind} {creator_ref.name} cannot create pods: "{message.strip()}" [{evidence[0]}]. '
            f"ResourceQuota {quota_ref.name} constrains those resources, so every pod must set them; the pod "
            "template does not (and no LimitRange default fills them in)."
        ),
        evidence=evidence,
        contributing=[Contributing(owner_ref, f"pod template lacks {match.group('what')[:80]}")],
        recommendations=[
            Recommendation(
                "Set the resources the quota requires",
                "immediate",
                "Add requests/limits to the containers, or a LimitRange with defaults in the namespace.",
                [kubectl.describe(quota_ref), kubectl.events(creator_ref)],
            ),
            Recommendation(
                "Default resources per namespace",
                "preventive",
                "A LimitRange with default requests/limits next to every ResourceQuota.",
                [],
            ),
        ],
    )


def _base(resource: str) -> str:
    return resource.split(".", 1)[1] if "." in resource else resource


def _bump(limited: str | None, requested: str | None) -> str | None:
    total = (parse_quantity(limited) or 0) + (parse_quantity(requested) or 0)
    if not total or limited is None:
        return None
    if re.search(r"[KMGTP]i$", limited):
        return fmt_bytes(total)
    if limited.endswith("m"):
        return f"{int(total * 1000)}m"
    return f"{total:g}"


def _quota_consumers(view: ClusterView, namespace: str, resource: str, quota: dict | None):
    """(workload ref, pod count, total of `resource`, created, workload) for pods counted by the quota."""
    section, _dot, key = resource.partition(".")
    if not key:
        section, key = "requests", resource
    totals: dict[Ref, list] = {}
    for pod in view.all("Pod", namespace):
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        amount = 0.0
        for container in pod_spec(pod).get("containers") or []:
            resources = container.get("resources") or {}
            value = (resources.get(section) or {}).get(key)
            if value is None and section == "requests":
                value = (resources.get("limits") or {}).get(key)
            amount += parse_quantity(value) or 0.0
        if key == "pods" or resource == "pods":
            amount = 1.0
        owner = view.top_owner(pod)
        ref = Ref.of(owner)
        entry = totals.setdefault(
            ref, [0, 0.0, (owner.get("metadata") or {}).get("creationTimestamp"), owner]
        )
        entry[0] += 1
        entry[1] += amount
    result = [(ref, v[0], v[1], v[2], v[3]) for ref, v in totals.items() if v[1] > 0]
    result.sort(key=lambda item: item[2], reverse=True)
    return result


def _creator_manager(obj: dict) -> str:
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    return entries[0].get("manager", "") if entries else ""


def _limitrange_finding(
    ctx: Context, creator: dict, event: dict | None, message: str, match: re.Match
) -> Finding:
    view = ctx.view
    creator_ref = Ref.of(creator)
    namespace = creator_ref.namespace
    resource = match.group("resource")
    bound = match.group("bound")
    ranges = view.all("LimitRange", namespace)
    chosen = None
    for candidate in ranges:
        for item in (candidate.get("spec") or {}).get("limits") or []:
            for field in ("max", "min"):
                if str((item.get(field) or {}).get(resource)) == bound:
                    chosen = candidate
    chosen = chosen or (ranges[0] if ranges else None)
    ref = Ref.of(chosen) if chosen else Ref("LimitRange", namespace, "")
    evidence = [
        ctx.cite(
            "event" if event else "status",
            creator,
            (f"FailedCreate{event_count_text(event)}: " if event else "") + message,
        )
    ]
    owner_ref = Ref.of(view.top_owner(creator))
    parts = [
        f'{creator_ref.kind} {creator_ref.name} cannot create pods: "{message.strip()}" [{evidence[0]}]. '
        f"A LimitRange in {namespace} forbids it: {match.group('what')}."
    ]
    if chosen:
        evidence.append(
            ctx.cite("spec", chosen, f"LimitRange {ref.name}: {(chosen.get('spec') or {}).get('limits')}")
        )
        parts.append(
            f"LimitRange {ref.name} sets {(chosen.get('spec') or {}).get('limits')} [{evidence[-1]}]."
        )
    return Finding(
        category="quota-exceeded",
        resource=ref if chosen else owner_ref,
        confidence=0.9 if chosen else 0.7,
        summary=f"LimitRange {ref.name or '(namespace)'} forbids {owner_ref.kind} {owner_ref.name}'s pods: "
        f"{match.group('what')}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=[Contributing(owner_ref, "its pods exceed the LimitRange")],
        recommendations=[
            Recommendation(
                "Fit the pod into the LimitRange (or change the range)",
                "immediate",
                f"Lower the container's {resource} to at most {bound}, or raise the LimitRange maximum.",
                [kubectl.describe(ref) if chosen else kp.quota_usage(namespace), kubectl.events(creator_ref)],
            ),
            Recommendation(
                "Validate resources against namespace policy in CI",
                "preventive",
                "Render manifests and check them against the namespace LimitRange before deploying.",
                [],
            ),
        ],
    )
