"""What the API reads and answers, declared once: django-ninja validates requests with these,
serializes responses through them and writes the OpenAPI description from them.

What is left out is left out on purpose: token hashes and hints, webhook secrets and credential
settings never leave the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.utils.dateparse import parse_datetime
from ninja import Field, Schema
from pydantic import BeforeValidator, StringConstraints, create_model

from alerts.models import Decision, SignalStatus, Source
from alerts.selectors import SORTS
from investigations.models import InvestigationStatus

# --- query strings ---------------------------------------------------------------------------------


def _whole_number(value: Any) -> Any:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("a whole number")
    return value


def _iso_datetime(value: Any) -> Any:
    """ISO 8601 only (pydantic alone would take `12345` as a Unix time), converted to UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:  # a bare "+" in a query string arrives as a space
            parsed = parse_datetime(str(value).replace(" ", "+"))
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValueError("use an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        # PostgreSQL takes offsets up to ±15:59 only; Python up to ±23:59 (found by schemathesis).
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("the date-time is out of range") from None


Text = Annotated[str, StringConstraints(max_length=253, pattern=r"^[^\x00]*$")]
Since = Annotated[datetime, BeforeValidator(_iso_datetime)]
# The bounds come before the validator, or pydantic leaves them out of the JSON schema.
Page = Annotated[int, Field(ge=1, le=1_000_000), BeforeValidator(_whole_number)]
Limit = Annotated[int, Field(ge=1, le=200), BeforeValidator(_whole_number)]


class PageQuery(Schema):
    page: Page = 1
    limit: Limit = 50


class SignalQuery(PageQuery):
    status: Literal[tuple(SignalStatus.values)] | None = None  # type: ignore[valid-type]
    severity: Literal["critical", "warning", "info", "none"] | None = None
    source: Literal[tuple(Source.values)] | None = None  # type: ignore[valid-type]
    cluster: Text = ""
    namespace: Text = ""
    q: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")] = ""
    sort: Literal[tuple(SORTS)] = "last"  # type: ignore[valid-type]
    suppressed: Literal["0", "1", "true", "false"] = "0"
    since: Since | None = None


class InvestigationQuery(PageQuery):
    status: Literal[tuple(InvestigationStatus.values)] | None = None  # type: ignore[valid-type]
    cluster: Text = ""
    namespace: Text = ""
    category: Text = ""
    since: Since | None = None


class RuleQuery(PageQuery):
    enabled: Literal["true", "false"] | None = None
    action: Literal[tuple(Decision.values)] | None = None  # type: ignore[valid-type]


class IntegrationQuery(PageQuery):
    source: Literal[tuple(Source.values)] | None = None  # type: ignore[valid-type]


class SilenceQuery(PageQuery):
    active: Literal["true", "false"] | None = None


def page_of(item: type[Schema]) -> type[Schema]:
    """The list envelope: `count, page, limit, next, previous, results`."""
    return create_model(
        f"{item.__name__}Page",
        __base__=Schema,
        count=(int, ...),
        page=(int, ...),
        limit=(int, ...),
        next=(str | None, ...),
        previous=(str | None, ...),
        results=(list[item], ...),
    )


# --- answers ---------------------------------------------------------------------------------------


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(Schema):
    error: ErrorBody


class EdgeErrorOut(Schema):
    """413 from the server's body limit (`opsworker/body_limit.py`), before the API reads the body."""

    error: str
    status: int


class Index(Schema):
    version: str
    openapi: str
    resources: dict[str, str]


class IntegrationRef(Schema):
    id: int
    name: str


class SignalOut(Schema):
    id: int
    source: str
    status: str
    alertname: str
    severity: str
    summary: str
    cluster: str
    namespace: str
    pod: str
    container: str
    workload: str
    workload_kind: str
    node: str
    starts_at: datetime | None
    ends_at: datetime | None
    first_received_at: datetime | None
    last_received_at: datetime | None
    delivery_count: int
    decision: str
    decision_reason: str
    matched_rule_id: int | None
    matched_rule_name: str
    integration: IntegrationRef | None
    investigation_id: int | None
    pipeline: bool

    @staticmethod
    def resolve_integration(signal) -> dict | None:
        if not signal.integration_id:
            return None
        return {"id": signal.integration_id, "name": signal.integration.name}


class SignalDetailOut(SignalOut):
    description: str
    severity_raw: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    links: list[Any] | dict[str, Any]
    extraction: dict[str, Any]


class InvestigationOut(Schema):
    id: int
    status: str
    trigger: str
    cluster: str
    namespace: str
    kind: str = Field(..., alias="resource_kind")
    name: str = Field(..., alias="resource_name")
    signal_id: int | None
    rerun_of: int | None = Field(..., alias="rerun_of_id")
    requested_by: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    root_cause_category: str
    confidence: float | None
    summary: str
    partial: bool
    failure_reason: str


class StepOut(Schema):
    stage: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    summary: str


class InvestigationDetailOut(InvestigationOut):
    result: dict[str, Any] | None
    llm_tokens: int
    llm_cost: str
    steps: list[StepOut]

    @staticmethod
    def resolve_llm_cost(investigation) -> str:
        return str(investigation.llm_cost)

    @staticmethod
    def resolve_steps(investigation) -> list:
        return list(investigation.steps.order_by("started_at", "pk"))


class RuleOut(Schema):
    id: int
    name: str
    description: str
    enabled: bool
    position: int
    match_mode: str
    conditions: list[dict[str, Any]]
    action: str
    target_cluster: str
    dedup_window_minutes: int
    max_investigations_per_hour: int | None
    notify_channel: str
    created_at: datetime | None
    created_by: str
    updated_at: datetime | None
    updated_by: str


class ClusterOut(Schema):
    # No token hash or hint: the agent's credential is only ever shown once, on the page.
    id: int
    name: str
    status: str
    transport: str
    agent_version: str
    kubernetes_version: str
    protocol_version: int | None
    last_seen_at: datetime | None
    connected_at: datetime | None
    created_at: datetime | None
    created_by: str

    @staticmethod
    def resolve_status(cluster, context) -> str:
        return cluster.status_at(context["request"].api_now)


class IntegrationOut(Schema):
    # No URL token, hint, auth username/header names or secrets.
    id: int
    name: str
    source: str
    enabled: bool
    cluster_name: str
    auth_kind: str
    allow_raw_delivery: bool
    rate_limit_per_minute: int | None
    created_at: datetime | None
    created_by: str
    last_received_at: datetime | None
    deliveries_total: int
    alerts_total: int
    rejected_total: int
    last_error: str
    last_error_at: datetime | None


class SilenceOut(Schema):
    id: int
    match_mode: str
    conditions: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    author: str
    comment: str
    created_at: datetime
    expired_early_at: datetime | None
    active: bool

    @staticmethod
    def resolve_active(silence, context) -> bool:
        now = context["request"].api_now
        return silence.expired_early_at is None and silence.starts_at <= now < silence.ends_at


class DefaultActionOut(Schema):
    default_action: str


class RulesImportOut(Schema):
    created: int
    removed: int
