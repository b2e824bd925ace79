"""The changes one object shows: its creation, managedFields writes, drift from its last-applied
configuration, a Deployment's revisions and scaling events, an autoscaler's rescales."""

from __future__ import annotations

import itertools
import re

from investigations.engine.changes.records import NOT_RECORDED, FieldChange, TimedChange
from investigations.engine.evidence import ClusterView, Ref, event_time, parse_time
from investigations.engine.facts import template_field_diff
from investigations.engine.managed_fields import (
    CLIENT_SIDE_APPLY,
    Edit,
    applied_drift,
    edits,
    last_applied,
    path_container,
    path_text,
    value_at,
    within,
)

MAX_DETAILS = 8
ROLLOUT_EVENTS_SECONDS = 1800  # replica-set scaling that belongs to a rollout
_SCALED = re.compile(r"Scaled (up|down) replica set (\S+) to (\d+)(?: from (\d+))?")
_RESCALED = re.compile(r"New size: (\d+)(?:; reason: (.*))?")


def object_changes(view: ClusterView, obj: dict) -> list[TimedChange]:
    ref = Ref.of(obj)
    changes: list[TimedChange] = []
    created = (obj.get("metadata") or {}).get("creationTimestamp") or ""
    if created:
        changes.append(TimedChange(ref, created, "", "created", source="created"))
    entries = edits(obj)
    changes += [_edit_change(obj, ref, entry) for entry in entries]
    drift = _drift(obj, ref, entries)
    if drift is not None:
        changes.append(drift)
    kind = obj.get("kind")
    if kind == "Deployment":
        rollouts = _rollouts(view, obj)
        changes += rollouts + _scaling_events(view, obj, rollouts)
    elif kind == "HorizontalPodAutoscaler":
        changes += _rescales(view, obj)
    return changes


def _edit_change(obj: dict, ref: Ref, entry: Edit) -> TimedChange:
    fields = entry.fields
    if entry.subresource == "scale" or fields == ["spec.replicas"]:
        replicas = (obj.get("spec") or {}).get("replicas")
        return TimedChange(
            ref,
            entry.time,
            entry.who,
            f"scaled to {replicas} replica{'s' if replicas != 1 else ''}"
            if replicas is not None
            else "scaled",
            [FieldChange("spec.replicas", NOT_RECORDED, replicas)],
            source="scale-edit",
            edit=entry,
        )
    # What a client-side apply wrote is in its last-applied configuration; other writers' fields still
    # hold what they wrote (a later writer takes the field over).
    written = (last_applied(obj) if entry.manager == CLIENT_SIDE_APPLY else None) or obj
    if entry.manager == CLIENT_SIDE_APPLY or entry.operation == "Apply":
        verb = "applied"
    elif any(f.endswith("kubectl.kubernetes.io/restartedAt") for f in fields):
        verb = "restarted (rollout restart):"
    else:
        verb = "edited"
    if len(fields) > 3:  # a tool's whole set: the time of its last write, not which fields it changed
        what = f"{verb} ({len(fields)} fields it manages; which of them changed is not recorded)"
    else:
        what = f"{verb} {', '.join(fields)}"
    return TimedChange(
        ref,
        entry.time,
        entry.who,
        what,
        [FieldChange(path_text(p), NOT_RECORDED, value_at(written, p)) for p in entry.paths[:MAX_DETAILS]],
        entry.containers,
        source="edit",
        edit=entry,
    )


def _drift(obj: dict, ref: Ref, entries: list[Edit]) -> TimedChange | None:
    """An out-of-band edit: the live object differs from its last-applied configuration."""
    drift = applied_drift(obj)
    if not drift:
        return None
    fields = [path_text(path) for path, _before, _after in drift]

    def overlaps(entry: Edit) -> bool:
        return any(within(f, g) or within(g, f) for f in fields for g in entry.fields)

    others = [e for e in entries if e.manager != CLIENT_SIDE_APPLY]
    entry = next((e for e in reversed(others) if overlaps(e)), None) or (others[-1] if others else None)
    more = f" and {len(fields) - 1} more" if len(fields) > 1 else ""
    return TimedChange(
        ref,
        entry.time if entry else "",
        entry.who if entry else "",
        f"changed outside kubectl apply: {fields[0]}{more} differs from the last applied configuration",
        [FieldChange(path_text(p), before, after) for p, before, after in drift[:MAX_DETAILS]],
        {name for p, _b, _a in drift if (name := path_container(p))},
        source="drift",
        edit=entry,
    )


