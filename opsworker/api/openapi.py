"""The OpenAPI 3.1 description of `/api/v1/`, built from the route table below.

`ROUTES` names every operation with the URL pattern it documents (`api:<name>`); a test checks that
every pattern in `opsworker/api/urls.py` (but the catch-all) is described and nothing else is.
"""

from __future__ import annotations

import copy
from typing import Any

from alerts.models import Decision, SignalStatus, Source
from alerts.rules.conditions import FIXED_FIELDS, OPERATORS
from alerts.selectors import SORTS
from investigations.engine.target import RESOURCE_NAME, TARGET_KINDS
from investigations.models import ClusterStatus, InvestigationStatus

# The page's form is the one source of the valid kinds and the Kubernetes name rule.
_K8S_NAME = RESOURCE_NAME.pattern
_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_DT = {"type": ["string", "null"], "format": "date-time"}
_DT_REQUIRED = {"type": "string", "format": "date-time"}


def _nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def _obj(properties: dict, required: list[str] | None = None, additional: bool = False) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": additional,
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_CONDITION = _obj(
    {
        "field": {
            "anyOf": [
                {"type": "string", "enum": list(FIXED_FIELDS)},
                {"type": "string", "pattern": "^(label|annotation):[^\\s:][^:]{0,315}$"},
            ],
            "description": "A signal field, or label:<key> / annotation:<key>.",
        },
        "operator": {"type": "string", "enum": list(OPERATORS)},
        "value": {
            "description": "A string, or a list of strings for in / not_in; absent for exists / not_exists.",
        },
    },
    required=["field", "operator"],
)

_SIGNAL = {
    "id": _INT,
    "source": {"type": "string", "enum": list(Source.values)},
    "status": {"type": "string", "enum": list(SignalStatus.values)},
    "alertname": _STR,
    "severity": _STR,
    "summary": _STR,
    "cluster": _STR,
    "namespace": _STR,
    "pod": _STR,
    "container": _STR,
    "workload": _STR,
    "workload_kind": _STR,
    "node": _STR,
    "starts_at": _DT,
    "ends_at": _DT,
    "first_received_at": _DT,
    "last_received_at": _DT,
    "delivery_count": _INT,
    "decision": {"type": "string", "enum": list(Decision.values)},
    "decision_reason": _STR,
    "matched_rule_id": _nullable(_INT),
    "matched_rule_name": _STR,
    "integration": {
        "oneOf": [_obj({"id": _INT, "name": _STR}), {"type": "null"}],
    },
    "investigation_id": _nullable(_INT),
    "pipeline": _BOOL,
}
_SIGNAL_DETAIL = {
    **_SIGNAL,
    "description": _STR,
    "severity_raw": _STR,
    "labels": {"type": "object"},
    "annotations": {"type": "object"},
    "links": {"type": "object"},
    "extraction": {"type": "object"},
}
_INVESTIGATION = {
    "id": _INT,
    "status": {"type": "string", "enum": list(InvestigationStatus.values)},
    "trigger": _STR,
    "cluster": _STR,
    "namespace": _STR,
    "kind": _STR,
    "name": _STR,
    "signal_id": _nullable(_INT),
    "rerun_of": _nullable(_INT),
    "requested_by": _STR,
    "created_at": _DT,
    "started_at": _DT,
    "finished_at": _DT,
    "root_cause_category": _STR,
    "confidence": {"type": ["number", "null"]},
    "summary": _STR,
    "partial": _BOOL,
    "failure_reason": _STR,
}
_STEP = _obj({"stage": _STR, "status": _STR, "started_at": _DT, "finished_at": _DT, "summary": _STR})
_INVESTIGATION_DETAIL = {
    **_INVESTIGATION,
    "result": {"type": ["object", "null"], "description": "The engine's result (root cause, evidence, …)."},
    "llm_tokens": _INT,
    "llm_cost": {"type": "string", "description": "Decimal, in US dollars."},
    "steps": {"type": "array", "items": _STEP},
}
_RULE_WRITABLE = {
    "name": {"type": "string", "minLength": 1, "maxLength": 120},
    "description": {"type": "string", "maxLength": 5000},
    "enabled": _BOOL,
    "match_mode": {"type": "string", "enum": ["all", "any"]},
    "conditions": {"type": "array", "items": _CONDITION, "maxItems": 50},
    "action": {"type": "string", "enum": list(Decision.values)},
    "target_cluster": {"type": "string", "maxLength": 253},
    "dedup_window_minutes": {"type": "integer", "minimum": 0, "maximum": 10080},
    "max_investigations_per_hour": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000},
    "notify_channel": {"type": "string", "maxLength": 200},
    "position": {
        "type": "integer",
        "minimum": 1,
        "maximum": 100000,
        "description": "1-based place in evaluation order (clamped to the number of rules).",
    },
}
_RULE = {
    "id": _INT,
    **dict(_RULE_WRITABLE.items()),
    "max_investigations_per_hour": _nullable(_INT),
    "created_at": _DT,
    "created_by": _STR,
    "updated_at": _DT,
    "updated_by": _STR,
}
_CLUSTER = {
    "id": _INT,
    "name": _STR,
    "status": {"type": "string", "enum": list(ClusterStatus.values)},
    "transport": _STR,
    "agent_version": _STR,
    "kubernetes_version": _STR,
    "protocol_version": _nullable(_INT),
    "last_seen_at": _DT,
    "connected_at": _DT,
    "created_at": _DT,
    "created_by": _STR,
}
_INTEGRATION = {
    "id": _INT,
    "name": _STR,
    "source": {"type": "string", "enum": list(Source.values)},
    "enabled": _BOOL,
    "cluster_name": _STR,
    "auth_kind": _STR,
    "allow_raw_delivery": _BOOL,
    "rate_limit_per_minute": _nullable(_INT),
    "created_at": _DT,
    "created_by": _STR,
    "last_received_at": _DT,
    "deliveries_total": _INT,
    "alerts_total": _INT,
    "rejected_total": _INT,
    "last_error": _STR,
    "last_error_at": _DT,
}


