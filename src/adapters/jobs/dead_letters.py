"""Dead letters: outbox events whose notification job was given up, kept for a human.

A job fails for one of two kinds of reason:

- **transient**: a dependency is down (the database, Redis, the mail server, the payment
  provider). Time cures it, so the job keeps its long retry schedule (``RETRY_INTERVALS``);
- **permanent** (anything else: a payload that does not decode, a missing row, a stored value
  the domain refuses, a bug): retrying cannot cure it, so the job is given up after
  ``POISON_ATTEMPTS`` attempts, ``POISON_RETRY_INTERVALS`` apart, instead of blocking hours.

Either way a job given up for good marks its outbox row: ``failed_at`` and ``last_error``. Those
rows are the dead letters, counted by the ``hourbook_dead_letters`` gauge and listed and
requeued by ``hourbook jobs failed`` / ``hourbook jobs requeue`` (both runners; with RQ the job
itself also stays in RQ's failed registry). Other rows' jobs are never held back by them.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from sqlalchemy import Engine, func, literal, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.sql.errors import storage_errors
from adapters.sql.tables import outbox
from adapters.sql.types import UtcDateTime
from booking.errors import ConcurrentUpdate, PaymentUnavailable, StorageUnavailable

# Seconds before each retry of a job whose dependency is down: about seven hours in all, so
# that an outage of the payment provider or the mail server of an afternoon is ridden out.
RETRY_INTERVALS = (10, 30, 60, 120, 300, 900, 1800, 3600, 3600, 3600, 3600, 3600, 3600)
POISON_ATTEMPTS = 3  # attempts in all for a job failing with a permanent error
POISON_RETRY_INTERVALS = (2, 10)  # seconds before the 2nd and 3rd of them
ERROR_LIMIT = 500  # characters of the error kept on the row

_TRANSIENT = (
    StorageUnavailable,
    PaymentUnavailable,
    ConcurrentUpdate,
    OperationalError,  # a database error the translation did not name
    PoolTimeout,
    redis.ConnectionError,
    redis.TimeoutError,
    OSError,  # sockets, timeouts, smtplib's errors, a full disk
)


def is_transient(error: BaseException) -> bool:
    """Whether waiting may cure ``error``: a dependency that is down, not a message at fault.
    A mail server's permanent refusal (5xx) is not transient, though smtplib raises it as an
    OSError."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code < 500
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code < 500 for code, _ in error.recipients.values())
    if isinstance(error, _TRANSIENT):
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and is_transient(cause)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    outbox_id: int
    event_type: str
    occurred_at: datetime
    failed_at: datetime
    error: str
    request_id: str | None


def describe(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())  # one line, for listings
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 3] + "..."


def give_up(engine: Engine, outbox_id: int, error: BaseException) -> bool:
    """Mark the row a dead letter (and dispatched, so no runner tries it again); False when
    there is no such row (its job was poison from the start)."""
    now = datetime.now(UTC)
    with storage_errors(), engine.begin() as connection:
        marked = connection.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(
                # typed, so that SQLite stores it in UtcDateTime's sortable text form
                dispatched_at=func.coalesce(outbox.c.dispatched_at, literal(now, UtcDateTime())),
                failed_at=now,
                last_error=describe(error),
            )
        ).rowcount
    return bool(marked)


def count(engine: Engine) -> int:
    """How many dead letters there are (a partial index serves it)."""
    with storage_errors(), engine.connect() as connection:
        return connection.scalar(select(func.count()).where(outbox.c.failed_at.is_not(None))) or 0


def is_dead(engine: Engine, outbox_id: int) -> bool:
    query = select(outbox.c.id).where(outbox.c.id == outbox_id, outbox.c.failed_at.is_not(None))
    with storage_errors(), engine.connect() as connection:
        return connection.scalar(query) is not None


def listing(engine: Engine, *, limit: int | None = 100) -> list[DeadLetter]:
    """The dead letters, oldest event first (all of them with ``limit=None``)."""
    query = (
        select(
            outbox.c.id, outbox.c.event_type, outbox.c.occurred_at, outbox.c.failed_at,
            outbox.c.last_error, outbox.c.request_id,
        )
        .where(outbox.c.failed_at.is_not(None))
        .order_by(outbox.c.id)
        .limit(limit)
    )  # fmt: skip
    with storage_errors(), engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        DeadLetter(
            outbox_id=row.id, event_type=row.event_type, occurred_at=row.occurred_at,
            failed_at=row.failed_at, error=row.last_error or "", request_id=row.request_id,
        )
        for row in rows
    ]  # fmt: skip


def revive(engine: Engine, outbox_id: int, *, redispatch: bool) -> bool:
    """Make a dead letter an ordinary row again; False when ``outbox_id`` is not a dead letter.

    ``redispatch`` also marks it undispatched, for the in-process runner, which works straight
    from the outbox; with RQ the caller enqueues a fresh job instead (``rq_jobs.requeue``)."""
    values: dict[str, object] = {"failed_at": None, "last_error": None}
    if redispatch:
        values["dispatched_at"] = None
    with storage_errors(), engine.begin() as connection:
        changed = connection.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.failed_at.is_not(None))
            .values(**values)
        ).rowcount
    return bool(changed)
