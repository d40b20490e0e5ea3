"""Bodies of the account, token, client and health endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from booking.model import PHONE_FORMAT
from entrypoints.api.schemas.common import (
    Changes,
    EmailAddress,
    Line,
    Text,
    name_line,
    time_zone,
)

CLIENT_ZONE = (
    "the client's own IANA time zone: their emails give times in it (and in the"
    " professional's beside it when that differs); without one, in the professional's zone"
)


def phone(**kwargs: Any) -> Line:
    """Empty, or the domain's phone format: at most 21 characters, all on one line."""
    return Line(
        pattern=f"^(?:{PHONE_FORMAT})?$",
        error='not a phone number: an optional "+", then 6-20 digits, spaces, ( ) or -',
        validate=validate.Length(max=21),
        metadata={"example": "+49 30 1234567"},
        **kwargs,
    )


class RegisterSchema(Schema):
    email = EmailAddress(required=True)
    password = Text(required=True, load_only=True, validate=validate.Length(min=10, max=256))
    role = fields.String(required=True, validate=validate.OneOf(["client", "professional"]))
    name = name_line(metadata={"description": "required when role is client"})
    phone = phone(load_default="")
    time_zone = time_zone(
        metadata={"description": f"{CLIENT_ZONE}. Professionals set theirs in their profile"
                  " (ignored here)"}
    )  # fmt: skip

    @validates_schema
    def clients_have_a_name(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("role") == "client" and not data.get("name"):
            raise ValidationError("clients need a name", "name")


class AcceptedSchema(Schema):
    status = fields.String(required=True)
    message = fields.String(required=True)


class LinkArgsSchema(Schema):
    token = Text(required=True, validate=validate.Length(min=1, max=2048))


class PasswordResetSchema(Schema):
    email = EmailAddress(required=True)


class PasswordResetConfirmSchema(Schema):
    token = Text(
        required=True, validate=validate.Length(min=1, max=2048),
        metadata={"description": "the token of the mailed link"},
    )  # fmt: skip
    password = Text(required=True, load_only=True, validate=validate.Length(min=10, max=256))


class VerifiedSchema(Schema):
    status = fields.String(required=True)
    email = fields.String(required=True)


class LoginSchema(Schema):
    email = Text(required=True, validate=validate.Length(min=1, max=320))
    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class TokensSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String()
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class LogoutSchema(Schema):
    refresh_token = Text(
        validate=validate.Length(max=4096),
        metadata={"description": "also revoke this refresh token"},
    )


class ClientSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    time_zone = fields.String(
        required=True, allow_none=True,
        metadata={"description": f"{CLIENT_ZONE}; null when none was given"},
    )  # fmt: skip
    pending_email = fields.String(
        metadata={"description": "a new address awaiting its verification link"}
    )


class ClientChangesSchema(Changes):
    name = name_line()
    email = EmailAddress()
    phone = phone()
    time_zone = time_zone(
        allow_none=True,
        metadata={"description": f"{CLIENT_ZONE}; null removes it"},
    )


class HealthSchema(Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())
