"""Helpers shared by the integration tests; module level so spawned processes can import them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

import sqlalchemy as sa

from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments
from adapters.sql.engine import make_engine
from adapters.sql.tables import bookings
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import catalogue, services
from booking.commands import CreateBooking
from booking.errors import BookingError
from booking.holds import HoldLimits
from booking.model import Client, Professional
from booking.ports import IdempotencyStore
from tests.factories import FixedClock, make_client, make_professional, new_key

T = TypeVar("T")
UNCAPPED = HoldLimits(per_client=100, per_client_and_professional=100)


def register(engine: sa.Engine, **overrides: object) -> tuple[Professional, Client]:
    """A professional (available 9-17 UTC every day, no notice) and a client, stored."""
    uow = SqlUnitOfWork(engine)
    professional = catalogue.register_professional(make_professional(**overrides), uow=uow)
    client = catalogue.register_client(make_client(), uow=uow)
    return professional, client


def request(
    professional: Professional, client: Client, start: datetime, duration: timedelta,
    key: str | None = None,
) -> CreateBooking:
    return CreateBooking(
        client_id=client.id,
        professional_id=professional.id,
        start=start,
        duration=duration,
        idempotency_key=key or new_key(),
    )


def attempt(
    engine: sa.Engine,
    cmd: CreateBooking,
    *,
    clock: FixedClock,
    idempotency: IdempotencyStore | None = None,
    payments: InMemoryPayments | None = None,
    limits: HoldLimits = UNCAPPED,
) -> str:
    """Book through the service layer; the outcome as "ok" or the domain error's code.

    The races here are about time, so one client may hold as much as it likes unless
    ``limits`` says otherwise (test_concurrent_holds races the caps themselves)."""
    try:
        services.create_booking(
            cmd,
            uow=SqlUnitOfWork(engine),
            payments=payments or InMemoryPayments(),
            idempotency=idempotency or InMemoryIdempotencyStore(clock),
            clock=clock,
            limits=limits,
        )
    except BookingError as error:
        return error.code
    return "ok"


def all_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def active_bookings(engine: sa.Engine, professional_id: UUID) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(
                bookings.c.professional_id == professional_id,
                bookings.c.status != "cancelled",
            )
        ).scalar_one()


def count_rows(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def book_in_process(
    url: str, commands: list[CreateBooking], clock: FixedClock
) -> list[str]:
    """Run in a spawned process: book each command with the process's own engine."""
    engine = make_engine(url)
    try:
        return [attempt(engine, cmd, clock=clock) for cmd in commands]
    finally:
        engine.dispose()


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends through SQLAlchemy while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