def _revision(replica_set: dict) -> int:
    annotations = (replica_set.get("metadata") or {}).get("annotations") or {}
    try:
        return int(annotations.get("deployment.kubernetes.io/revision", 0))
    except (TypeError, ValueError):
        return 0


def _rollouts(view: ClusterView, deployment: dict) -> list[TimedChange]:
    """Each revision against the one before it, field by field."""
    replica_sets = sorted(view.owned_by(deployment, "ReplicaSet"), key=_revision, reverse=True)
    changes = []
    for newer, older in itertools.pairwise(replica_sets):
        meta = newer.get("metadata") or {}
        cause = (meta.get("annotations") or {}).get("kubernetes.io/change-cause", "")
        diffs = template_field_diff(
            (older.get("spec") or {}).get("template") or {}, (newer.get("spec") or {}).get("template") or {}
        )
        what = f"rollout to revision {_revision(newer)} (from {_revision(older)})" + (
            f": {cause}" if cause else ""
        )
        if not diffs:
            what += ", same pod template (a restart or a rollback)"
        changes.append(
            TimedChange(
                Ref.of(deployment),
                meta.get("creationTimestamp") or "",
                "",
                what,
                [FieldChange(d.field, d.before, d.after) for d in diffs],
                {d.container for d in diffs if d.container},
                source="rollout",
                replica_sets=(meta.get("name", ""), (older.get("metadata") or {}).get("name", "")),
            )
        )
    return changes


def _scaling_events(view: ClusterView, deployment: dict, rollouts: list[TimedChange]) -> list[TimedChange]:
    """ScalingReplicaSet events that are not a rollout's own replica-set shuffling."""
    changes = []
    for event in view.events_for(deployment):
        match = (
            _SCALED.match(event.get("message") or "") if event.get("reason") == "ScalingReplicaSet" else None
        )
        if match is None:
            continue
        direction, replica_set, to, before = match.groups()
        when = event_time(event)
        if any(
            replica_set in r.replica_sets
            and -60 <= (gap_seconds(r.time, when) or 0) <= ROLLOUT_EVENTS_SECONDS
            for r in rollouts
        ):
            continue
        count = int(event.get("count") or 1)
        changes.append(
            TimedChange(
                Ref.of(deployment),
                when,
                "",
                f"replica set {replica_set} scaled {direction} to {to}"
                + (f" ({count} times)" if count > 1 else ""),
                [FieldChange("replicas", before if before is not None else NOT_RECORDED, to)],
                source="scale-event",
            )
        )
    return changes


def _during(rollout: TimedChange, replica_set: str, when: str) -> bool:
    gap = gap_seconds(rollout.time, when)
    return replica_set in rollout.replica_sets and gap is not None and -60 <= gap <= ROLLOUT_EVENTS_SECONDS


def _rescales(view: ClusterView, hpa: dict) -> list[TimedChange]:
    target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    scaled = Ref(target.get("kind", ""), Ref.of(hpa).namespace, target.get("name", ""))
    changes: list[TimedChange] = []
    previous: str | None = None
    for event in view.events_for(hpa):
        match = (
            _RESCALED.match(event.get("message") or "")
            if event.get("reason") == "SuccessfulRescale"
            else None
        )
        if match is None:
            continue
        size, reason = match.groups()
        changes.append(
            TimedChange(
                Ref.of(hpa),
                event_time(event),
                "HorizontalPodAutoscaler controller",
                f"rescaled {scaled.kind} {scaled.name} to {size}" + (f": {reason}" if reason else ""),
                [FieldChange("replicas", previous if previous is not None else NOT_RECORDED, size)],
                source="rescale",
                scaled=scaled,
            )
        )
        previous = size
    return changes


def gap_seconds(earlier: str, later: str) -> float | None:
    a, b = parse_time(earlier), parse_time(later)
    return None if a is None or b is None else (b - a).total_seconds()
