"""How much background work is waiting or has failed, read on demand (for the metrics gauges).

Two deployments, two sources of truth:

- with Redis, jobs wait in the RQ queue and failed ones are kept in RQ's ``FailedJobRegistry``;
- without it, the in-process runner works straight from the outbox: a row waiting is a job
  queued, a row it gave up (``failed_at``) is a failed job.

Either way the undispatched outbox rows are reported too: with RQ they are events the relay has
not handed on yet, which grows when the worker's cron scheduler is down. So are the dead letters
(outbox rows whose notification job was given up, ``adapters.jobs.dead_letters``) and the refunds
still owed to clients (the settle job's backlog: money that has not gone back yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import redis
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import Connection, Engine, func, select

from adapters.jobs.rq_worker import SERIALIZER
from adapters.sql.errors import storage_errors
from adapters.sql.tables import bookings, outbox


@dataclass(frozen=True, slots=True, kw_only=True)
class OwedRefunds:
    """Refunds decided but not (fully) paid, in one currency."""

    count: int  # bookings
    cents: int  # still to pay back
    oldest: datetime  # when the longest-waiting booking last changed (its refund was decided)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backlog:
    queued: int  # jobs waiting to run
    failed: int  # jobs given up and kept for a human
    undispatched: int  # outbox rows not handed to a job yet
    dead_letters: int = 0  # outbox rows whose notification job was given up
    refunds_owed: dict[str, OwedRefunds] = field(default_factory=dict)  # by currency
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))  # ages count from it


Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BacklogSource(Protocol):
    def read(self) -> Backlog: ...


@dataclass(frozen=True, slots=True)
class _Stored:
    undispatched: int
    dead_letters: int
    refunds_owed: dict[str, OwedRefunds]


def _stored(engine: Engine) -> _Stored:
    """What the database says; every query is served by a partial index."""
    waiting = select(func.count()).where(outbox.c.dispatched_at.is_(None))
    failed = select(func.count()).where(outbox.c.failed_at.is_not(None))
    with storage_errors(), engine.connect() as connection:
        return _Stored(
            connection.scalar(waiting) or 0,
            connection.scalar(failed) or 0,
            _refunds_owed(connection),
        )


def _refunds_owed(connection: Connection) -> dict[str, OwedRefunds]:
    owed = bookings.c.refund_due_cents - bookings.c.refunded_cents
    query = (
        select(
            bookings.c.currency, func.count(), func.sum(owed), func.min(bookings.c.updated_at)
        )
        .where(bookings.c.refund_due_cents > bookings.c.refunded_cents)
        .group_by(bookings.c.currency)
    )
    return {
        currency: OwedRefunds(count=count, cents=int(cents), oldest=oldest)
        for currency, count, cents, oldest in connection.execute(query)
    }


class OutboxBacklog:
    """The in-process runner's backlog: the outbox table is its queue."""

    def __init__(self, engine: Engine, *, now: Now = _utc_now) -> None:
        self.engine = engine
        self.now = now

    def read(self) -> Backlog:
        stored = _stored(self.engine)
        return Backlog(
            queued=stored.undispatched,
            failed=stored.dead_letters,
            undispatched=stored.undispatched,
            dead_letters=stored.dead_letters,
            refunds_owed=stored.refunds_owed,
            read_at=self.now(),
        )


class RqBacklog:
    """RQ's queue length and failed-job registry, plus the outbox rows not relayed yet."""

    def __init__(
        self, engine: Engine, connection: redis.Redis, queue_name: str, *, now: Now = _utc_now
    ) -> None:
        self.engine = engine
        self.connection = connection
        self.queue_name = queue_name
        self.now = now

    def read(self) -> Backlog:
        queue = Queue(self.queue_name, connection=self.connection, serializer=SERIALIZER)
        failed = FailedJobRegistry(queue=queue).get_job_count(cleanup=False)  # read only
        stored = _stored(self.engine)
        return Backlog(
            queued=queue.count,
            failed=failed,
            undispatched=stored.undispatched,
            dead_letters=stored.dead_letters,
            refunds_owed=stored.refunds_owed,
            read_at=self.now(),
        )
