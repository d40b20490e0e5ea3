"""The audit log in SQL: written with each change's transaction, read newest first, purged old.

Writing: :func:`write_changes` inserts changes on the caller's connection, so they commit or
roll back with the change they describe; each row is stamped with the actor, the client address
and the request id bound in the context (``adapters.request_context``) and the time. The unit of
work calls it at commit (``uow.audit.record(change)`` adds one there); code that changes state
outside a unit of work (accounts, webhook endpoints) makes one call inside its own transaction:
``record(connection, changed(Entity.WEBHOOK_ENDPOINT, id, "created", None, fields))``.

Reading: :meth:`SqlAuditLog.page` filters by entity, actor, professional and time, newest first,
one page at a time: the cursor is the last id shown (keyset pagination, so a page costs the
same however deep it is and entries written meanwhile never shift it).

Retention: :meth:`SqlAuditLog.purge_before` deletes entries older than a cut-off in bounded
batches, each its own transaction, the only DELETE the table's trigger lets through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, insert, select, text

from adapters.request_context import (
    current_actor,
    current_client_address,
    current_request_id,
)
from adapters.sql.direct import driver_of
from adapters.sql.errors import storage_errors
from adapters.sql.tables import audit_log
from booking.audit import Actor, ActorKind, Change, Fields


def record(connection: Connection, change: Change) -> None:
    """Insert ``change`` in the caller's transaction, stamped from the bound context."""
    write_changes(connection, [change])


def write_changes(
    connection: Connection, changes: Iterable[Change], now: datetime | None = None
) -> None:
    """Insert ``changes`` in the caller's transaction, stamped from the bound context."""
    now = now if now is not None else datetime.now(UTC)
    actor, address, request_id = current_actor(), current_client_address(), current_request_id()
    values = [
        {
            "occurred_at": now,
            "actor_kind": actor.kind.value,
            "actor_id": actor.account_id,
            "actor_role": actor.role,
            "entity": change.entity.value,
            "entity_id": change.entity_id,
            "action": change.action,
            "professional_id": change.professional_id,
            "before": _json(change.before),
            "after": _json(change.after),
            "request_id": request_id,
            "client_address": address,
        }
        for change in changes
    ]
    if values:
        connection.execute(insert(audit_log), values)


# Transaction-local: the append-only trigger lets this transaction's DELETEs through (PostgreSQL).
_ALLOW_RETENTION = text("SELECT set_config('hourbook.audit_retention', 'on', true)")


class PendingAudit:
    """A unit of work's ``audit``: changes recorded now, written by its commit."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def record(self, change: Change) -> None:
        self.changes.append(change)

    def take(self) -> list[Change]:
        taken, self.changes = self.changes, []
        return taken


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    entity: str | None = None
    entity_id: str | None = None
    actor: str | None = None  # an account id, or system / stripe / worker
    professional_id: UUID | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    after_id: int | None = None  # the cursor: the last id of the page before
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: Actor
    entity: str
    entity_id: str
    action: str
    professional_id: UUID | None
    before: Fields | None
    after: Fields | None
    request_id: str | None
    client_address: str | None


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: int | None  # None on the last page


class SqlAuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, query: AuditQuery) -> AuditPage:
        statement = select(audit_log).order_by(audit_log.c.id.desc()).limit(query.limit + 1)
        for condition in _conditions(query):
            statement = statement.where(condition)
        with storage_errors(), self.engine.connect() as connection:
            found = [_entry(row) for row in connection.execute(statement).mappings()]
        more = len(found) > query.limit
        entries = found[: query.limit]
        return AuditPage(entries, entries[-1].id if more else None)

    def purge_before(self, cutoff: datetime, *, batch_size: int, max_batches: int) -> int:
        """Delete entries older than ``cutoff``, at most ``batch_size`` per transaction and
        ``max_batches`` transactions per call (the next call goes on); return how many."""
        purged = 0
        for _ in range(max_batches):
            with storage_errors(), self.engine.begin() as connection:
                if driver_of(connection) is not None:
                    connection.execute(_ALLOW_RETENTION)
                oldest = (
                    select(audit_log.c.id)
                    .where(audit_log.c.occurred_at < cutoff)
                    .order_by(audit_log.c.id)
                    .limit(batch_size)
                )
                ids = list(connection.scalars(oldest))
                if ids:
                    connection.execute(delete(audit_log).where(audit_log.c.id.in_(ids)))
            purged += len(ids)
            if len(ids) < batch_size:
                break
        return purged


def _conditions(query: AuditQuery) -> list[Any]:
    found: list[Any] = []
    if query.entity is not None:
        found.append(audit_log.c.entity == query.entity)
    if query.entity_id is not None:
        found.append(audit_log.c.entity_id == query.entity_id)
    if query.actor is not None:
        try:
            found.append(audit_log.c.actor_id == UUID(query.actor))
        except ValueError:
            found.append(audit_log.c.actor_kind == query.actor)
            found.append(audit_log.c.actor_id.is_(None))
    if query.professional_id is not None:
        found.append(audit_log.c.professional_id == query.professional_id)
    if query.since is not None:
        found.append(audit_log.c.occurred_at >= query.since)
    if query.until is not None:
        found.append(audit_log.c.occurred_at < query.until)
    if query.after_id is not None:
        found.append(audit_log.c.id < query.after_id)
    return found


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        occurred_at=row["occurred_at"],
        actor=Actor(
            kind=ActorKind(row["actor_kind"]), account_id=row["actor_id"], role=row["actor_role"]
        ),
        entity=row["entity"],
        entity_id=row["entity_id"],
        action=row["action"],
        professional_id=row["professional_id"],
        before=_fields(row["before"]),
        after=_fields(row["after"]),
        request_id=row["request_id"],
        client_address=row["client_address"],
    )


def _json(fields: Fields | None) -> str | None:
    return None if fields is None else json.dumps(dict(fields), sort_keys=True)


def _fields(stored: str | None) -> Fields | None:
    return None if stored is None else json.loads(stored)