def _page(item: str) -> dict:
    return _obj(
        {
            "count": _INT,
            "page": _INT,
            "limit": _INT,
            "next": {"type": ["string", "null"], "format": "uri"},
            "previous": {"type": ["string", "null"], "format": "uri"},
            "results": {"type": "array", "items": _ref(item)},
        }
    )


SCHEMAS: dict[str, dict] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "description": "Stable machine-readable code."},
                    "message": {"type": "string", "description": "What went wrong, for a person."},
                    "details": {"type": "object", "description": "Offending fields or parameters."},
                }
            )
        }
    ),
    "Index": _obj({"version": _STR, "openapi": _STR, "resources": {"type": "object"}}),
    "Signal": _obj(_SIGNAL),
    "SignalDetail": _obj(_SIGNAL_DETAIL),
    "SignalPage": _page("Signal"),
    "Investigation": _obj(_INVESTIGATION),
    "InvestigationDetail": _obj(_INVESTIGATION_DETAIL),
    "InvestigationPage": _page("Investigation"),
    "InvestigationStart": _obj(
        {
            "cluster": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": "Name of one of this organization's clusters (GET /clusters/).",
            },
            "namespace": {
                "type": "string",
                "maxLength": 253,
                "pattern": _K8S_NAME,
                "description": "Required for every kind but Node.",
            },
            "kind": {"type": "string", "enum": list(TARGET_KINDS)},
            "name": {"type": "string", "maxLength": 253, "pattern": _K8S_NAME},
        },
        required=["cluster", "kind", "name"],
    ),
    "Rule": _obj(_RULE),
    "RuleCreate": _obj(_RULE_WRITABLE, required=["name", "action"]),
    "RuleUpdate": _obj(_RULE_WRITABLE, required=[]),
    "RulePage": _page("Rule"),
    "Cluster": _obj(_CLUSTER),
    "ClusterPage": _page("Cluster"),
    "Integration": _obj(_INTEGRATION),
    "IntegrationPage": _page("Integration"),
    "OpenApi": {"type": "object"},
}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or _STR,
    }


_PAGINATION = [
    _query("page", "1-based page number.", {"type": "integer", "minimum": 1, "maximum": 1000000}),
    _query("limit", "Items per page (default 50).", {"type": "integer", "minimum": 1, "maximum": 200}),
]
_SINCE = "Only items at or after this ISO 8601 date-time."
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_ERRORS = {
    "400": "Invalid parameters or body",
    "401": "No credentials, or an unknown, expired, revoked or other organization's token",
    "403": "Not a member, role or token scope does not allow it, CSRF failure (session), or suspended",
    "404": "No such object in this organization",
    "405": "Method not allowed",
    "415": "The body is not application/json",
    "429": "Rate limited (see Retry-After)",
}

