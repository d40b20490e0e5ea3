"""Ways to book a slot, all with one shape, so one load generator drives each of them.

A ``Booker`` is made per client thread (it may hold a connection) and answers True when the
slot was booked, False when it was refused as taken; anything else raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Engine

from adapters.clock import SystemClock
from adapters.payments.simulator import SimulatedPayments
from adapters.sql.unit_of_work import SqlUnitOfWork
from bench.database import Database
from bench.floors import book_with_psycopg
from bench.seed import DURATION
from booking import services
from booking.commands import CreateBooking
from booking.errors import SlotUnavailable
from booking.holds import HoldLimits
from booking.ports import IdempotencyStore

Booker = Callable[[UUID, datetime], bool]  # (professional, start) -> booked?
# Each client thread holds far more than the default caps allow: they are measured off.
UNCAPPED = HoldLimits(per_client=10**6, per_client_and_professional=10**6)
BookerFactory = Callable[[int], Booker]  # client index -> that client's booker


def _no_sink(payload: bytes, signature: str) -> None:
    """The simulator's webhooks go nowhere: only the hold is measured."""


def service_layer(
    engine: Engine, idempotency: IdempotencyStore, client_ids: list[UUID]
) -> BookerFactory:
    """``booking.services.create_booking`` with the SQL unit of work, as the API calls it."""
    payments = SimulatedPayments("whsec_bench", sink=_no_sink)
    clock = SystemClock()

    def factory(index: int) -> Booker:
        client_id = client_ids[index]

        def book(professional_id: UUID, start: datetime) -> bool:
            cmd = CreateBooking(
                client_id=client_id,
                professional_id=professional_id,
                start=start,
                duration=DURATION,
                idempotency_key=uuid4().hex,
            )
            try:
                services.create_booking(
                    cmd,
                    uow=SqlUnitOfWork(engine),
                    payments=payments,
                    idempotency=idempotency,
                    clock=clock,
                    limits=UNCAPPED,
                )
            except SlotUnavailable:
                return False
            return True

        return book

    return factory


def plain_psycopg(database: Database, client_ids: list[UUID]) -> BookerFactory:
    """Floor (a): overlap check and insert with plain psycopg, one connection per client."""

    def factory(index: int) -> Booker:
        connection = database.connect(autocommit=True)  # transactions are explicit
        client_id = client_ids[index]

        def book(professional_id: UUID, start: datetime) -> bool:
            return book_with_psycopg(connection, professional_id, client_id, start, DURATION)

        return book

    return factory
