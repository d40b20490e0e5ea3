"""Professionals and clients for the booking benchmarks, made through the service layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from uuid import UUID, uuid4

from booking import catalogue
from booking.model import AvailabilityWindow, BookingPolicy, Client, Location, Professional
from booking.ports import UnitOfWork

DURATION = timedelta(minutes=60)
# Bookable around the clock, in 30-minute steps, without notice, up to two years ahead: one
# professional then has over 17,000 one-hour slots for a client to book one after another.
ALWAYS_OPEN = tuple(AvailabilityWindow(day_of_week=d, start=time(0), end=time(0)) for d in range(7))
POLICY = BookingPolicy(
    granularity=timedelta(minutes=30),
    minimum_notice=timedelta(0),
    maximum_advance=timedelta(days=730),
    minimum_duration=timedelta(minutes=30),
)


def always_open(category: str = "bench") -> Professional:
    return Professional(
        id=uuid4(),
        name="Bench Professional",
        email="pro@bench.example",
        category=category,
        hourly_rate_cents=6000,
        currency="eur",
        time_zone="UTC",
        location=Location(52.52, 13.405),
        availability=ALWAYS_OPEN,
        policy=POLICY,
    )


def professionals(uow: Callable[[], UnitOfWork], count: int) -> list[UUID]:
    return [catalogue.register_professional(always_open(), uow=uow()).id for _ in range(count)]


def clients(uow: Callable[[], UnitOfWork], count: int) -> list[UUID]:
    made = (Client(id=uuid4(), name="Bench Client", email="client@bench.example")
            for _ in range(count))
    return [catalogue.register_client(client, uow=uow()).id for client in made]


def first_day() -> datetime:
    """Midnight UTC tomorrow: every benchmark booking lies in the future."""
    today = datetime.now(UTC).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)


def consecutive_starts(first: datetime) -> Iterator[datetime]:
    """Back-to-back one-hour slots: never in conflict with each other."""
    start = first
    while True:
        yield start
        start += DURATION