# (pattern name, path, method, operationId, summary, capability, parameters, body schema, status, response)
ROUTES: list[dict[str, Any]] = [
    {
        "name": "index",
        "path": "/",
        "method": "get",
        "op": "apiIndex",
        "summary": "Links to the resources",
        "capability": "view",
        "response": "Index",
    },
    {
        "name": "openapi",
        "path": "/openapi.json",
        "method": "get",
        "op": "openapiDocument",
        "summary": "This description",
        "capability": "view",
        "response": "OpenApi",
    },
    {
        "name": "signal_list",
        "path": "/signals/",
        "method": "get",
        "op": "listSignals",
        "summary": "Signals (alerts), newest first, filtered",
        "capability": "view",
        "response": "SignalPage",
        "params": [
            _query("status", "Firing or resolved.", {"type": "string", "enum": list(SignalStatus.values)}),
            _query(
                "severity",
                "Severity; `none` for unset.",
                {"type": "string", "enum": ["critical", "warning", "info", "none"]},
            ),
            _query("source", "Sending system.", {"type": "string", "enum": list(Source.values)}),
            _query("cluster", "Exact cluster name.", {"type": "string", "maxLength": 253}),
            _query("namespace", "Exact namespace.", {"type": "string", "maxLength": 253}),
            _query(
                "q",
                "Text in alert name, summary, pod, workload, node or namespace.",
                {"type": "string", "maxLength": 200},
            ),
            _query("since", _SINCE, {"type": "string", "format": "date-time"}),
            _query(
                "sort",
                "Order (default `last`: most recently received first).",
                {"type": "string", "enum": list(SORTS)},
            ),
            _query(
                "suppressed",
                "Include suppressed signals.",
                {"type": "string", "enum": ["0", "1", "true", "false"]},
            ),
            *_PAGINATION,
        ],
    },
    {
        "name": "signal_detail",
        "path": "/signals/{id}/",
        "method": "get",
        "op": "getSignal",
        "summary": "One signal with labels and annotations",
        "capability": "view",
        "response": "SignalDetail",
        "params": [_ID],
    },
    {
        "name": "investigation_list",
        "path": "/investigations/",
        "method": "get",
        "op": "listInvestigations",
        "summary": "Investigations, newest first",
        "capability": "view",
        "response": "InvestigationPage",
        "params": [
            _query(
                "status",
                "Investigation status.",
                {"type": "string", "enum": list(InvestigationStatus.values)},
            ),
            _query("cluster", "Exact cluster name.", {"type": "string", "maxLength": 253}),
            _query("namespace", "Exact namespace.", {"type": "string", "maxLength": 253}),
            _query("category", "Root-cause category.", {"type": "string", "maxLength": 253}),
            _query("since", _SINCE, {"type": "string", "format": "date-time"}),
            *_PAGINATION,
        ],
    },
    {
        "name": "investigation_list",
        "path": "/investigations/",
        "method": "post",
        "op": "startInvestigation",
        "summary": "Start an investigation of a resource",
        "capability": "investigate",
        "body": "InvestigationStart",
        "status": "201",
        "response": "InvestigationDetail",
    },
    {
        "name": "investigation_detail",
        "path": "/investigations/{id}/",
        "method": "get",
        "op": "getInvestigation",
        "summary": "One investigation with its result and steps",
        "capability": "view",
        "response": "InvestigationDetail",
        "params": [_ID],
    },
    {
        "name": "investigation_rerun",
        "path": "/investigations/{id}/rerun/",
        "method": "post",
        "op": "rerunInvestigation",
        "summary": "Re-run a finished investigation (409 while it runs)",
        "capability": "investigate",
        "status": "201",
        "response": "InvestigationDetail",
        "params": [_ID],
        "extra_errors": {"409": "The investigation is still pending or running"},
    },
    {
        "name": "rule_list",
        "path": "/rules/",
        "method": "get",
        "op": "listRules",
        "summary": "Alert rules in evaluation order",
        "capability": "view",
        "response": "RulePage",
        "params": [
            _query(
                "enabled", "Only enabled or disabled rules.", {"type": "string", "enum": ["true", "false"]}
            ),
            _query(
                "action", "Only rules with this action.", {"type": "string", "enum": list(Decision.values)}
            ),
            *_PAGINATION,
        ],
    },
    {
        "name": "rule_list",
        "path": "/rules/",
        "method": "post",
        "op": "createRule",
        "summary": "Create a rule (at the end, or at `position`)",
        "capability": "configure",
        "body": "RuleCreate",
        "status": "201",
        "response": "Rule",
    },
    {
        "name": "rule_detail",
        "path": "/rules/{id}/",
        "method": "get",
        "op": "getRule",
        "summary": "One rule",
        "capability": "view",
        "response": "Rule",
        "params": [_ID],
    },
    {
        "name": "rule_detail",
        "path": "/rules/{id}/",
        "method": "put",
        "op": "replaceRule",
        "summary": "Replace a rule (omitted fields take their defaults)",
        "capability": "configure",
        "body": "RuleCreate",
        "response": "Rule",
        "params": [_ID],
    },
    {
        "name": "rule_detail",
        "path": "/rules/{id}/",
        "method": "patch",
        "op": "updateRule",
        "summary": "Change some fields of a rule; `position` moves it",
        "capability": "configure",
        "body": "RuleUpdate",
        "response": "Rule",
        "params": [_ID],
    },
    {
        "name": "rule_detail",
        "path": "/rules/{id}/",
        "method": "delete",
        "op": "deleteRule",
        "summary": "Delete a rule",
        "capability": "configure",
        "status": "204",
        "response": None,
        "params": [_ID],
    },
    {
        "name": "cluster_list",
        "path": "/clusters/",
        "method": "get",
        "op": "listClusters",
        "summary": "Connected Kubernetes clusters (no tokens)",
        "capability": "view",
        "response": "ClusterPage",
        "params": [*_PAGINATION],
    },
    {
        "name": "cluster_detail",
        "path": "/clusters/{id}/",
        "method": "get",
        "op": "getCluster",
        "summary": "One cluster",
        "capability": "view",
        "response": "Cluster",
        "params": [_ID],
    },
    {
        "name": "integration_list",
        "path": "/integrations/",
        "method": "get",
        "op": "listIntegrations",
        "summary": "Alert sources (no secrets)",
        "capability": "view",
        "response": "IntegrationPage",
        "params": [
            _query("source", "Sending system.", {"type": "string", "enum": list(Source.values)}),
            *_PAGINATION,
        ],
    },
    {
        "name": "integration_detail",
        "path": "/integrations/{id}/",
        "method": "get",
        "op": "getIntegration",
        "summary": "One integration",
        "capability": "view",
        "response": "Integration",
        "params": [_ID],
    },
]

