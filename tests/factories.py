"""Builders for domain objects with sensible defaults, so each test states only what matters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from booking.model import AvailabilityWindow, BookingPolicy, Client, Location, Professional

# A Monday, well away from any DST transition in the zones the tests use.
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)


def every_day(start: time = time(9), end: time = time(17)) -> tuple[AvailabilityWindow, ...]:
    return tuple(AvailabilityWindow(day_of_week=d, start=start, end=end) for d in range(7))


def make_professional(**overrides: Any) -> Professional:
    fields: dict[str, Any] = {
        "id": uuid4(),
        "name": "Ada Plumber",
        "email": "ada@example.com",
        "category": "plumbing",
        "hourly_rate_cents": 6000,
        "time_zone": "UTC",
        "location": Location(52.52, 13.405),
        "availability": every_day(),
        "policy": BookingPolicy(minimum_notice=timedelta(0)),
    }
    fields.update(overrides)
    return Professional(**fields)


def make_client(**overrides: Any) -> Client:
    fields: dict[str, Any] = {"id": uuid4(), "name": "Cleo Client", "email": "cleo@example.com"}
    fields.update(overrides)
    return Client(**fields)


@dataclass
class FixedClock:
    """A clock the test moves by hand."""

    current: datetime = field(default_factory=lambda: MONDAY)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def new_key() -> str:
    return f"key-{uuid4()}"


def ids(n: int) -> list[UUID]:
    return [uuid4() for _ in range(n)]
