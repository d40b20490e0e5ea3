"""The unit of work over SQL: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from functools import lru_cache
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import DBAPIError

from adapters.request_context import current_request_id
from adapters.sql import rows
from adapters.sql.audit import PendingAudit, write_changes
from adapters.sql.direct import driver_of, postgres_sql, run_each
from adapters.sql.errors import storage_errors
from adapters.sql.incidents import SqlPaymentIncidents
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.replicas import Connectable
from adapters.sql.repositories import SqlBookings, SqlClients, SqlProfessionals
from adapters.sql.tables import outbox
from booking.events import Event
from booking.model import Booking, Professional
from booking.ports import (
    AuditTrail,
    BookingRepository,
    ClientRepository,
    PaymentIncidentRepository,
    ProfessionalRepository,
)


class Publisher(Protocol):
    """Writes a commit's outgoing webhook events on its connection, before it commits
    (``adapters.webhooks_out.publisher``): the bookings' events, and the profiles written
    (``True``: created in this unit of work)."""

    def __call__(
        self,
        connection: Connection,
        booking_events: Sequence[tuple[Event, Booking]],
        profiles: Sequence[tuple[bool, Professional]],
        now: datetime,
    ) -> None: ...


@lru_cache(maxsize=4)
def _pg_insert_outbox(columns: tuple[str, ...]) -> str:
    """The outbox INSERT for rows of these columns (``rows.outbox_values``), compiled once."""
    return postgres_sql(insert(outbox).inline(), columns)


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()``; leaving the block without commit rolls back.

    ``commit()`` writes the events recorded by the bookings this unit of work saw into the
    ``outbox`` table in the same transaction, so a change and its notifications are stored
    together or not at all; each row keeps the id of the request being served, if any. The
    object can be entered again for the next transaction.
    """

    professionals: ProfessionalRepository
    clients: ClientRepository
    bookings: BookingRepository
    incidents: PaymentIncidentRepository
    audit: AuditTrail

    def __init__(
        self,
        engine: Engine | Connectable,
        *,
        known_professionals: ProfessionalCache | None = None,
        read_only: bool = False,
        webhooks: Publisher | None = None,
    ) -> None:
        self.engine = engine  # or a ReadRouting: read-only work may go to a standby
        self.webhooks = webhooks
        self.known_professionals = known_professionals  # shared by a process's units of work
        # Read-only: each statement runs on its own (autocommit), which saves the BEGIN and
        # ROLLBACK round trips and SQLite's write lock; statements may see later commits than
        # the ones before them, which no read-only use case minds. commit() is refused.
        self.read_only = read_only
        self.committed = False
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        with storage_errors():
            connection = self.engine.connect()
            try:
                if self.read_only:
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                else:
                    connection.begin()  # on SQLite this is BEGIN IMMEDIATE: waits for writers
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        professionals = SqlProfessionals(connection, self.known_professionals)
        self._professionals = professionals
        self.professionals = professionals
        self.clients = SqlClients(connection)
        self._bookings = SqlBookings(connection, professionals)
        self.bookings = self._bookings
        self.incidents = SqlPaymentIncidents(connection)
        self._audit = PendingAudit()
        self.audit = self._audit
        self.committed = False
        return self

    @property
    def connection(self) -> Connection:
        """The connection of the block being run (which server answers, for diagnostics)."""
        if self._connection is None:
            raise RuntimeError("outside of the unit of work")
        return self._connection

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # A broken connection cannot roll back, but closing it discards the transaction.
            with suppress(DBAPIError):
                if connection.in_transaction():
                    connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        connection = self._connection
        if connection is None or self.committed:
            raise RuntimeError("commit outside of the unit of work")
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        now, request_id = datetime.now(UTC), current_request_id()
        recorded = list(self._new_events())
        events = [rows.outbox_values(event, now, request_id) for event, _ in recorded]
        changes = [
            *self._bookings.audit_changes(),
            *self._professionals.audit_changes(),
            *self._audit.take(),
        ]
        with storage_errors():
            if events and driver_of(connection) is not None:
                run_each(connection, _pg_insert_outbox(tuple(events[0])), events)
            elif events:
                connection.execute(insert(outbox), events)
            write_changes(connection, changes, now)
            if self.webhooks is not None:
                profiles = list(self._professionals.written_profiles.values())
                self.webhooks(connection, recorded, profiles, now)
            connection.commit()
        self.committed = True

    def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            with storage_errors():
                self._connection.rollback()

    def collect_new_events(self) -> Iterator[Event]:
        for event, _ in self._new_events():
            yield event

    def _new_events(self) -> Iterator[tuple[Event, Booking]]:
        for booking in self._bookings.seen:
            while booking.events:
                yield booking.events.pop(0), booking
