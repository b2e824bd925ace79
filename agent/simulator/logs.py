"""`GET .../pods/{name}/log`: container logs from the scenario, with the real API's errors and options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .cluster import Cluster
from .errors import ApiError
from .kinds import kind_for_object

_LINE_TIME = re.compile(
    r"^\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s?(Z|[+-]\d{2}:?\d{2})?"
)


@dataclass(frozen=True)
class LogOptions:
    container: str = ""
    previous: bool = False
    tail_lines: int | None = None
    limit_bytes: int | None = None
    since_seconds: int | None = None
    since_time: datetime | None = None
    timestamps: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> LogOptions:
        """Parse the query string; malformed values are a 400 like the real API."""
        return cls(
            container=query.get("container", ""),
            previous=_bool(query, "previous"),
            tail_lines=_int(query, "tailLines"),
            limit_bytes=_int(query, "limitBytes", minimum=1),
            since_seconds=_int(query, "sinceSeconds", minimum=1),
            since_time=_time(query, "sinceTime"),
            timestamps=_bool(query, "timestamps"),
        )


def _bool(query: Mapping[str, str], key: str) -> bool:
    value = query.get(key, "false").lower()
    if value not in ("true", "false", "1", "0", ""):
        raise ApiError.bad_request(f'invalid value for {key}: "{value}"')
    return value in ("true", "1")


def _int(query: Mapping[str, str], key: str, minimum: int = 0) -> int | None:
    if key not in query or query[key] == "":
        return None
    try:
        value = int(query[key])
    except ValueError:
        raise ApiError.bad_request(f'{key}: Invalid value: "{query[key]}": must be an integer') from None
    if value < minimum:
        raise ApiError(
            422,
            "Invalid",
            f'PodLogOptions "" is invalid: {key}: Invalid value: {value}: must be >= {minimum}',
        )
    return value


def _time(query: Mapping[str, str], key: str) -> datetime | None:
    if not query.get(key):
        return None
    parsed = parse_time(query[key])
    if parsed is None:
        raise ApiError.bad_request(f'{key}: Invalid value: "{query[key]}": must be RFC3339')
    return parsed


def parse_time(text: str) -> datetime | None:
    """RFC3339 (and the common log variants: space separator, `+0000`, comma fractions) → aware UTC."""
    m = _LINE_TIME.match(text.strip())
    if not m:
        return None
    date, clock, fraction, zone = m.groups()
    zone = zone or "Z"
    if zone == "Z":
        offset = timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}").replace(tzinfo=UTC) - offset
    except ValueError:
        return None
    if fraction:
        moment += timedelta(microseconds=int((fraction + "000000")[:6]))
    return moment


def log_clock(cluster: Cluster) -> datetime:
    """The "now" the logs were written at: the original capture time of a time-shifted scenario
    (log text is served as captured, so `sinceSeconds` is measured against its own clock)."""
    original = str(cluster.capture.get("originalCapturedAt") or "")
    return parse_time(original) or captured_at(cluster) if original else captured_at(cluster)


def captured_at(cluster: Cluster) -> datetime:
    """The scenario's "now": x-capture.capturedAt, or the wall clock when it has none."""
    return parse_time(str(cluster.capture.get("capturedAt") or "")) or datetime.now(UTC)


def read_log(cluster: Cluster, namespace: str, pod_name: str, options: LogOptions) -> str:
    """The log text `kubectl logs` would print, or the ApiError the real API server answers."""
    pod_kind = kind_for_object("v1", "Pod")
    assert pod_kind is not None
    pod = cluster.find(pod_kind, namespace, pod_name)
    if pod is None:
        raise ApiError.not_found("pods", pod_name)
    container = _container(pod, options.container)
    key = f"{namespace}/{pod_name}/{container}"
    if options.previous:
        text = cluster.previous_logs.get(key)
        if text is None:
            if _last_terminated(pod, container) is None:
                raise ApiError.bad_request(
                    f'previous terminated container "{container}" in pod "{pod_name}" not found'
                )
            text = ""
    elif key in cluster.log_errors:
        raise ApiError.bad_request(cluster.log_errors[key])
    elif key in cluster.logs:
        text = cluster.logs[key]
    else:
        waiting = _waiting_reason(pod, container)
        if waiting and (pod.get("spec") or {}).get("nodeName"):
            raise ApiError.bad_request(
                f'container "{container}" in pod "{pod_name}" is waiting to start: {waiting}'
            )
        text = ""
    return _apply(text, options, log_clock(cluster))


def _container_names(pod: Mapping[str, Any], field: str) -> list[str]:
    return [c.get("name", "") for c in (pod.get("spec") or {}).get(field) or []]


def _container(pod: Mapping[str, Any], requested: str) -> str:
    name = (pod.get("metadata") or {}).get("name", "")
    containers = _container_names(pod, "containers")
    init = _container_names(pod, "initContainers")
    ephemeral = _container_names(pod, "ephemeralContainers")
    if not requested:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        )
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise ApiError.bad_request(message)
    if requested not in containers + init + ephemeral:
        raise ApiError.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def _status_of(pod: Mapping[str, Any], container: str) -> Mapping[str, Any]:
    status = pod.get("status") or {}
    for field in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(field) or []:
            if entry.get("name") == container:
                return entry
    return {}


def _last_terminated(pod: Mapping[str, Any], container: str) -> Mapping[str, Any] | None:
    return ((_status_of(pod, container).get("lastState")) or {}).get("terminated")


def _waiting_reason(pod: Mapping[str, Any], container: str) -> str | None:
    status = _status_of(pod, container)
    waiting = (status.get("state") or {}).get("waiting")
    if waiting is None or status.get("restartCount") or _last_terminated(pod, container):
        return None  # a crash-looping container still has the logs of its last run
    return waiting.get("reason") or "ContainerCreating"


def _apply(text: str, options: LogOptions, now: datetime) -> str:
    """sinceSeconds/sinceTime, then tailLines, then timestamps, then limitBytes, as kubelet does."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    times = _line_times(lines, now)
    since = options.since_time
    if options.since_seconds is not None:
        since = now - timedelta(seconds=options.since_seconds)
    if since is not None:
        kept = [(line, moment) for line, moment in zip(lines, times, strict=True) if moment >= since]
        lines, times = [line for line, _ in kept], [moment for _, moment in kept]
    if options.tail_lines is not None:
        start = max(len(lines) - options.tail_lines, 0)
        lines, times = lines[start:], times[start:]
    if options.timestamps:
        lines = [f"{_rfc3339_nano(moment)} {line}" for line, moment in zip(lines, times, strict=True)]
    body = "".join(lines)
    if options.limit_bytes is not None:
        body = body.encode("utf-8")[: options.limit_bytes].decode("utf-8", errors="ignore")
    return body


def _line_times(lines: list[str], now: datetime) -> list[datetime]:
    """Each line's time: its own leading timestamp, else the previous line's (continuation lines).

    Lines before the first timestamped line take that line's time; a log with no timestamps at all
    is treated as written at capture time, so sinceSeconds keeps all of it.
    """
    parsed = [parse_time(line) for line in lines]
    first = next((moment for moment in parsed if moment is not None), now)
    times, current = [], first
    for moment in parsed:
        current = moment or current
        times.append(current)
    return times


def _rfc3339_nano(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
