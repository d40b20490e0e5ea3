"""Many threads and processes racing for one professional's time: never a double booking.

Each attempt goes through ``services.create_booking`` with its own unit of work and key, as
separate API requests would. On PostgreSQL the exclusion constraint decides races the domain
check cannot see; on SQLite ``BEGIN IMMEDIATE`` serialises writers and the triggers back it up.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from datetime import timedelta
from functools import partial
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking.calendar import Calendar
from booking.errors import ConcurrentUpdate, SlotUnavailable
from booking.model import BookingPolicy
from booking.slot import Slot
from tests.factories import MONDAY, FixedClock, at
from tests.integration.support import (
    active_bookings,
    all_at_once,
    attempt,
    book_in_process,
    register,
    request,
)

HALF_HOUR = timedelta(minutes=30)


def test_exactly_one_of_32_overlapping_requests_wins(engine: sa.Engine) -> None:
    clock = FixedClock()
    professional, client = register(engine)
    # Every request covers 10:30-11:00, so every two of them overlap.
    commands = [
        request(professional, client, at(MONDAY, 10, 30 * (n % 2)), HALF_HOUR * (2 + n % 3))
        for n in range(32)
    ]

    outcomes = all_at_once([partial(attempt, engine, cmd, clock=clock) for cmd in commands])

    assert outcomes.count("ok") == 1
    assert outcomes.count("slot_unavailable") == 31
    assert active_bookings(engine, professional.id) == 1


def test_random_pairs_of_requests_book_once_if_they_overlap_and_twice_if_not(
    engine: sa.Engine,
) -> None:
    rng = random.Random(20261124)
    clock = FixedClock()
    for _ in range(6):
        professional, client = register(
            engine, policy=BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=15))
        )
        slots = [
            Slot.starting(at(MONDAY, 9) + HALF_HOUR * rng.randrange(12), HALF_HOUR * length)
            for length in (rng.randint(2, 4), rng.randint(2, 4))
        ]
        overlap = slots[0].extended_by(timedelta(minutes=15)).overlaps(
            slots[1].extended_by(timedelta(minutes=15))
        )
        commands = [request(professional, client, s.start, s.duration) for s in slots * 4]

        outcomes = all_at_once([partial(attempt, engine, cmd, clock=clock) for cmd in commands])

        expected = 1 if overlap else 2
        assert outcomes.count("ok") == expected, (slots, outcomes)
        assert active_bookings(engine, professional.id) == expected


def test_back_to_back_requests_both_succeed(engine: sa.Engine) -> None:
    clock = FixedClock()
    professional, client = register(engine)
    commands = [
        request(professional, client, at(MONDAY, 10), timedelta(hours=1)),
        request(professional, client, at(MONDAY, 11), timedelta(hours=1)),
    ] * 4

    outcomes = all_at_once([partial(attempt, engine, cmd, clock=clock) for cmd in commands])

    assert outcomes.count("ok") == 2
    assert active_bookings(engine, professional.id) == 2


@pytest.mark.slow
def test_exactly_one_of_many_requests_from_four_processes_wins(
    engine: sa.Engine, database_url: str
) -> None:
    clock = FixedClock()
    professional, client = register(engine)
    batches = [
        [
            request(professional, client, at(MONDAY, 10, 30 * (n % 2)), timedelta(hours=1))
            for n in range(8)
        ]
        for _ in range(4)
    ]

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(book_in_process, [(database_url, b, clock) for b in batches])

    outcomes = [outcome for result in results for outcome in result]
    assert outcomes.count("ok") == 1
    assert outcomes.count("slot_unavailable") == 31
    assert active_bookings(engine, professional.id) == 1


@pytest.mark.postgres
def test_the_exclusion_constraint_decides_a_race_that_every_domain_check_missed(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    professional, client = register(engine)
    slot = Slot(at(MONDAY, 10), at(MONDAY, 11))
    everyone_checked = threading.Barrier(8, timeout=30)

    def check_then_insert() -> str:
        with SqlUnitOfWork(engine) as uow:
            calendar = Calendar(professional, uow.bookings.active_blocking(professional.id, slot))
            booking = calendar.book(booking_id=uuid4(), client_id=client.id, slot=slot, now=MONDAY)
            everyone_checked.wait()  # all eight saw a free slot before anyone writes
            try:
                uow.bookings.add(booking)
            except SlotUnavailable:
                return "lost"
            except ConcurrentUpdate:
                return "lost"  # PostgreSQL chose this one as a deadlock victim among waiters
            uow.commit()
        return "ok"

    outcomes = all_at_once([check_then_insert] * 8)

    assert sorted(outcomes) == ["lost"] * 7 + ["ok"]
    assert active_bookings(engine, professional.id) == 1
    engine.dispose()


@pytest.mark.postgres  # on SQLite, BEGIN IMMEDIATE queues every writer of every calendar
def test_a_writer_of_a_calendar_waits_for_the_one_holding_it_then_sees_its_booking(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    professional, client = register(engine)
    other_professional, _ = register(engine)
    slot = Slot(at(MONDAY, 10), at(MONDAY, 11))
    first, second, elsewhere = SqlUnitOfWork(engine), SqlUnitOfWork(engine), SqlUnitOfWork(engine)
    seen_by_second: list[int] = []

    def second_writer() -> None:
        with second:
            calendar = second.bookings.lock_calendar(professional.id, slot)
            assert calendar is not None
            seen_by_second.append(len(calendar.bookings))

    with first:
        calendar = first.bookings.lock_calendar(professional.id, slot)
        assert calendar is not None
        first.bookings.add(
            calendar.book(booking_id=uuid4(), client_id=client.id, slot=slot, now=MONDAY)
        )
        waiting = threading.Thread(target=second_writer)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()  # queued behind the first writer
        with elsewhere:  # another professional's calendar is not held up
            assert elsewhere.bookings.lock_calendar(other_professional.id, slot) is not None
        first.commit()
    waiting.join(timeout=30)

    assert seen_by_second == [1]
    engine.dispose()
