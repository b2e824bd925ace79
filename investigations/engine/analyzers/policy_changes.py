"""When a policy-like object (NetworkPolicy, admission policy, namespace labels) was created or last
changed, from `managedFields` (not the status subresource), and which of several policies to name.
"""

from __future__ import annotations

from investigations.engine.evidence import ClusterView, Ref, human_age, parse_time
from investigations.engine.facts import Change


def change_of(view: ClusterView, obj: dict, field: str = "") -> Change | None:
    """The latest change of `obj` (of `field`, e.g. "f:spec" or a label key, when given), or its creation."""
    meta = obj.get("metadata") or {}
    created = meta.get("creationTimestamp") or ""
    best: tuple[str, str] | None = None
    for entry in meta.get("managedFields") or []:
        if entry.get("subresource") == "status":
            continue
        if field and field not in str(entry.get("fieldsV1") or {}):
            continue
        when = entry.get("time") or ""
        if when and (best is None or when > best[0]):
            best = (when, entry.get("manager") or "someone")
    if best is None:
        if field or not created:
            return None
        best = (created, "")
    when, manager = best
    age = view.age_seconds(when)
    created_at, changed_at = parse_time(created), parse_time(when)
    fresh = (
        created_at is not None
        and changed_at is not None
        and abs((changed_at - created_at).total_seconds()) < 60
    )
    what = ("created" if fresh else "changed") + (f" by {manager}" if manager else "")
    return Change(Ref.of(obj), when, human_age(age) if age is not None else "?", what)


RECENT_POLICY = 7 * 24 * 3600


def policy_rank(view: ClusterView, policy: dict, direction: str) -> tuple:
    """Sort key naming the policy to blame first: one created or edited in the last week (newest first),
    else the one that isolates the pod without any rule in that direction, then the newest."""
    rules = (policy.get("spec") or {}).get("egress" if direction == "egress" else "ingress") or []
    change = change_of(view, policy)
    age = view.age_seconds(change.when) if change else None
    age = age if age is not None else float("inf")
    recent = age <= RECENT_POLICY
    return (0 if recent else 1, age if recent else 0, 1 if rules else 0, age, Ref.of(policy).name)
