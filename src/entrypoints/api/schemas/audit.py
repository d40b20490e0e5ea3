"""The audit log's query and its entries, as the API reads and shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import Schema, fields, post_load, validate

from booking.audit import ActorKind, Entity
from entrypoints.api.schemas.common import PAGE, instant, instant_years

_KINDS = [kind.value for kind in ActorKind if kind is not ActorKind.ACCOUNT]
ACTOR_PATTERN = (
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    rf"|{'|'.join(_KINDS)})$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    entity: str | None
    entity_id: str | None
    actor: str | None
    since: datetime | None
    until: datetime | None
    cursor: int | None
    limit: int


def _cursor() -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=1, max=2**62),
        metadata={"description": "the `next_cursor` of the page before (pages go newest first)"},
    )


class AuditArgsSchema(Schema):
    entity = fields.String(
        validate=validate.OneOf([entity.value for entity in Entity]),
        metadata={"description": "only entries about this kind of thing"},
    )
    entity_id = fields.String(
        validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[0-9A-Za-z_.:-]+$")],
        metadata={"description": "only entries about the thing of this id (a booking's, ...)"},
    )
    actor = fields.String(
        validate=validate.Regexp(ACTOR_PATTERN),
        metadata={"description": f"an account id, or one of {', '.join(_KINDS)}"},
    )
    since = instant(data_key="from", metadata={"description": f"at or after; {instant_years()}"})
    until = instant(data_key="to", metadata={"description": f"before; {instant_years()}"})
    cursor = _cursor()
    limit = fields.Integer(load_default=50, validate=PAGE)

    @post_load
    def to_filter(self, data: dict[str, Any], **_: Any) -> AuditFilter:
        return AuditFilter(
            entity=data.get("entity"),
            entity_id=data.get("entity_id"),
            actor=data.get("actor"),
            since=data.get("since"),
            until=data.get("until"),
            cursor=data.get("cursor"),
            limit=data["limit"],
        )


class OwnAuditArgsSchema(Schema):
    cursor = _cursor()
    limit = fields.Integer(load_default=50, validate=PAGE)


class ActorSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ActorKind]))
    account_id = fields.UUID(required=True, allow_none=True)
    role = fields.String(required=True, allow_none=True)


_CHANGED = {
    "description": "the fields that changed and may be shown (email addresses masked);"
    " null when none are (a creation has no before)",
}


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    occurred_at = fields.AwareDateTime(
        required=True,
        metadata={"description": f"when the change was committed: {instant_years()}, UTC"},
    )
    actor = fields.Nested(ActorSchema, required=True)
    entity = fields.String(required=True, validate=validate.OneOf([e.value for e in Entity]))
    entity_id = fields.String(required=True)
    action = fields.String(required=True)
    before = fields.Dict(keys=fields.String(), required=True, allow_none=True, metadata=_CHANGED)
    after = fields.Dict(keys=fields.String(), required=True, allow_none=True, metadata=_CHANGED)
    request_id = fields.String(required=True, allow_none=True)
    client_address = fields.String(required=True, allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_cursor = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )
