"""What happens to a new signal: investigate, record or suppress.

Interim rule until the rule engine lands: a firing alert that names a namespace (and is not about
the alerting pipeline itself) starts an investigation; everything else is recorded.
"""

from __future__ import annotations

import dataclasses

from alerts.models import Decision, Signal, SignalStatus


@dataclasses.dataclass(frozen=True)
class Outcome:
    decision: str
    reason: str


def decide(signal: Signal) -> Outcome:
    if signal.status != SignalStatus.FIRING:
        return Outcome(Decision.RECORD, f"{signal.status} alerts are recorded, not investigated")
    if signal.pipeline:
        return Outcome(Decision.RECORD, "alert about the alerting pipeline itself (e.g. Watchdog, no data)")
    if not signal.namespace:
        return Outcome(Decision.RECORD, "no Kubernetes namespace found in the alert")
    return Outcome(Decision.INVESTIGATE, "default rule: firing alert in a Kubernetes namespace")
