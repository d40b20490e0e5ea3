"""How much background work is waiting or has failed, read on demand (for the metrics gauges).

Two deployments, two sources of truth:

- with Redis, jobs wait in the RQ queue and failed ones are kept in RQ's ``FailedJobRegistry``;
- without it, the in-process runner works straight from the outbox: a row waiting is a job
  queued, a row it gave up (``failed_at``) is a failed job.

Either way the undispatched outbox rows are reported too: with RQ they are events the relay has
not handed on yet, which grows when the worker's cron scheduler is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import redis
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import Engine, func, select

from adapters.sql.errors import storage_errors
from adapters.sql.tables import outbox


@dataclass(frozen=True, slots=True, kw_only=True)
class Backlog:
    queued: int  # jobs waiting to run
    failed: int  # jobs given up and kept for a human
    undispatched: int  # outbox rows not handed to a job yet


class BacklogSource(Protocol):
    def read(self) -> Backlog: ...


def _outbox_counts(engine: Engine) -> tuple[int, int]:
    """(undispatched rows, failed rows); both counts are served by partial indexes."""
    waiting = select(func.count()).where(outbox.c.dispatched_at.is_(None))
    failed = select(func.count()).where(outbox.c.failed_at.is_not(None))
    with storage_errors(), engine.connect() as connection:
        return connection.scalar(waiting) or 0, connection.scalar(failed) or 0


class OutboxBacklog:
    """The in-process runner's backlog: the outbox table is its queue."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self) -> Backlog:
        undispatched, failed = _outbox_counts(self.engine)
        return Backlog(queued=undispatched, failed=failed, undispatched=undispatched)


class RqBacklog:
    """RQ's queue length and failed-job registry, plus the outbox rows not relayed yet."""

    def __init__(self, engine: Engine, connection: redis.Redis, queue_name: str) -> None:
        self.engine = engine
        self.connection = connection
        self.queue_name = queue_name

    def read(self) -> Backlog:
        queue = Queue(self.queue_name, connection=self.connection, serializer=JSONSerializer)
        failed = FailedJobRegistry(queue=queue).get_job_count(cleanup=False)  # read only
        undispatched, _ = _outbox_counts(self.engine)
        return Backlog(queued=queue.count, failed=failed, undispatched=undispatched)
