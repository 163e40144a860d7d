"""Domain errors: services raise them with a user-facing, translatable message.

Views turn them into flash messages or form errors, the API into JSON errors
(`code` and HTTP `status` below), the CLI into a message and exit code 1.
"""

from __future__ import annotations

from flask import Response, g, has_request_context, jsonify


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Invalid(DomainError):
    code = "invalid"
    status = 422


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


def json_error(status: int, message: str, code: str | None = None) -> tuple[Response, int]:
    """The API's error shape: {"error": {"code", "message"}, "request_id"} with
    the right status; `request_id` is the response's X-Request-Id
    (vle.operations.requests), to quote when reporting the error."""
    body: dict[str, object] = {
        "error": {"code": code or HTTP_CODES.get(status, "error"), "message": str(message)}
    }
    if has_request_context() and "request_id" in g:
        body["request_id"] = g.request_id
    return jsonify(body), status
