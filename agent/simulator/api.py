"""The read-only Kubernetes API over a Cluster: routing, get, list, selectors, paging, logs, watch.

Transport-free: `handle()` takes a method, path, query and two headers and returns a Response, so the
HTTP server stays thin and the rules can be read in one place.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import conversions, discovery, tables
from .cluster import Cluster
from .errors import ApiError
from .kinds import Kind
from .logs import LogOptions, captured_at, read_log
from .selection import compile_field_selector, labels_match, parse_field_selector, parse_label_selector

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
AGENT_USER = "system:serviceaccount:opsworker:opsworker-agent"
# A watch on a frozen cluster never sees a change: the stream stays open this long, then ends
# as a real API server's watch does when its timeout expires.
WATCH_DEFAULT_SECONDS = 30
WATCH_MAX_SECONDS = 300


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    # Set for `?watch=true`: the events to stream, then how long to keep the stream open.
    watch_events: list[dict[str, Any]] | None = None
    watch_seconds: float = 0.0


def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode("utf-8"))


def error_response(error: ApiError) -> Response:
    return json_response(error.code, error.status())


def handle(
    cluster: Cluster, method: str, path: str, query: Mapping[str, str], host: str, accept: str = ""
) -> Response:
    """Answer one API request against a cluster snapshot."""
    try:
        if method != "GET":
            raise ApiError.method_not_allowed()
        return _route(cluster, path.rstrip("/") or "/", query, host, accept)
    except ApiError as error:
        return error_response(error)


def _route(cluster: Cluster, path: str, query: Mapping[str, str], host: str, accept: str) -> Response:
    if path in ("/healthz", "/livez", "/readyz"):
        return Response(200, b"ok", TEXT)
    if path == "/version":
        return json_response(200, discovery.version_info(cluster))
    if path == "/api":
        return json_response(200, discovery.api_versions(host))
    if path == "/apis":
        return json_response(200, discovery.api_group_list(cluster))
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) == 2:
        document = discovery.api_group(cluster, parts[1])
        if document is None:
            raise ApiError.path_not_found()
        return json_response(200, document)
    elif parts[0] == "apis" and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise ApiError.path_not_found()
    if not rest:
        document = discovery.api_resource_list(cluster, group, version)
        if document is None:
            raise ApiError.path_not_found()
        return json_response(200, document)
    return _resource(cluster, group, version, rest, query, tables.wants_table(accept))


def _resource(
    cluster: Cluster, group: str, version: str, rest: list[str], query: Mapping[str, str], as_table: bool
) -> Response:
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    kind = cluster.kind_for_path(group, version, rest[0])
    if kind is None or (namespace is not None and not kind.namespaced):
        raise ApiError.path_not_found()
    if kind.forbidden:
        raise _forbidden(kind, namespace, rest[1] if len(rest) > 1 else None)
    if len(rest) == 1:
        return _list(cluster, kind, namespace, query, as_table)
    if namespace is None and kind.namespaced:
        raise ApiError.path_not_found()  # /api/v1/pods/<name> does not exist
    name = rest[1]
    obj = cluster.find(kind, namespace, name)
    if len(rest) == 2 or (len(rest) == 3 and rest[2] == "status"):
        if obj is None:
            raise ApiError.not_found(kind.plural, name, kind.group)
        if as_table:
            return _table(cluster, kind, [obj], query, {"resourceVersion": cluster.resource_version})
        return json_response(200, _served(kind, obj))
    if len(rest) == 3 and (kind.group, kind.plural, rest[2]) == ("", "pods", "log"):
        assert namespace is not None
        text = read_log(cluster, namespace, name, LogOptions.from_query(query))
        return Response(200, text.encode("utf-8"), TEXT)
    raise ApiError.path_not_found()


def _forbidden(kind: Kind, namespace: str | None, name: str | None) -> ApiError:
    verb = "get" if name else "list"
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    details: dict[str, Any] = {"kind": kind.plural}
    if name:
        details["name"] = name
    return ApiError.forbidden(
        f'{kind.plural} is forbidden: User "{AGENT_USER}" cannot {verb} resource "{kind.plural}" '
        f'in API group "{kind.group}" {scope}',
        details,
    )


def _served(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the requested group/version shows it."""
    if kind.group == "autoscaling" and kind.version == "v1":
        return conversions.hpa_v2_to_v1(obj)
    if kind.group == "events.k8s.io":
        return conversions.event_core_to_events_v1(obj)
    if obj.get("apiVersion") != kind.group_version or obj.get("kind") != kind.kind:
        obj = {**obj, "apiVersion": kind.group_version, "kind": kind.kind}
    return obj


