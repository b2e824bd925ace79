"""How feature apps above investigations join in without investigations importing them.

Notifications (and any later channel) register here at startup, in their `AppConfig.ready`:
- a *finished listener* is called, inside the caller's transaction, when an investigation completes
  or fails (it schedules its own after-commit work);
- a *detail section* adds one card to the investigation page: a template and the context it needs.

This keeps the dependency one way (DESIGN.md §4): `notifications` imports `investigations`,
never the reverse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

FinishedListener = Callable[[Any], None]


@dataclasses.dataclass(frozen=True)
class DetailSection:
    """A card on the investigation page: `template` rendered with `context(investigation)`."""

    template: str
    context: Callable[[Any], dict[str, Any]]


_finished_listeners: list[FinishedListener] = []
_detail_sections: list[DetailSection] = []


def finished_listener_register(listener: FinishedListener) -> None:
    if listener not in _finished_listeners:
        _finished_listeners.append(listener)


def detail_section_register(section: DetailSection) -> None:
    if section not in _detail_sections:
        _detail_sections.append(section)


def investigation_finished(investigation: Any) -> None:
    """Tell every registered listener that `investigation` reached a final status."""
    for listener in _finished_listeners:
        listener(investigation)


def detail_sections(investigation: Any) -> list[dict[str, Any]]:
    """The registered cards for this investigation's page: `{"template", "context"}` each."""
    return [
        {"template": section.template, "context": section.context(investigation)}
        for section in _detail_sections
    ]
