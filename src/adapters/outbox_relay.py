"""Moves committed domain events from the ``outbox`` table to the job queue.

The unit of work writes events in the same transaction as the change, so nothing is lost when
the queue is down: rows stay undispatched and the next tick hands them on. ``relay_once``
selects a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent relays take disjoint
rows; SQLite's ``BEGIN IMMEDIATE`` serialises them), hands each row id to ``enqueue`` and marks
the rows that were handed on as dispatched, in that same transaction. A crash after enqueueing
but before the commit hands a row on twice; the job id (``outbox-<id>``) and the jobs' own
idempotency make that harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

from adapters.sql.errors import storage_errors
from adapters.sql.tables import outbox

logger = logging.getLogger(__name__)

Enqueue = Callable[[int], None]  # raises QueueUnavailable when the queue cannot take the job


class QueueUnavailable(Exception):
    """The job queue cannot be reached now; the row is relayed on a later tick."""


class OutboxRelay:
    def __init__(self, engine: Engine, *, batch_size: int = 100) -> None:
        self.engine = engine
        self.batch_size = batch_size

    def relay_once(self, enqueue: Enqueue) -> int:
        """Hand undispatched rows to ``enqueue``, oldest first; how many were handed on."""
        handed: list[int] = []
        with storage_errors(), self.engine.begin() as connection:
            for outbox_id in self._pending(connection):
                try:
                    enqueue(outbox_id)
                except QueueUnavailable as error:  # keep this row and the rest for the next tick
                    logger.warning("outbox %s not relayed, retrying later: %s", outbox_id, error)
                    break
                handed.append(outbox_id)
            self._mark(connection, handed)
        return len(handed)

    def pending(self) -> list[int]:
        """Undispatched row ids, for runners that dispatch after the job ran (inline)."""
        with storage_errors(), self.engine.connect() as connection:
            return self._pending(connection, lock=False)

    def mark_dispatched(self, outbox_id: int) -> None:
        with storage_errors(), self.engine.begin() as connection:
            self._mark(connection, [outbox_id])

    def mark_failed(self, outbox_id: int) -> None:
        """Give the row up: dispatched (no more tries) and failed (counted as a failed job)."""
        now = datetime.now(UTC)
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.dispatched_at.is_(None))
                .values(dispatched_at=now, failed_at=now)
            )

    def _pending(self, connection: Connection, *, lock: bool = True) -> list[int]:
        query = (
            select(outbox.c.id)
            .where(outbox.c.dispatched_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        if lock and connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(connection.scalars(query))

    @staticmethod
    def _mark(connection: Connection, ids: list[int]) -> None:
        if ids:
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.dispatched_at.is_(None))
                .values(dispatched_at=datetime.now(UTC))
            )
