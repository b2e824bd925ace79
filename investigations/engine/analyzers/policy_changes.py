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


TOGETHER = 3600  # changes this close to the newest one belong to the same change


def rank_policies(view: ClusterView, policies: list[dict], direction: str) -> list[dict]:
    """The policies to blame, first first: those changed last (with the newest change, when the others are
    older), then the one that isolates the pods without any rule in that direction, then the newest.

    Only the changes' times relative to each other count, never the wall clock: the answer is the same
    for a live cluster and for a snapshot read later."""

    def age(policy: dict) -> float:
        change = change_of(view, policy)
        seconds = view.age_seconds(change.when) if change else None
        return seconds if seconds is not None else float("inf")

    ages = {id(p): age(p) for p in policies}
    newest = min(ages.values(), default=float("inf"))
    latest = {i for i, a in ages.items() if a <= newest + TOGETHER}

    def key(policy: dict) -> tuple:
        rules = (policy.get("spec") or {}).get("egress" if direction == "egress" else "ingress") or []
        return (id(policy) not in latest, bool(rules), ages[id(policy)], Ref.of(policy).name)

    return sorted(policies, key=key)
