"""What storage does for a hold, on SQLite and PostgreSQL: it reads the calendar under the lock,
and it refuses an unknown client and a reused key, which the service does not read first."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.errors import (
    ClientNotFound,
    IdempotencyKeyReused,
    SlotUnavailable,
    StorageUnavailable,
)
from booking.model import BookingPolicy, BookingStatus, CancellationReason, TravelMode
from booking.slot import Slot
from tests.factories import MONDAY, FixedClock, at, make_client
from tests.integration.support import active_bookings, register, request
from tests.integration.test_sql_repositories import make_booking

SLOT = Slot(at(MONDAY, 12), at(MONDAY, 13))


def test_the_locked_calendar_holds_every_booking_that_could_clash(engine: sa.Engine) -> None:
    # 15 minutes of buffer and 30 of travel: 45 minutes blocked after every booking.
    professional, client = register(
        engine,
        travel_mode=TravelMode.TRAVEL,
        policy=BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=15)),
    )
    ids = professional.id, client.id
    buffered = timedelta(minutes=45)
    ending_in_the_buffer = make_booking(*ids, 10, slot=Slot(at(MONDAY, 10), at(MONDAY, 11, 30)),
                                        buffer=buffered)
    starting_in_the_new_buffer = make_booking(*ids, 13, slot=Slot(at(MONDAY, 13, 30),
                                                                  at(MONDAY, 14)))
    cancelled = make_booking(*ids, 12, status=BookingStatus.CANCELLED,
                             cancellation_reason=CancellationReason.CLIENT)
    with SqlUnitOfWork(engine) as uow:
        for booking in (ending_in_the_buffer, starting_in_the_new_buffer, cancelled):
            uow.bookings.add(booking)
        uow.commit()

    with SqlUnitOfWork(engine) as uow:
        calendar = uow.bookings.lock_calendar(professional.id, SLOT)
        assert calendar is not None
        held = {booking.id for booking in calendar.bookings}
        with pytest.raises(SlotUnavailable):
            calendar.book(booking_id=cancelled.id, client_id=client.id, slot=SLOT, now=MONDAY)

    assert calendar.professional == professional
    assert {ending_in_the_buffer.id, starting_in_the_new_buffer.id} <= held
    assert cancelled.id not in held


def test_the_locked_calendar_of_an_unknown_professional_is_none(engine: sa.Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        assert uow.bookings.lock_calendar(make_client().id, SLOT) is None


def test_a_booking_for_an_unknown_client_is_client_not_found(engine: sa.Engine) -> None:
    professional, _ = register(engine)
    stranger = make_client()

    with pytest.raises(ClientNotFound), SqlUnitOfWork(engine) as uow:
        uow.bookings.add(make_booking(professional.id, stranger.id, 12))
        uow.commit()


def test_a_second_live_booking_with_one_key_is_idempotency_key_reused(engine: sa.Engine) -> None:
    professional, client = register(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.bookings.add(make_booking(professional.id, client.id, 10, idempotency_key="k"))
        uow.commit()

    with pytest.raises(IdempotencyKeyReused), SqlUnitOfWork(engine) as uow:
        uow.bookings.add(make_booking(professional.id, client.id, 14, idempotency_key="k"))
        uow.commit()


def test_a_cancelled_booking_leaves_its_key_to_a_live_one(engine: sa.Engine) -> None:
    professional, client = register(engine)
    cancelled = make_booking(professional.id, client.id, 9, idempotency_key="k",
                             status=BookingStatus.CANCELLED,
                             cancellation_reason=CancellationReason.HOLD_EXPIRED)
    live = make_booking(professional.id, client.id, 10, idempotency_key="k")

    with SqlUnitOfWork(engine) as uow:
        uow.bookings.add(cancelled)
        uow.bookings.add(live)
        uow.commit()

    with SqlUnitOfWork(engine) as uow:
        assert uow.bookings.get(cancelled.id) is not None
        assert uow.bookings.get(live.id) is not None


def test_a_retried_booking_finishes_the_hold_its_first_attempt_stored(engine: sa.Engine) -> None:
    clock = FixedClock()
    professional, client = register(engine)
    cmd = request(professional, client, SLOT.start, SLOT.duration, key="half-done")
    payments = InMemoryPayments()
    first = services.create_booking(
        cmd, uow=SqlUnitOfWork(engine), payments=payments,
        idempotency=InMemoryIdempotencyStore(clock), clock=clock,
    )

    # The first answer was never stored (a fresh idempotency store): the retry runs again.
    again = services.create_booking(
        cmd, uow=SqlUnitOfWork(engine), payments=payments,
        idempotency=InMemoryIdempotencyStore(clock), clock=clock,
    )

    assert again.booking_id == first.booking_id
    assert again.payment_intent_id == first.payment_intent_id
    assert active_bookings(engine, professional.id) == 1


@pytest.mark.postgres
def test_an_overlap_refused_to_a_direct_statement_is_slot_unavailable(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    professional, client = register(engine)
    cancelled = make_booking(professional.id, client.id, 12, status=BookingStatus.CANCELLED,
                             cancellation_reason=CancellationReason.CLIENT)
    with SqlUnitOfWork(engine) as uow:
        uow.bookings.add(cancelled)
        uow.bookings.add(make_booking(professional.id, client.id, 12))
        uow.commit()

    with pytest.raises(SlotUnavailable), SqlUnitOfWork(engine) as uow:
        cancelled.status = BookingStatus.PENDING  # behind the domain's back: storage must refuse
        uow.bookings.update(cancelled)
    engine.dispose()


@pytest.mark.postgres
def test_a_connection_lost_before_a_direct_statement_is_storage_unavailable_then_replaced(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    professional, _ = register(engine)
    with engine.connect() as connection:  # the pool's one idle connection
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    other = make_engine(postgres_url)
    with other.connect() as admin:
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
    other.dispose()

    with pytest.raises(StorageUnavailable), SqlUnitOfWork(engine) as uow:
        uow.bookings.lock_calendar(professional.id, SLOT)
    with SqlUnitOfWork(engine) as uow:  # a new connection: the broken one left the pool
        assert uow.bookings.lock_calendar(professional.id, SLOT) is not None
    engine.dispose()
