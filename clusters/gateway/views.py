"""The agent endpoints, `/agent/v1/...` on an organization's host (protocol: `agent/protocol.py`).

Machine-facing and thin. `Authorization: Bearer <cluster token>` is looked up by digest in the
schema of the host the request came to, so a token only works on its own organization's domain
(another organization's token is as unknown as a made-up one: 404). Missing or garbled
credentials: 401. Every refusal is a JSON body; nothing an agent sends yields a 5xx.

The long poll (`commands`) is an async view: after a short database check it answers with a
streaming body produced by `polling.wait_for_commands`, which sleeps on a Redis wake-up, so an
idle agent costs an `asyncio.Event`, not a busy worker thread. (Under ASGI, `longpoll.py` answers
the same poll in front of Django with the same wait.)
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import schema_context

from agent.protocol import (
    MAX_SUPPORTED,
    MIN_SUPPORTED,
    PROTOCOL_VERSION,
    commands_message,
    versions_overlap,
)
from clusters import services
from clusters.gateway.polling import release_connection, wait_for_commands
from clusters.gateway.wire import MAX_POLL_WAIT_SECONDS, NOT_FOUND, UNAUTHORIZED, bearer_token, parse_result
from clusters.models import Cluster
from clusters.selectors import cluster_for_token
from opsworker.payload_guard import PayloadRejected, decode_body

logger = logging.getLogger(__name__)

MAX_RESULTS_PER_POST = 1000
# A Kubernetes object is a few dozen levels deep; far deeper is hostile (Python's parser would
# raise RecursionError). Checked before json.loads by the same guard as the webhooks.
MAX_JSON_DEPTH = 128


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # we log our own events; never Django's request line
    return response


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="opsworker-agent"'} if status == 401 else None
    return _answer(status, {"error": message, "status": status, **extra}, headers)


def _version_error() -> JsonResponse:
    return _error(
        426,
        f"this portal speaks agent protocol {MIN_SUPPORTED}..{MAX_SUPPORTED}: upgrade the agent or portal",
        min_protocol=MIN_SUPPORTED,
        max_protocol=MAX_SUPPORTED,
    )


def _schema(request: HttpRequest) -> str | None:
    """The organization schema of this host, or None (public host, unknown, suspended)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public" or not getattr(tenant, "is_active", False):
        return None
    return tenant.schema_name


def _authenticate(request: HttpRequest) -> tuple[str, Cluster] | JsonResponse:
    """Sync: (schema, cluster) or the refusal to send."""
    token = bearer_token(request.headers.get("Authorization", ""))
    if token is None:
        logger.info("agent.gateway.no_credentials", extra={"path": request.path})
        return _error(401, UNAUTHORIZED)
    schema = _schema(request)
    cluster = None
    if schema is not None:
        with schema_context(schema):
            cluster = cluster_for_token(token)
    if cluster is None:
        logger.info("agent.gateway.unknown_token", extra={"schema": schema or ""})
        return _error(404, NOT_FOUND)
    return schema, cluster


def _read_json(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    limit = int(getattr(settings, "AGENT_MAX_BODY_BYTES", settings.MAX_REQUEST_BYTES))
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return _error(413, f"body is {declared} bytes; the limit is {limit}")
    # Not request.body: results legitimately exceed DATA_UPLOAD_MAX_MEMORY_SIZE.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _error(413, f"body is over the limit of {limit} bytes")
    try:
        body = decode_body(
            raw, request.META.get("CONTENT_TYPE", ""), max_bytes=limit, max_depth=MAX_JSON_DEPTH
        )
    except PayloadRejected as rejected:
        return _error(rejected.status, rejected.message)
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    return body


def _protocol_of(body: dict[str, Any]) -> int | JsonResponse:
    version = body.get("protocol")
    if isinstance(version, bool) or not isinstance(version, int):
        return _error(400, "message has no integer 'protocol' field")
    if not MIN_SUPPORTED <= version <= MAX_SUPPORTED:
        return _version_error()
    return version


def _post_preamble(request: HttpRequest) -> tuple[str, Cluster, dict[str, Any]] | JsonResponse:
    if request.method != "POST":
        return _error(405, "use POST")
    auth = _authenticate(request)
    if isinstance(auth, JsonResponse):
        return auth
    body = _read_json(request)
    if isinstance(body, JsonResponse):
        return body
    return auth[0], auth[1], body


@csrf_exempt
def hello(request: HttpRequest) -> JsonResponse:
    pre = _post_preamble(request)
    if isinstance(pre, JsonResponse):
        return pre
    schema, cluster, body = pre
    low, high = body.get("min_protocol", body.get("protocol")), body.get("max_protocol", body.get("protocol"))
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)):
        return _error(400, "hello needs integer 'min_protocol' and 'max_protocol' (or 'protocol')")
    if not versions_overlap(low, high):
        logger.info("agent.gateway.version_mismatch", extra={"cluster": cluster.pk, "min": low, "max": high})
        return _version_error()
    with schema_context(schema):
        reply = services.cluster_record_hello(cluster=cluster, body=body, protocol=min(high, MAX_SUPPORTED))
    return _answer(200, reply)


