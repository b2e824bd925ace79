"""One change per thing that happened: the traces of one action are folded together.

A manager's write to a Deployment's template and the rollout it caused; an object's creation and the
writes that created it; a drift and the write it is attributed to; a `kubectl scale` and the
replica-set scaling event it caused; an autoscaler's rescale and the scaling it caused.
"""

from __future__ import annotations

from collections.abc import Callable

from investigations.engine.changes.records import NOT_RECORDED, FieldChange, TimedChange
from investigations.engine.changes.sources import ROLLOUT_EVENTS_SECONDS, gap_seconds

MERGE_SECONDS = 120  # a manager's write and the rollout or scaling it caused

Fold = Callable[[dict[str, list[TimedChange]], list[TimedChange]], set[int]]


def merge(changes: list[TimedChange]) -> list[TimedChange]:
    by_source: dict[str, list[TimedChange]] = {}
    for change in changes:
        by_source.setdefault(change.source, []).append(change)
    dropped: set[int] = set()
    folds: tuple[Fold, ...] = (
        _into_drift,
        _into_creation,
        _into_rollout,
        _scaling_into_creation,
        _event_into_scale,
        _into_rescale,
    )
    for fold in folds:
        dropped |= fold(by_source, [c for c in changes if id(c) not in dropped])
    return [c for c in changes if id(c) not in dropped]


def _near(a: TimedChange, b: TimedChange, seconds: float = MERGE_SECONDS) -> bool:
    gap = gap_seconds(a.time, b.time)
    return gap is not None and abs(gap) <= seconds


def _into_drift(by_source: dict[str, list[TimedChange]], live: list[TimedChange]) -> set[int]:
    """The write a drift is attributed to is the drift (which knows the value before)."""
    return {
        id(c)
        for drift in by_source.get("drift", [])
        for c in live
        if c is not drift and c.edit is not None and c.edit is drift.edit
    }


def _into_creation(by_source: dict[str, list[TimedChange]], live: list[TimedChange]) -> set[int]:
    dropped = set()
    for created in by_source.get("created", []):
        for change in live:
            if change.edit is not None and change.resource == created.resource and _near(created, change, 2):
                created.who = created.who or change.who
                dropped.add(id(change))
    return dropped


def _into_rollout(by_source: dict[str, list[TimedChange]], live: list[TimedChange]) -> set[int]:
    """A write to a Deployment's pod template names who made the rollout it caused."""
    dropped = set()
    for edit in (c for c in live if c.source == "edit" and c.edit and c.edit.touches("spec.template")):
        rollout = next(
            (r for r in by_source.get("rollout", []) if r.resource == edit.resource and _near(r, edit)), None
        )
        if rollout is not None:
            rollout.who = rollout.who or edit.who
            dropped.add(id(edit))
    return dropped


def _scaling_into_creation(by_source: dict[str, list[TimedChange]], live: list[TimedChange]) -> set[int]:
    """A new Deployment's first replica set scaling up is its creation."""
    dropped = set()
    for created in by_source.get("created", []):
        for event in (c for c in live if c.source == "scale-event" and c.resource == created.resource):
            gap = gap_seconds(created.time, event.time)
            if gap is not None and 0 <= gap <= ROLLOUT_EVENTS_SECONDS:
                if not created.details:
                    created.details = [FieldChange("replicas", None, event.details[0].after)]
                dropped.add(id(event))
    return dropped


def _event_into_scale(by_source: dict[str, list[TimedChange]], live: list[TimedChange]) -> set[int]:
    """`kubectl scale` (a managedFields write) and the scaling event say who and from how many."""
    dropped: set[int] = set()
    for scale in by_source.get("scale-edit", []):
        event = next(
            (
                c
                for c in live
                if c.source == "scale-event" and c.resource == scale.resource and id(c) not in dropped
                if _near(scale, c)
            ),
            None,
        )
        if event is not None:
            scale.details = [FieldChange("spec.replicas", event.details[0].before, event.details[0].after)]
            dropped.add(id(event))
    return dropped


def _into_rescale(by_source: dict[str, list[TimedChange]], live: list[TimedChange]) -> set[int]:
    """The autoscaler's rescale is the cause of the scaling that follows it on its target."""
    dropped = set()
    for rescale in by_source.get("rescale", []):
        for change in live:
            if change.source in ("scale-edit", "scale-event") and change.resource == rescale.scaled:
                if id(change) in dropped or not _near(rescale, change):
                    continue
                if rescale.details[0].before == NOT_RECORDED:
                    rescale.details[0].before = change.details[0].before
                dropped.add(id(change))
    return dropped
