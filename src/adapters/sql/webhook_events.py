"""Processed webhook events, recorded in the same transaction as the change they caused.

``processed_webhook_events.event_id`` is the primary key, so marking an event is an insert that
only one delivery can win. The mark is written by the first commit of the unit of work that
applies the event, together with the booking change and its outbox rows: either all of them
are stored or none is. Crash cases:

- before that commit: nothing is stored; Stripe redelivers (we answered no 2xx) and the event
  is applied then;
- after it (e.g. before a refund call): the mark and the booking's owed refund are stored; the
  redelivery is acknowledged as a duplicate and the worker's ``settle_refunds`` pays the refund;
- two deliveries at once: the second insert waits for the first transaction's row lock, finds
  the key taken, and its whole unit of work rolls back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.errors import storage_errors
from adapters.sql.tables import processed_webhook_events as processed
from adapters.sql.unit_of_work import Publisher, SqlUnitOfWork


class AlreadyProcessed(Exception):  # a signal, not a failure
    """The event was applied before; the unit of work that met it was rolled back."""


def mark_processed(connection: Connection, event_id: str, event_type: str) -> bool:
    """Record the event in the connection's transaction; False if it was recorded before."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(processed)
        .values(event_id=event_id, type=event_type, processed_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=[processed.c.event_id])
        .returning(processed.c.event_id)
    )
    with storage_errors():
        return connection.execute(statement).first() is not None


class MarkingUnitOfWork(SqlUnitOfWork):
    """A unit of work whose first commit also marks one webhook event as processed."""

    def __init__(
        self, engine: Engine, event_id: str, event_type: str, *, webhooks: Publisher | None = None
    ) -> None:
        super().__init__(engine, webhooks=webhooks)
        self.event_id = event_id
        self.event_type = event_type
        self.marked = False

    def commit(self) -> None:
        if not self.marked:
            if self._connection is None:
                raise RuntimeError("commit outside of the unit of work")
            if not mark_processed(self._connection, self.event_id, self.event_type):
                raise AlreadyProcessed(self.event_id)
        super().commit()
        self.marked = True


class SqlWebhookInbox:
    """Which webhook events were applied, in the booking database."""

    def __init__(self, engine: Engine, *, webhooks: Publisher | None = None) -> None:
        self.engine = engine
        self.webhooks = webhooks  # the outgoing webhooks' publisher, for the units of work

    def seen(self, event_id: str) -> bool:
        with storage_errors(), self.engine.connect() as connection:
            found = connection.execute(
                select(processed.c.event_id).where(processed.c.event_id == event_id)
            ).first()
        return found is not None

    def unit_of_work(self, event_id: str, event_type: str) -> MarkingUnitOfWork:
        return MarkingUnitOfWork(self.engine, event_id, event_type, webhooks=self.webhooks)

    def record(self, event_id: str, event_type: str) -> bool:
        """Mark an event that changed nothing; False if it was marked before."""
        with storage_errors(), self.engine.begin() as connection:
            return mark_processed(connection, event_id, event_type)

    def purge_before(self, cutoff: datetime) -> int:
        """Forget events older than Stripe's redelivery window (3 days); returns how many."""
        with storage_errors(), self.engine.begin() as connection:
            return connection.execute(
                delete(processed).where(processed.c.processed_at < cutoff)
            ).rowcount
