"""Which channels an investigation goes to.

The most specific level that names a channel decides: the matched rule's `notify_channel`, else the
cluster's override, else the organization's default. Any level may list several channels
(comma-separated), which is how one investigation reaches several channels; with "always copy the
default channel" on, the default is added to a rule's or cluster's channels. Duplicates are posted
once.
"""

from __future__ import annotations

import dataclasses
import re

from investigations.models import Investigation
from notifications.models import NotificationRoute, NotificationSettings

# A channel name (`#ops`, `ops-alerts`) or a channel id (`C0123ABCD`).
CHANNEL_RE = re.compile(r"^(#?[a-z0-9][a-z0-9._\-]{0,79}|[CGDZ][A-Z0-9]{6,20})$")


@dataclasses.dataclass(frozen=True)
class Target:
    channel: str
    route: str  # rule | cluster | default


def split_channels(value: str) -> list[str]:
    """`"#a, #b"` → `["#a", "#b"]`, keeping order, dropping blanks and duplicates."""
    seen: list[str] = []
    for part in re.split(r"[,\s]+", value or ""):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def invalid_channels(value: str) -> list[str]:
    return [c for c in split_channels(value) if not CHANNEL_RE.match(c)]


def settings_get() -> NotificationSettings:
    settings, _ = NotificationSettings.objects.get_or_create(singleton=True)
    return settings


def targets_for(investigation: Investigation, settings: NotificationSettings | None = None) -> list[Target]:
    settings = settings or settings_get()
    rule = investigation.signal.matched_rule if investigation.signal_id and investigation.signal else None
    cluster = investigation.cluster or (investigation.signal.cluster if investigation.signal else "")
    chosen: list[Target] = []
    if rule is not None and rule.notify_channel.strip():
        chosen = [Target(c, "rule") for c in split_channels(rule.notify_channel)]
    if not chosen and cluster:
        override = NotificationRoute.objects.filter(cluster_name=cluster).first()
        if override is not None:
            chosen = [Target(c, "cluster") for c in split_channels(override.channel)]
    defaults = [Target(c, "default") for c in split_channels(settings.default_channel)]
    if not chosen:
        chosen = defaults
    elif settings.always_default:
        chosen += defaults
    unique: dict[str, Target] = {}
    for target in chosen:
        unique.setdefault(_key(target.channel), target)
    return list(unique.values())


def _key(channel: str) -> str:
    return channel.lstrip("#").lower() if not re.match(r"^[CGDZ][A-Z0-9]+$", channel) else channel
