"""A moved booking in the database, on SQLite and PostgreSQL: its new times and count are
stored, and storage itself refuses a move onto another booking that no check saw."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.commands import RescheduleBooking
from booking.errors import SlotUnavailable
from booking.model import Party
from booking.slot import Slot
from tests.factories import MONDAY, FixedClock, at
from tests.integration.support import UNCAPPED, register, request


def test_a_move_is_stored_with_its_times_count_and_a_new_version(engine: sa.Engine) -> None:
    professional, client = register(engine)
    clock = FixedClock()
    receipt = services.create_booking(
        request(professional, client, at(MONDAY, 10), timedelta(hours=1)),
        uow=SqlUnitOfWork(engine), payments=InMemoryPayments(),
        idempotency=InMemoryIdempotencyStore(clock), clock=clock,
    )

    services.reschedule_booking(
        RescheduleBooking(booking_id=receipt.booking_id, start=at(MONDAY, 14), by=Party.CLIENT),
        uow=SqlUnitOfWork(engine), clock=clock,
    )

    with SqlUnitOfWork(engine) as uow:
        stored = uow.bookings.get(receipt.booking_id)
    assert stored is not None
    assert (stored.start, stored.end, stored.blocked.end) == (
        at(MONDAY, 14), at(MONDAY, 15), at(MONDAY, 15)
    )
    assert stored.reschedule_count == 1 and stored.version == 3  # held, its intent attached, moved


def test_storage_refuses_a_move_onto_another_booking_that_no_check_saw(engine: sa.Engine) -> None:
    professional, client = register(engine)
    clock = FixedClock()
    made = [
        services.create_booking(
            request(professional, client, at(MONDAY, hour), timedelta(hours=1)),
            uow=SqlUnitOfWork(engine), payments=InMemoryPayments(),
            idempotency=InMemoryIdempotencyStore(clock), clock=clock, limits=UNCAPPED,
        ).booking_id
        for hour in (10, 12)
    ]

    with pytest.raises(SlotUnavailable), SqlUnitOfWork(engine) as uow:
        booking = uow.bookings.get(made[0])
        assert booking is not None
        booking.slot = Slot(at(MONDAY, 12, 30), at(MONDAY, 13, 30))  # past the calendar
        uow.bookings.update(booking)
        uow.commit()
