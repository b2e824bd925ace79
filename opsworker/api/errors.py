"""The API's one error shape, `{"error": {"code", "message", "details"}}`, and the JSON body parser.

django-ninja raises its own exceptions (validation, HTTP errors, authentication); the handlers
registered by `install_error_handlers` turn each into this shape so clients see one contract.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from opsworker.payload_guard import PayloadRejected, decode_body

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A client error with its HTTP status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details if details is not None else {}
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: Any = None, headers=None) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "message": message, "details": details if details is not None else {}}},
        status=status,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def not_found(message: str = "not found") -> ApiError:
    return ApiError(404, "not_found", message)


# --- request bodies -------------------------------------------------------------------------------


def _check_text(value: Any, where: str) -> None:
    """PostgreSQL refuses NUL characters and lone surrogates; say so as a 400, never a 500."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, "invalid", f"{where}: NUL characters are not allowed", {"field": where})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "invalid", f"{where}: not valid Unicode text", {"field": where}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{where}[{index}]")


class StrictJsonParser(Parser):
    """JSON objects only, sent as application/json: 415 or 400 `invalid_json` otherwise."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(
                415,
                "unsupported_media_type",
                "send the body as application/json",
                {"content_type": content_type},
            )
        try:
            raw = request.body
        except RequestDataTooBig:
            raise ApiError(413, "too_large", "the request body is too large") from None
        # The webhooks' guard: bounded depth, no NaN/1e999/duplicate keys/lone surrogates.
        try:
            data = decode_body(
                raw, request.META.get("CONTENT_TYPE", ""), max_bytes=len(raw) or 1, max_depth=32
            )
        except PayloadRejected as rejected:
            code = {413: "too_large", 415: "unsupported_media_type"}.get(rejected.status, "invalid_json")
            raise ApiError(
                rejected.status, code, f"the body is not valid JSON: {rejected.message}"[:300]
            ) from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", "the body must be a JSON object")
        _check_text(data, "")
        return data


# --- exception handlers ---------------------------------------------------------------------------


def _validation_error(errors: list[dict[str, Any]]) -> JsonResponse:
    """Pydantic's errors → one 400 naming the query parameter, or every offending body field."""
    fields: dict[str, str] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("query", "path"):
            name = next((part for part in reversed(loc[1:]) if not part.isdigit()), loc[-1])
            message = error.get("msg", "invalid")
            return error_response(400, "invalid", f"{name}: {message}", {"parameter": name})
        names = [part for part in loc[2:] if not part.isdigit()]  # ("body", <param>, field, 0, ...)
        name = names[0] if names else "body"
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        elif error.get("type") == "missing":
            message = "this field is required"
        else:
            message = error.get("msg", "invalid")
        fields.setdefault(name, message)
    summary = "; ".join(f"{name}: {message}" for name, message in sorted(fields.items()))
    return error_response(400, "invalid", summary, {"fields": fields})


def install_error_handlers(api: NinjaAPI) -> None:
    """Every failure the API can answer with, in the one shape."""

    @api.exception_handler(ApiError)
    def _api_error(request, error: ApiError):
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @api.exception_handler(NinjaValidationError)
    def _invalid(request, error: NinjaValidationError):
        return _validation_error(list(error.errors))

    @api.exception_handler(HttpError)
    def _http_error(request, error: HttpError):
        if isinstance(error.__cause__, ApiError):  # raised by StrictJsonParser, wrapped by ninja
            return _api_error(request, error.__cause__)
        return error_response(error.status_code, "invalid", str(error))

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, error):
        return error_response(401, "authentication_required", "authentication required")

    @api.exception_handler(Http404)
    def _not_found(request, error):
        return error_response(404, "not_found", str(error) or "not found")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, error):
        return error_response(403, "forbidden", str(error) or "forbidden")

    @api.exception_handler(ValidationError)
    def _django_invalid(request, error: ValidationError):
        return error_response(400, "invalid", "; ".join(error.messages), {"errors": error.messages})

    @api.exception_handler(RequestDataTooBig)
    def _too_large(request, error):
        return error_response(413, "too_large", "the request body is too large")
