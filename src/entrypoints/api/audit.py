"""The audit log: everything for admins, a professional's own bookings and profile for them."""

from __future__ import annotations

import re
from uuid import UUID

from flask.views import MethodView
from marshmallow import RAISE

from adapters.sql.audit import AuditEntry, AuditPage, AuditQuery
from booking.audit import Fields, FieldValue
from entrypoints.accounts import Role
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.presenters import Body
from entrypoints.api.schemas.audit import (
    AuditArgsSchema,
    AuditFilter,
    AuditPageSchema,
    OwnAuditArgsSchema,
)
from entrypoints.api.security import current_principal, protected

blp = Blueprint("audit", __name__, description="Who changed what")

_EMAIL = re.compile(r"^([^@\s])[^@\s]*(@[^@\s]+)$")


@blp.route("/admin/audit")
class AdminAudit(MethodView):
    @protected(Role.ADMIN)
    @blp.arguments(AuditArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, AuditPageSchema)
    def get(self, wanted: AuditFilter) -> Body:
        """Every change, newest first, a page at a time: follow ``next_cursor`` with ``cursor``."""
        query = AuditQuery(
            entity=wanted.entity, entity_id=wanted.entity_id, actor=wanted.actor,
            since=wanted.since, until=wanted.until, after_id=wanted.cursor, limit=wanted.limit,
        )  # fmt: skip
        return page_body(container().audit_log.page(query))


@blp.route("/professionals/<uuid:professional_id>/audit")
class OwnAudit(MethodView):
    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @blp.arguments(OwnAuditArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, AuditPageSchema)
    def get(self, wanted: dict[str, int], professional_id: UUID) -> Body:
        """The changes to your profile, availability, days off and bookings, newest first."""
        principal = current_principal()
        if not (principal.is_admin or principal.owns_profile(professional_id)):
            raise ApiError(403, "forbidden", "only the professional or an admin may read this")
        query = AuditQuery(
            professional_id=professional_id, after_id=wanted.get("cursor"), limit=wanted["limit"]
        )
        return page_body(container().audit_log.page(query))


def page_body(page: AuditPage) -> Body:
    return {"items": [entry_body(entry) for entry in page.entries], "next_cursor": page.next_cursor}


def entry_body(entry: AuditEntry) -> Body:
    return {
        "id": entry.id,
        "occurred_at": entry.occurred_at,
        "actor": {
            "kind": entry.actor.kind.value,
            "account_id": entry.actor.account_id,
            "role": entry.actor.role,
        },
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "action": entry.action,
        "before": masked(entry.before),
        "after": masked(entry.after),
        "request_id": entry.request_id,
        "client_address": entry.client_address,
    }


def masked(fields: Fields | None) -> dict[str, FieldValue] | None:
    """The fields with every email address shown as its first letter and its domain."""
    if fields is None:
        return None
    return {name: _mask(value) for name, value in fields.items()}


def _mask(value: FieldValue) -> FieldValue:
    if isinstance(value, str):
        return _EMAIL.sub(r"\1***\2", value)
    return value
