"""What changed around an alert, before → after: the alerting workload and everything it references.

Read from what was already collected (no extra agent round):
- Deployment revisions: consecutive ReplicaSets' pod templates diffed field by field;
- managedFields: every other write to the workload and to what it references (ConfigMaps, PVCs and
  their volumes, the ServiceAccount and its RBAC, Services selecting its pods and the Ingresses routing
  to them, HPAs, NetworkPolicies, PDBs, quotas), dated and attributed to the manager (Helm, Argo CD,
  kubectl edit, ...);
- kubectl's last-applied configuration: out-of-band edits, with the applied value as "before";
- events: ScalingReplicaSet and the autoscaler's SuccessfulRescale.
Times are relative to the alert's start, else to when the cluster was read (and the result says so).
A change `touches_cause` when it is on the root-cause resource or a contributing one, or when its
diff touches a failing container shortly before the alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from investigations.engine.changes.merge import merge
from investigations.engine.changes.records import FieldChange, TimedChange, Timeline, display
from investigations.engine.changes.scope import failing_containers, objects_in_scope, workloads_in_scope
from investigations.engine.changes.sources import object_changes
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Ref, human_age, parse_time

__all__ = [
    "FieldChange",
    "TimedChange",
    "Timeline",
    "change_timeline",
    "contributing_changes",
    "display",
    "relative_time",
]

LOOKBACK = timedelta(days=7)  # older changes are history, not "what changed"
MAX_CHANGES = 20
MAX_CONTRIBUTING = 3
TOUCH_WINDOW = timedelta(hours=24)  # a diff on the failing container counts when this recent


def relative_time(when: str, basis: str, basis_time: datetime) -> str:
    """Relative wording: "41 min before the alert", "3 min after the alert", "2 h before capture"."""
    moment = parse_time(when)
    if moment is None:
        return "time not recorded"
    delta = (moment - basis_time).total_seconds()
    anchor = "the alert" if basis == "alert" else "capture"
    if abs(delta) < 30:
        return "at the alert's start" if basis == "alert" else "at capture"
    return f"{human_age(delta)} {'before' if delta < 0 else 'after'} {anchor}"


def change_timeline(
    ctx: Context,
    *,
    alert_start: str | None = None,
    cause: Ref | None = None,
    contributing: Iterable[Ref] = (),
) -> Timeline:
    """Changes to the alerting workload and what it references, newest first, capped."""
    view = ctx.view
    start = parse_time(alert_start)
    basis, basis_time = ("alert", start) if start else ("capture", view.now)
    causes = {ref for ref in (cause, *contributing) if ref is not None}
    workloads = workloads_in_scope(ctx, causes)
    changes: list[TimedChange] = []
    for obj in objects_in_scope(ctx, workloads, causes):
        changes += object_changes(view, obj)
    changes = merge(changes)
    changes = [c for c in changes if c.moment is None or c.moment >= basis_time - LOOKBACK]
    failing = {Ref.of(w): failing_containers(view, w) for w in workloads}
    for change in changes:
        change.touches_cause = change.resource in causes or (
            bool(change.containers & failing.get(change.resource, set()))
            and _before_alert(change, basis_time, TOUCH_WINDOW)
        )
        change.relative = relative_time(change.time, basis, basis_time)
    kept = sorted(changes, key=lambda c: (not c.touches_cause, -_epoch(c)))[:MAX_CHANGES]
    kept.sort(key=lambda c: -_epoch(c))
    return Timeline(kept, basis, basis_time.isoformat().replace("+00:00", "Z"))


def contributing_changes(timeline: Timeline, primary: Ref, listed: Iterable[Ref]) -> list[Contributing]:
    """Changes that touch the failing mechanism on resources the result does not name yet."""
    named = {primary, *listed}
    added: list[Contributing] = []
    for change in timeline.changes:
        if not change.touches_cause or change.resource in named or len(added) >= MAX_CONTRIBUTING:
            continue
        named.add(change.resource)
        who = f" by {change.who}" if change.who else ""
        fields = "; ".join(d.text() for d in change.details[:3])
        added.append(
            Contributing(
                change.resource, f"{change.what}{who}, {change.relative}" + (f": {fields}" if fields else "")
            )
        )
    return added


def _before_alert(change: TimedChange, basis_time: datetime, window: timedelta) -> bool:
    """Whether the change came shortly before the alert (a change after it cannot have caused it)."""
    moment = change.moment
    return moment is not None and basis_time - window <= moment <= basis_time + timedelta(seconds=60)


def _epoch(change: TimedChange) -> float:
    moment = change.moment
    return moment.timestamp() if moment else float("-inf")
