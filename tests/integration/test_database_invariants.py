"""The database itself refuses overlapping active bookings, whatever the application does.

Rows are written with Core statements straight into ``bookings``, bypassing the domain, to show
that the PostgreSQL exclusion constraint and the SQLite triggers hold on their own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from adapters.sql.tables import bookings
from tests.factories import MONDAY, at
from tests.integration.support import register


def row(
    professional_id: UUID, client_id: UUID, start: datetime, end: datetime, *,
    buffer: timedelta = timedelta(0), status: str = "pending",
) -> dict[str, object]:
    return {
        "id": uuid4(), "professional_id": professional_id, "client_id": client_id,
        "start_time": start, "end_time": end, "blocked_until": end + buffer,
        "buffer_minutes": buffer // timedelta(minutes=1), "total_price_cents": 100,
        "currency": "usd", "status": status, "cancellation_reason": None,
        "payment_intent_id": None, "refund_due_cents": 0, "refunded_cents": 0,
        "idempotency_key": None, "version": 1, "created_at": MONDAY, "updated_at": MONDAY,
    }


def insert(engine: sa.Engine, *values: dict[str, object]) -> None:
    with engine.begin() as connection:
        for value in values:
            connection.execute(sa.insert(bookings).values(**value))


def rejects_overlap(error: sa.exc.DBAPIError) -> bool:
    message = str(error.orig)
    return "booking_overlap" in message or "ex_bookings_no_overlap" in message


@pytest.fixture
def pair(engine: sa.Engine) -> tuple[UUID, UUID]:
    professional, client = register(engine)
    return professional.id, client.id


def test_the_database_rejects_an_overlapping_active_booking(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    insert(engine, row(*pair, at(MONDAY, 10), at(MONDAY, 11)))

    with pytest.raises(sa.exc.IntegrityError) as raised:
        insert(engine, row(*pair, at(MONDAY, 10, 30), at(MONDAY, 11, 30), status="confirmed"))

    assert rejects_overlap(raised.value)


def test_the_database_rejects_a_booking_inside_another_ones_buffer(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    insert(engine, row(*pair, at(MONDAY, 10), at(MONDAY, 11), buffer=timedelta(minutes=30)))

    with pytest.raises(sa.exc.IntegrityError):
        insert(engine, row(*pair, at(MONDAY, 11, 15), at(MONDAY, 12)))


def test_the_database_accepts_back_to_back_bookings(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    insert(
        engine,
        row(*pair, at(MONDAY, 10), at(MONDAY, 11), buffer=timedelta(minutes=30)),
        row(*pair, at(MONDAY, 11, 30), at(MONDAY, 12, 30)),
        row(*pair, at(MONDAY, 9), at(MONDAY, 10)),
    )


def test_the_database_accepts_an_overlap_with_a_cancelled_booking(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    insert(
        engine,
        row(*pair, at(MONDAY, 10), at(MONDAY, 11), status="cancelled"),
        row(*pair, at(MONDAY, 10), at(MONDAY, 11)),
        row(*pair, at(MONDAY, 10, 30), at(MONDAY, 11), status="cancelled"),
    )


def test_the_database_accepts_overlaps_between_different_professionals(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    other, _ = register(engine)

    insert(
        engine,
        row(*pair, at(MONDAY, 10), at(MONDAY, 11)),
        row(other.id, pair[1], at(MONDAY, 10), at(MONDAY, 11)),
    )


def test_the_database_rejects_reactivating_a_cancelled_booking_into_a_taken_slot(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    cancelled = row(*pair, at(MONDAY, 10), at(MONDAY, 11), status="cancelled")
    insert(engine, cancelled, row(*pair, at(MONDAY, 10), at(MONDAY, 11)))

    with pytest.raises(sa.exc.IntegrityError) as raised, engine.begin() as connection:
        connection.execute(
            sa.update(bookings).where(bookings.c.id == cancelled["id"]).values(status="pending")
        )

    assert rejects_overlap(raised.value)


def test_the_database_rejects_moving_a_booking_onto_another(
    engine: sa.Engine, pair: tuple[UUID, UUID]
) -> None:
    moving = row(*pair, at(MONDAY, 12), at(MONDAY, 13))
    insert(engine, moving, row(*pair, at(MONDAY, 10), at(MONDAY, 11)))

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.update(bookings)
            .where(bookings.c.id == moving["id"])
            .values(start_time=at(MONDAY, 10, 30), end_time=at(MONDAY, 11, 30),
                    blocked_until=at(MONDAY, 11, 30))
        )