_ROLE_FOR = {"view": "viewer", "investigate": "member", "configure": "admin"}


def _operation(route: dict) -> dict:
    responses: dict[str, Any] = {}
    status = route.get("status", "200")
    if route.get("response"):
        responses[status] = {
            "description": "OK" if status == "200" else "Created",
            "content": {"application/json": {"schema": _ref(route["response"])}},
        }
    else:
        responses[status] = {"description": "Done, no content"}
    errors = dict(_ERRORS)
    errors.update(route.get("extra_errors", {}))
    if "body" not in route:
        errors.pop("415")
    if not route.get("params") and "body" not in route:
        errors.pop("400")
    for code, description in sorted(errors.items()):
        responses[code] = {
            "description": description,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    operation: dict[str, Any] = {
        "operationId": route["op"],
        "summary": route["summary"],
        "description": (
            f"Requires the `{route['capability']}` capability "
            f"(role {_ROLE_FOR[route['capability']]} or above)"
            + ("; a token needs scope `write`." if route["method"] != "get" else ".")
        ),
        "tags": [route["path"].strip("/").split("/")[0] or "api"],
        "parameters": copy.deepcopy(route.get("params", [])),
        "responses": responses,
        "x-capability": route["capability"],
    }
    if "body" in route:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(route["body"])}},
        }
    return operation


def openapi_spec(server_url: str = "/api/v1") -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route["path"], {})[route["method"]] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OpsWorker API",
            "version": "1.0.0",
            "description": (
                "The organization's signals, investigations, rules, clusters and integrations. "
                "Scripts send `Authorization: Bearer <token>` (Settings → API tokens; a token works "
                "on its own organization's host only); browsers use their session (CSRF applies to "
                'unsafe methods). Errors are `{"error": {"code", "message", "details"}}`. '
                "Lists are paginated with `page` and `limit` and link `next`/`previous`."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerToken": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "An API token (owk_…)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
        },
    }
