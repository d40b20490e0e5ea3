"""Every error the API answers, in one JSON shape, mapped to its status in one place.

The shape (documented in docs/api.md and as ``Error`` in the OpenAPI document)::

    {"error": {"code": "slot_unavailable", "message": "...", "details": {...}}}

``code`` is stable and machine-readable (the domain error's code, or the HTTP status's name);
``details`` appears when there is more to say, e.g. the field errors of a rejected body.
Unexpected exceptions answer 500 with a generic message; their traceback goes to the log only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from flask import Flask, Response, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from booking.errors import (
    BookingError,
    Conflict,
    InvalidInput,
    NotFound,
    PaymentUnavailable,
    RuleViolation,
    StorageUnavailable,
)
from entrypoints.api import outcomes

logger = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
_LIBRARIES = {"redis": "redis", "sqlalchemy": "database", "psycopg": "database",
              "sqlite3": "database"}  # fmt: skip
_STATUS_BY_FAMILY: tuple[tuple[type[BookingError], int], ...] = (
    (InvalidInput, 422),
    (NotFound, 404),
    (RuleViolation, 422),  # IdempotencyKeyReused is one: the same key, another body
    (Conflict, 409),  # SlotUnavailable, RequestInProgress, ConcurrentUpdate, IllegalTransition
    (PaymentUnavailable, 503),
    (StorageUnavailable, 503),
)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code"})
    message = fields.String(required=True, metadata={"description": "for humans"})
    details = fields.Dict(metadata={"description": "more to say, e.g. field errors"})


class ErrorSchema(Schema):
    """The body of every 4xx and 5xx answer."""

    error = fields.Nested(ErrorBodySchema, required=True)


class ApiError(Exception):
    """An error that only the HTTP edge knows about (authorization, preconditions, headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, object] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def status_for(error: BookingError) -> int:
    for family, status in _STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    if details:
        body["details"] = dict(details)
    response = jsonify(error=body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_error(error: BookingError) -> Response:
    outcomes.booking_refused(error)  # counts double-booking attempts and replays
    status = status_for(error)
    headers = {REPLAYED_HEADER: "true"} if error.replayed else {}
    if status == 503:
        headers["Retry-After"] = "5"
        dependency = unavailable_dependency(error)
        logger.warning(  # an outage pages someone: WARNING, naming what is down
            "%s unavailable: %s", dependency, error.message, extra={"dependency": dependency}
        )
    if status == 500:
        logger.error("unmapped domain error", exc_info=error)
        return error_response(500, "internal_error", "something went wrong on our side")
    return error_response(status, error.code, error.message, headers=headers)


def unavailable_dependency(error: BookingError) -> str:
    """``database``, ``redis`` or ``payment provider``: what a 503 is waiting for, read from
    the library that raised the error the domain error was translated from."""
    if isinstance(error, PaymentUnavailable):
        return "payment provider"
    cause: BaseException | None = error.__cause__
    while cause is not None:
        library = type(cause).__module__.split(".")[0]
        if library in _LIBRARIES:
            return _LIBRARIES[library]
        cause = cause.__cause__
    return "storage"


def api_error(error: ApiError) -> Response:
    return error_response(
        error.status, error.code, error.message, error.details, headers=error.headers
    )


def http_error(error: HTTPException) -> Response:
    """Werkzeug's and webargs's HTTP errors (404, 405, 413, 429, bad bodies) in our shape."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    allowed = getattr(error, "valid_methods", None)
    if allowed:  # a 405 names what is allowed (RFC 9110, 15.5.6)
        headers["Allow"] = ", ".join(allowed)
    if isinstance(messages, Mapping):
        return _validation_error(status, messages, headers)
    if status >= 500:
        return error_response(status, "internal_error", "something went wrong on our side")
    message = error.description or error.name
    return error_response(status, _snake(error.name), str(message), headers=headers)


def unexpected_error(error: Exception) -> Response:
    logger.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "something went wrong on our side")


def register(app: Flask) -> None:
    app.register_error_handler(BookingError, domain_error)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def _validation_error(
    status: int, messages: Mapping[str, object], headers: Mapping[str, str]
) -> Response:
    # webargs keys the messages by location: a bad header or unreadable JSON is a malformed
    # request (400); a well-formed body or query with wrong values is unprocessable (422).
    if "headers" in messages:
        return error_response(
            400, "invalid_header", "a request header is missing or malformed",
            {"headers": messages["headers"]}, headers,
        )
    if status == 400:
        return error_response(
            400, "malformed_json", "the body is not valid JSON", dict(messages), headers
        )
    return error_response(
        422, "validation_failed", "the request has invalid fields", dict(messages), headers
    )


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
