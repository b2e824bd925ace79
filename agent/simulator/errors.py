"""API errors rendered as `Status` objects, with the reasons and messages the real API server uses."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP code, `Status.reason` and message."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The `meta/v1 Status` body."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def not_found(cls, plural: str, name: str, group: str = "") -> ApiError:
        resource = f"{plural}.{group}" if group else plural
        details = {"name": name, "kind": plural}
        if group:
            details["group"] = group
        return cls(404, "NotFound", f'{resource} "{name}" not found', details)

    @classmethod
    def path_not_found(cls) -> ApiError:
        return cls(404, "NotFound", "the server could not find the requested resource")

    @classmethod
    def forbidden(cls, message: str, details: dict[str, Any] | None = None) -> ApiError:
        return cls(403, "Forbidden", message, details)

    @classmethod
    def method_not_allowed(cls) -> ApiError:
        return cls(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    @classmethod
    def unauthorized(cls) -> ApiError:
        return cls(401, "Unauthorized", "Unauthorized")

    @classmethod
    def expired(cls, message: str) -> ApiError:
        return cls(410, "Expired", message)
