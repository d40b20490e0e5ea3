"""The ``Idempotency-Key`` request header (IETF httpapi draft): 1-255 printable ASCII
characters, optionally as a structured-field string in double quotes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

PATTERN = r'^"?[\x21\x23-\x7e][\x20\x21\x23-\x7e]{0,254}"?$'
_KEY = validate.Regexp(PATTERN)
DESCRIPTION = (
    "a unique key per attempt, e.g. a UUID: a retry with the same key and request answers the"
    " first answer again (Idempotent-Replayed: true) instead of acting twice (docs/api.md)"
)


class IdempotencyKeySchema(Schema):
    """The header where an operation requires it (``POST /bookings``)."""

    class Meta:
        unknown = "exclude"  # every other header

    key = fields.String(
        required=True,
        data_key="Idempotency-Key",
        validate=_KEY,
        metadata={"description": DESCRIPTION},
    )

    @post_load
    def unquote(self, data: dict[str, str], **_: Any) -> str | None:
        key = data.get("key")
        if key is None:
            return None
        if len(key) >= 2 and key[0] == key[-1] == '"':  # a structured-field string
            return key[1:-1]
        return key.strip('"')


class OptionalIdempotencyKeySchema(IdempotencyKeySchema):
    """The header everywhere else: without it, the request simply runs."""

    key = fields.String(
        required=False,
        data_key="Idempotency-Key",
        validate=_KEY,
        metadata={"description": DESCRIPTION},
    )
