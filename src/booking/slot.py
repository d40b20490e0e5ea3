"""The Slot value object: a half-open interval ``[start, end)`` of UTC instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booking.errors import InvalidInput, NaiveDateTime

# The instants the domain computes with. Python's datetimes end with the years 1 and 9999, and
# expanding availability looks a local day (plus up to a day of UTC offset) either side of a
# slot; keeping a year clear of both ends means that arithmetic never overflows. The HTTP edge
# accepts a much narrower range of years.
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def ensure_aware(value: datetime, name: str = "time") -> datetime:
    """Return ``value`` in UTC; reject naive datetimes, which have no instant, and instants
    outside ``EARLIEST``-``LATEST``."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDateTime(f"{name} must carry a UTC offset or time zone: {value.isoformat()}")
    # Compared before converting: comparing aware datetimes cannot overflow, converting can
    # (0001-01-01T00:00+14:00 is in the year 0 in UTC).
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(
            f"{name} must lie between {EARLIEST.date()} and {LATEST.date()}: {value.isoformat()}"
        )
    return value.astimezone(UTC)


def _later(instant: datetime, delta: timedelta, name: str = "time") -> datetime:
    """``instant + delta``, or InvalidInput (not OverflowError) past the end of the calendar."""
    try:
        return instant + delta
    except OverflowError:
        raise InvalidInput(f"{name} must lie before {LATEST.date()}") from None


@dataclass(frozen=True, slots=True)
class Slot:
    """A non-empty half-open interval of time; ``end`` itself is not part of the slot.

    Both bounds are normalised to UTC, so two slots compare equal when they denote the same
    instants whatever offset they were written with.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = ensure_aware(self.start, "start")
        end = ensure_aware(self.end, "end")
        if end <= start:
            raise InvalidInput("a slot must end after it starts")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @classmethod
    def starting(cls, start: datetime, duration: timedelta) -> Slot:
        return cls(start, _later(start, duration, "end"))

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Slot) -> bool:
        """True when the two slots share at least one instant; touching slots do not."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Slot) -> bool:
        return self.start <= other.start and other.end <= self.end

    def is_adjacent_to(self, other: Slot) -> bool:
        """True when one slot ends exactly where the other starts."""
        return self.end == other.start or other.end == self.start

    def extended_by(self, after: timedelta) -> Slot:
        """This slot with ``after`` more time at its end (a buffer)."""
        return Slot(self.start, _later(self.end, after, "end"))
