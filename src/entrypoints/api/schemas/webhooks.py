"""Bodies of the admin's outgoing-webhook endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.webhooks_out.events import EVENT_TYPES
from entrypoints.api.schemas.common import PAGE, Changes, Line

URL_RULES = (
    "An http(s) URL without user name or password, at most 2000 characters. Its host must"
    " resolve to public addresses only (no loopback, private, link-local or metadata address,"
    " unless the operator allowed its network), and in production the URL must use https;"
    " otherwise 422 with code url_not_allowed. It is checked again before every delivery."
)


def _url(**kwargs: object) -> Line:
    return Line(
        # visible ASCII only (non-ASCII names in their punycode form)
        pattern=r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9._~%!$&'()*+,;=:\[\]-]+([/?#][!-~]*)?$",
        error="must be an http:// or https:// URL",
        validate=validate.Length(min=8, max=2000),
        metadata={"description": URL_RULES},
        **kwargs,  # type: ignore[arg-type]
    )


def _event_types(**kwargs: object) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": "the event types sent to this endpoint"},
        **kwargs,  # type: ignore[arg-type]
    )


def _description(**kwargs: object) -> Line:
    return Line(validate=validate.Length(max=500), **kwargs)  # type: ignore[arg-type]


class NewEndpointSchema(Schema):
    url = _url(required=True)
    event_types = _event_types(required=True)
    description = _description(load_default="")
    enabled = fields.Boolean(load_default=True)


class EndpointChangesSchema(Changes):
    url = _url()
    event_types = _event_types()
    description = _description()
    enabled = fields.Boolean(
        metadata={"description": "true also forgets the dead deliveries that disabled it"}
    )


class EndpointSchema(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(
        required=True, allow_none=True,
        metadata={"description": "why the worker disabled it (dead deliveries in a row)"},
    )  # fmt: skip
    previous_secret_expires_at = fields.AwareDateTime(
        required=True, allow_none=True,
        metadata={"description": "until when the secret before the last rotation still signs"},
    )  # fmt: skip
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "the signing secret: shown in this answer only, keep it"},
    )


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)


class RotationSchema(Schema):
    grace_minutes = fields.Integer(
        load_default=24 * 60,
        validate=validate.Range(min=0, max=7 * 24 * 60),
        metadata={"description": "how long the current secret keeps signing too (default a day)"},
    )


class AttemptSchema(Schema):
    attempted_at = fields.AwareDateTime(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("succeeded", "failed")))
    status_code = fields.Integer(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True)
    response_body = fields.String(
        required=True, metadata={"description": "the first 2 KiB of the receiver's answer"}
    )
    error = fields.String(required=True, allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(("pending", "succeeded", "dead")))
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)
    next_attempt_at = fields.AwareDateTime(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    finished_at = fields.AwareDateTime(required=True, allow_none=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class DeliveryPageArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=PAGE)
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))
