"""Prometheus Alertmanager webhook receiver (`webhook_config`, body `version` "4").

One delivery is one alert group; each alert in it becomes one normalized alert keyed by
``am:<Alertmanager fingerprint>`` (a hash of the sorted label set if the sender left it out).
Watchdog, DeadMansSwitch and InfoInhibitor are the pipeline's own heartbeats, flagged
`pipeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from alerts.sources.alert_groups import ALERTMANAGER_LINKS, GroupFormat, parse_group
from alerts.sources.base import AdapterBase, ParseResult, PayloadError

PIPELINE_ALERTNAMES = frozenset({"Watchdog", "DeadMansSwitch", "InfoInhibitor"})

_FORMAT = GroupFormat(
    source="alertmanager",
    fingerprint_prefix="am:",
    link_fields=ALERTMANAGER_LINKS,
    is_pipeline=PIPELINE_ALERTNAMES.__contains__,
)


class AlertmanagerAdapter(AdapterBase):
    """Alertmanager's webhook body (version 4) to normalized alerts."""

    name: ClassVar[str] = "alertmanager"
    label: ClassVar[str] = "Prometheus Alertmanager"

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        """One alert per readable entry of `alerts`, the others rejected; PayloadError for a bad group."""
        if isinstance(payload, dict):
            _check_version(payload.get("version"))
        return parse_group(payload, _FORMAT)


def _check_version(version: Any) -> None:
    # Absent is fine (hand-written test bodies); another version means a mis-pointed sender.
    if version is None or version == "4":
        return
    if version == "1":
        raise PayloadError(
            'version is "1": this is a Grafana Alerting body; send it to the Grafana integration'
        )
    shown = repr(version[:20]) if isinstance(version, str) else "a non-string"
    raise PayloadError(f'version must be "4" (Alertmanager webhook format), got {shown}')


ADAPTER = AlertmanagerAdapter()