@csrf_exempt
def heartbeat(request: HttpRequest) -> JsonResponse:
    pre = _post_preamble(request)
    if isinstance(pre, JsonResponse):
        return pre
    schema, cluster, body = pre
    version = _protocol_of(body)
    if isinstance(version, JsonResponse):
        return version
    with schema_context(schema):
        services.cluster_record_heartbeat(cluster=cluster, body=body)
    return _answer(200, {"protocol": PROTOCOL_VERSION})


@csrf_exempt
def results(request: HttpRequest) -> JsonResponse:
    pre = _post_preamble(request)
    if isinstance(pre, JsonResponse):
        return pre
    schema, cluster, body = pre
    version = _protocol_of(body)
    if isinstance(version, JsonResponse):
        return version
    items = body.get("results")
    if not isinstance(items, list):
        return _error(400, "message has no 'results' list")
    if len(items) > MAX_RESULTS_PER_POST:
        return _error(413, f"at most {MAX_RESULTS_PER_POST} results per message")
    parsed = [parse_result(item) for item in items]
    valid = [result for result in parsed if result is not None]
    with schema_context(schema):
        outcome = services.results_record(cluster=cluster, results=valid)
        services.cluster_touch(cluster_id=cluster.pk)
    invalid = len(parsed) - len(valid)
    if invalid:
        logger.warning("agent.results.invalid", extra={"cluster": cluster.pk, "count": invalid})
    return _answer(
        200, {"protocol": PROTOCOL_VERSION, "accepted": len(valid), "invalid": invalid, **outcome.as_dict()}
    )


# --- the long poll ----------------------------------------------------------------------------


def _poll_start(request: HttpRequest) -> tuple[str, int, list[dict[str, Any]]] | JsonResponse:
    """Sync part of a poll: authenticate, note that the agent is alive, take what is waiting."""
    try:
        auth = _authenticate(request)
        if isinstance(auth, JsonResponse):
            return auth
        schema, cluster = auth
        with schema_context(schema):
            services.cluster_touch(cluster_id=cluster.pk)
            return schema, cluster.pk, services.commands_claim(cluster_id=cluster.pk)
    finally:
        release_connection()


def _wait_param(request: HttpRequest) -> int | None:
    text = request.GET.get("wait", "20")
    if not text.isdigit() or len(text) > 6:
        return None
    return min(int(text), MAX_POLL_WAIT_SECONDS)


@csrf_exempt
async def commands(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _error(405, "use GET")
    wait = _wait_param(request)
    if wait is None:
        return _error(400, "'wait' must be a whole number of seconds")
    try:
        started = await sync_to_async(_poll_start)(request)
    except DatabaseError as error:
        logger.warning("agent.poll.database_error", extra={"error": str(error)[:200]})
        return _error(503, "the portal's database is unavailable; retry later")
    if isinstance(started, JsonResponse):
        return started
    schema, cluster_id, found = started
    if found or wait == 0:
        return _answer(200, commands_message(found))
    response = StreamingHttpResponse(
        wait_for_commands(schema, cluster_id, wait), content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True
    return response
