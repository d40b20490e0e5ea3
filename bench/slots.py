"""Free slots of one professional over 30 days with 1,000 existing bookings.

Three figures, each against its floor from the same run:

* the domain's ``Calendar.free_slots`` (sorted busy intervals, binary search, jumps over busy
  time) against a naive scan that tests every grid position against every booking;
* the service layer's ``catalogue.free_slots`` on PostgreSQL, which also loads the 1,000
  bookings through the SQL unit of work, against plain psycopg fetching the same rows.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from uuid import uuid4

from bench.database import Database
from bench.measure import timed
from booking import catalogue
from booking.availability import open_periods
from booking.calendar import Calendar
from booking.model import (
    AvailabilityWindow,
    Booking,
    BookingPolicy,
    Client,
    Location,
    Professional,
)
from booking.ports import UnitOfWork
from booking.slot import Slot

DAYS = 30
BOOKINGS = 1_000
DURATION = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class FixedClock:
    instant: datetime

    def now(self) -> datetime:
        return self.instant


@dataclass(frozen=True, slots=True)
class SlotResults:
    free: int
    domain_us: float
    naive_us: float
    service_us: float
    psycopg_load_us: float


def professional() -> Professional:
    """Open around the clock in Berlin, 15-minute grid: 30 days hold 1,000 half-hour bookings
    with room to spare."""
    return Professional(
        id=uuid4(),
        name="Bench Mark",
        email="bench@example.com",
        category="bench",
        hourly_rate_cents=6000,
        time_zone="Europe/Berlin",
        location=Location(52.5, 13.4),
        availability=tuple(
            AvailabilityWindow(day_of_week=d, start=clock_time(0), end=clock_time(0))
            for d in range(7)
        ),
        policy=BookingPolicy(
            granularity=timedelta(minutes=15),
            minimum_duration=timedelta(minutes=30),
            minimum_notice=timedelta(0),
        ),
    )


def filled_calendar(start: datetime, seed: int = 7) -> tuple[Calendar, Slot, datetime]:
    """1,000 bookings on distinct half-hours drawn at random, so none can clash."""
    pro = professional()
    span = Slot(start, start + timedelta(days=DAYS))
    now = start - timedelta(hours=1)
    calendar = Calendar(pro, [])
    half_hours = calendar.free_slots(span, DURATION, now)[::2]  # every other 15-minute start
    client_id = uuid4()
    for slot in sorted(random.Random(seed).sample(half_hours, BOOKINGS), key=lambda s: s.start):
        calendar.book(booking_id=uuid4(), client_id=client_id, slot=slot, now=now)
    return Calendar(pro, calendar.bookings), span, now


def naive_free_slots(
    calendar: Calendar, span: Slot, duration: timedelta, now: datetime
) -> list[Slot]:
    """Every grid position of every open period, checked against every booking."""
    pro = calendar.professional
    step = pro.policy.granularity
    blocked = [booking.blocked for booking in calendar.bookings]
    found = []
    for period in open_periods(pro.availability, pro.time_off, pro.zone, span):
        candidate = period.origin
        while candidate < period.slot.end:
            slot = Slot(candidate, candidate + duration)
            wanted = slot.extended_by(pro.buffer_after_booking)
            if (
                period.admits(slot)
                and slot.start >= now + pro.policy.minimum_notice
                and span.contains(slot)
                and not any(busy.overlaps(wanted) for busy in blocked)
            ):
                found.append(slot)
            candidate += step
    return found


def store(calendar: Calendar, uow: UnitOfWork) -> None:
    """The professional, one client and the bookings, in one transaction."""
    booking: Booking = calendar.bookings[0]
    with uow:
        uow.professionals.add(calendar.professional)
        uow.clients.add(Client(id=booking.client_id, name="Bench", email="c@bench.example"))
        for booking in calendar.bookings:
            uow.bookings.add(booking)
        uow.commit()


LOAD = """
SELECT * FROM bookings
WHERE professional_id = %s AND status IN ('confirmed', 'pending')
  AND start_time < %s AND blocked_until > %s
"""


def run(
    database: Database,
    uow: Callable[[], UnitOfWork],
    reader: Callable[[], UnitOfWork],
    start: datetime,
) -> SlotResults:
    calendar, span, now = filled_calendar(start)
    pro = calendar.professional
    store(calendar, uow())
    fast = calendar.free_slots(span, DURATION, now)
    if fast != naive_free_slots(calendar, span, DURATION, now):
        raise RuntimeError("the domain and the naive scan disagree on the free slots")
    clock = FixedClock(now)
    served = catalogue.free_slots(pro.id, span, DURATION, uow=reader(), clock=clock)
    if served.slots != fast:
        raise RuntimeError("the service layer found other free slots than the domain")

    def domain() -> None:  # what the service does once the bookings are loaded
        Calendar(pro, calendar.bookings).free_slots(span, DURATION, now)

    def service() -> None:
        catalogue.free_slots(pro.id, span, DURATION, uow=reader(), clock=clock)

    with database.connect() as connection:

        def psycopg_load() -> None:
            connection.execute(LOAD, (pro.id, span.end, span.start)).fetchall()

        psycopg_us = _median_us(psycopg_load, 50)
    return SlotResults(
        free=len(fast),
        domain_us=_median_us(domain, 200),
        naive_us=_median_us(lambda: naive_free_slots(calendar, span, DURATION, now), 3),
        service_us=_median_us(service, 50),
        psycopg_load_us=psycopg_us,
    )


def _median_us(operation: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(operation, repeat)) * 1e6


START = datetime(2027, 3, 8, tzinfo=UTC)  # the 30 days cross Europe's change to summer time