def _list(
    cluster: Cluster, kind: Kind, namespace: str | None, query: Mapping[str, str], as_table: bool
) -> Response:
    labels = parse_label_selector(query.get("labelSelector"))
    field_text = query.get("fieldSelector")
    try:
        fields = compile_field_selector(parse_field_selector(field_text), kind.kind, kind.namespaced)
    except ApiError as error:
        raise ApiError.bad_request(
            f'Unable to find "{kind.group}/{kind.version}, Resource={kind.plural}" that match label '
            f'selector "{query.get("labelSelector", "")}", field selector "{field_text}": {error.message}'
        ) from None
    matching = [
        obj
        for obj in cluster.objects_of(kind, namespace)
        if labels_match(labels, (obj.get("metadata") or {}).get("labels")) and fields(obj)
    ]
    if query.get("watch") in ("true", "1"):
        return _watch(cluster, kind, matching, query, as_table)
    metadata: dict[str, Any] = {"resourceVersion": cluster.resource_version}
    offset = _decode_continue(query.get("continue"), cluster)
    limit = _positive_int(query, "limit")
    page = matching[offset:]
    if limit and len(page) > limit:
        page = page[:limit]
        metadata["continue"] = _encode_continue(offset + limit, cluster)
        metadata["remainingItemCount"] = len(matching) - offset - limit
    if as_table:
        return _table(cluster, kind, page, query, metadata)
    body = {
        "kind": kind.list_kind,
        "apiVersion": kind.group_version,
        "metadata": metadata,
        "items": [_served(kind, obj) for obj in page],
    }
    return json_response(200, body)


def _table(
    cluster: Cluster, kind: Kind, objects: list[dict[str, Any]], query: Mapping[str, str], metadata: dict
) -> Response:
    return json_response(200, _table_body(cluster, kind, objects, query, metadata))


def _table_body(
    cluster: Cluster, kind: Kind, objects: list[dict[str, Any]], query: Mapping[str, str], metadata: dict
) -> dict[str, Any]:
    include = query.get("includeObject") or "Metadata"
    return tables.table(kind, objects, lambda o: _served(kind, o), captured_at(cluster), include, metadata)


def _positive_int(query: Mapping[str, str], key: str) -> int:
    raw = query.get(key) or "0"
    try:
        return max(int(raw), 0)
    except ValueError:
        raise ApiError.bad_request(f'invalid value for {key}: "{raw}"') from None


def _encode_continue(offset: int, cluster: Cluster) -> str:
    token = json.dumps({"g": cluster.generation, "o": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode()


def _decode_continue(token: str | None, cluster: Cluster) -> int:
    """The offset a continue token stands for; tokens from another loaded scenario have expired."""
    if not token:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        generation, offset = decoded["g"], int(decoded["o"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError.bad_request(f"continue key is not valid: {token!r}") from None
    if generation != cluster.generation:
        raise ApiError.expired(
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter."
        )
    return max(offset, 0)


def _watch(
    cluster: Cluster, kind: Kind, matching: list[dict[str, Any]], query: Mapping[str, str], as_table: bool
) -> Response:
    """A watch: ADDED for every match when started without a resourceVersion, then silence."""
    since = query.get("resourceVersion") or "0"
    events = []
    for obj in matching if since == "0" else []:
        rv = {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")}
        shown = _table_body(cluster, kind, [obj], query, rv) if as_table else _served(kind, obj)
        events.append({"type": "ADDED", "object": shown})
    timeout = _positive_int(query, "timeoutSeconds") or WATCH_DEFAULT_SECONDS
    return Response(200, watch_events=events, watch_seconds=min(timeout, WATCH_MAX_SECONDS))
