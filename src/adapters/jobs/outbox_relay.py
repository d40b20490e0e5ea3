"""Moves committed domain events from the ``outbox`` table to the job queue.

The unit of work writes events in the same transaction as the change, so nothing is lost when
the queue is down: rows stay undispatched and the next tick hands them on. ``relay_once``
selects a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent relays take disjoint
rows; SQLite's ``BEGIN IMMEDIATE`` serialises them), hands each row's id and job key to
``enqueue`` and marks as dispatched, in that same transaction, only the rows whose job
``enqueue`` returned for: a row whose job could not be enqueued stays for the next tick.

The job key (random, written with the row) names the row's job, so no other database's row,
nor a row of this database restored to an earlier id sequence, can be taken for it. A crash
after enqueueing but before the commit hands a row on twice; the job id (from the key) and the
jobs' own idempotency make that harmless. A row without a key (written before revision 0005)
gets one in this tick's transaction and is handed on at the next, once the key is committed
for the job to find.

A row's life: written (undispatched); *dispatched* when its job is in the queue; *done*
(``done_at``) when the job succeeded (``mark_done``), or a *dead letter* (``failed_at``) when it
was given up (``adapters.jobs.dead_letters``). A row dispatched but neither done nor dead is *in
flight*: its job is queued, running, or waiting for a retry, and exists in Redis. If Redis
loses it (restarted empty), ``rehand_lost`` finds the row (``ix_outbox_in_flight``), sees that
its job no longer exists and hands it on again; the sent log, kept in the database, stops the
emails that job had already sent from going twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, literal, select, update

from adapters.sql.errors import storage_errors
from adapters.sql.rows import new_job_key
from adapters.sql.tables import outbox
from adapters.sql.types import UtcDateTime

logger = logging.getLogger(__name__)

# enqueue(row id, job key) returns once the row's own job is in the queue, and raises
# QueueUnavailable when the queue cannot take it.
Enqueue = Callable[[int, str], None]
# job_exists(job key): whether the queue still holds the row's job (queued, running, scheduled
# for a retry, finished or failed); raises QueueUnavailable when the queue cannot be asked.
JobExists = Callable[[str], bool]

# An in-flight row is looked at again (its job asked for) once it was handed on, or last seen
# in the queue, this long ago: a job whose Redis was lost is handed on again within about this
# time of Redis being back, and a row whose job is waiting for a retry is asked about no more
# often than this.
REHAND_AFTER = timedelta(seconds=15)


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
            pending = self._pending_jobs(connection)
            for outbox_id, job_key in pending:
                if job_key is None:
                    continue  # keyed below, handed on next tick
                try:
                    enqueue(outbox_id, job_key)
                except QueueUnavailable as error:  # keep this row and the rest for the next tick
                    logger.warning("outbox %s not relayed, retrying later: %s", outbox_id, error)
                    break
                handed.append(outbox_id)
            self._mark(connection, handed)
            self._give_keys(connection, [row_id for row_id, key in pending if key is None])
        return len(handed)

    def rehand_lost(
        self, enqueue: Enqueue, job_exists: JobExists, *, after: timedelta = REHAND_AFTER
    ) -> int:
        """Hand on again in-flight rows whose job the queue lost; how many were.

        Rows handed on (or seen in the queue) more than ``after`` ago are looked at, oldest
        first, at most ``batch_size`` of them. Each is stamped dispatched now: re-handed, or
        its job seen alive, it is not looked at again for ``after``."""
        now = datetime.now(UTC)
        rehanded: list[int] = []
        seen: list[int] = []
        with storage_errors(), self.engine.begin() as connection:
            for outbox_id, job_key in self._in_flight(connection, now - after):
                try:
                    if job_exists(job_key):
                        seen.append(outbox_id)
                        continue
                    enqueue(outbox_id, job_key)
                except QueueUnavailable as error:
                    logger.warning("outbox %s not re-handed, retrying later: %s", outbox_id, error)
                    break
                logger.warning(
                    "outbox %s: its job (key %s) was lost by the queue; handed on again",
                    outbox_id, job_key,
                )  # fmt: skip
                rehanded.append(outbox_id)
            if rehanded or seen:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(rehanded + seen), outbox.c.done_at.is_(None))
                    .values(dispatched_at=now)
                )
        return len(rehanded)

    def row_of(self, job_key: str) -> int | None:
        """The id of the row whose job this is, or None: not a job of this database."""
        with storage_errors(), self.engine.connect() as connection:
            found = connection.scalar(select(outbox.c.id).where(outbox.c.job_key == job_key))
        return int(found) if found is not None else None

    def key_of(self, outbox_id: int) -> str:
        """The row's job key, given to it now if it has none yet (rows older than 0005)."""
        with storage_errors(), self.engine.begin() as connection:
            self._give_keys(connection, [outbox_id])
            key = connection.scalar(select(outbox.c.job_key).where(outbox.c.id == outbox_id))
        if key is None:
            raise LookupError(f"no outbox row {outbox_id}")
        return str(key)

    def pending(self) -> list[int]:
        """Undispatched row ids, for runners that dispatch after the job ran (inline)."""
        with storage_errors(), self.engine.connect() as connection:
            return self._pending(connection)

    def mark_dispatched(self, outbox_id: int) -> None:
        with storage_errors(), self.engine.begin() as connection:
            self._mark(connection, [outbox_id])

    def mark_done(self, outbox_id: int) -> None:
        """The row's job succeeded: done (and dispatched, for a runner that dispatches after)."""
        now = datetime.now(UTC)
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(
                    # typed, so that SQLite stores it in UtcDateTime's sortable text form
                    dispatched_at=func.coalesce(
                        outbox.c.dispatched_at, literal(now, UtcDateTime())
                    ),
                    done_at=now,
                )
            )

    def mark_failed(self, outbox_id: int) -> None:
        """Give the row up: dispatched (no more tries) and failed (counted as a failed job)."""
        now = datetime.now(UTC)
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.dispatched_at.is_(None))
                .values(dispatched_at=now, failed_at=now)
            )

    def _pending(self, connection: Connection) -> list[int]:
        query = (
            select(outbox.c.id)
            .where(outbox.c.dispatched_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        return list(connection.scalars(query))

    def _pending_jobs(self, connection: Connection) -> list[tuple[int, str | None]]:
        query = (
            select(outbox.c.id, outbox.c.job_key)
            .where(outbox.c.dispatched_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [(row.id, row.job_key) for row in connection.execute(query)]

    def _in_flight(self, connection: Connection, before: datetime) -> list[tuple[int, str]]:
        query = (
            select(outbox.c.id, outbox.c.job_key)
            .where(
                outbox.c.dispatched_at.is_not(None),
                outbox.c.done_at.is_(None),
                outbox.c.failed_at.is_(None),
                outbox.c.dispatched_at < before,
                outbox.c.job_key.is_not(None),
            )
            .order_by(outbox.c.dispatched_at)
            .limit(self.batch_size)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [(row.id, row.job_key) for row in connection.execute(query)]

    @staticmethod
    def _give_keys(connection: Connection, ids: list[int]) -> None:
        for outbox_id in ids:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.job_key.is_(None))
                .values(job_key=new_job_key())
            )

    @staticmethod
    def _mark(connection: Connection, ids: list[int]) -> None:
        if ids:
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.dispatched_at.is_(None))
                .values(dispatched_at=datetime.now(UTC))
            )
