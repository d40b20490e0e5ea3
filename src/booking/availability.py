"""From weekly local windows to UTC instants, deliberately across DST transitions.

Rules for local times that do not map to exactly one instant (documented in
docs/architecture.md):

* A time inside a spring-forward gap (02:30 on the night clocks jump 02:00 → 03:00) is shifted
  later by the length of the gap, so it reads 03:30. This is Python's ``fold=0`` reading and
  java.time's rule.
* A time that occurs twice when clocks fall back means its first occurrence when it opens a
  window and its last occurrence when it closes one, so a window covers every moment the wall
  clock shows a time inside it.

Open time that continues without a break (a window ending at 24:00 and the next day's starting
at 00:00, or two windows of one day meeting at the same instant) is one stretch: a slot may
start in one window occurrence and end in the next. Each occurrence keeps its own grid.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from booking.model import AvailabilityWindow, TimeOff
from booking.slot import Slot

_DAY = timedelta(days=1)


@lru_cache(maxsize=65536)
def local_to_utc(day: date, at: time, zone: ZoneInfo, *, closing: bool = False) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone`` (rules in the module doc)."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:  # in a gap: fold=0 reads it with the offset before the jump
        return first.astimezone(UTC)
    return (second if closing else first).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OpenPeriod:
    """Part of one window's occurrence that can be booked.

    Slots start inside ``slot``, on the grid counted from ``origin`` (where the window opened,
    so time off cutting a window short does not shift the grid), and end by ``open_until``: the
    end of the open time running on from ``slot`` without a break, through the occurrences that
    abut or overlap it (its own end when none does).
    """

    origin: datetime
    slot: Slot
    open_until: datetime

    def admits(self, slot: Slot) -> bool:
        """Whether ``slot`` starts in this period and ends inside the open time it runs into."""
        return self.slot.start <= slot.start < self.slot.end and slot.end <= self.open_until


def window_occurrences(
    windows: Sequence[AvailabilityWindow], zone: ZoneInfo, span: Slot
) -> list[Slot]:
    """Every occurrence in UTC of the active weekly ``windows`` that overlaps ``span``, sorted,
    each once (windows stored twice, before overlapping ones were refused, count once)."""
    found: set[Slot] = set()
    for day in _local_days(zone, span):
        weekday = day.weekday()
        for window in windows:
            if not window.is_active or window.day_of_week != weekday:
                continue
            start = local_to_utc(day, window.start, zone)
            if window.end == time(0):
                end = local_to_utc(day + _DAY, time(0), zone, closing=True)
            else:
                end = local_to_utc(day, window.end, zone, closing=True)
            if end > start:
                occurrence = Slot(start, end)
                if occurrence.overlaps(span):
                    found.add(occurrence)
    return sorted(found, key=lambda slot: (slot.start, slot.end))


def time_off_periods(time_off: Sequence[TimeOff], zone: ZoneInfo, span: Slot) -> list[Slot]:
    """The time-off days as UTC intervals from local midnight to local midnight.

    Each is first cut down to the local days that window occurrences in ``span`` can lie on,
    which changes nothing they subtract, so days off far away cost nothing and even days off
    running to the last day of the calendar (stored before the API refused them) never
    overflow.
    """
    first, last = _first_and_last_local_day(zone, span)
    found = []
    for off in time_off:
        if off.last_day < first or off.first_day > last:
            continue
        start = local_to_utc(max(off.first_day, first), time(0), zone)
        end = local_to_utc(min(off.last_day, last) + _DAY, time(0), zone)
        period = Slot(start, end)
        if period.overlaps(span):
            found.append(period)
    found.sort(key=lambda slot: slot.start)
    return found


def overlapping_windows(
    windows: Sequence[AvailabilityWindow],
) -> list[tuple[AvailabilityWindow, AvailabilityWindow]]:
    """Pairs of windows on the same weekday that share some time (touching ones do not)."""
    found = []
    for i, first in enumerate(windows):
        for second in windows[i + 1 :]:
            if first.day_of_week == second.day_of_week and (
                first.start < _end_of(second) and second.start < _end_of(first)
            ):
                found.append((first, second))
    return found


def _end_of(window: AvailabilityWindow) -> time:
    return time.max if window.end == time(0) else window.end


def open_periods(
    windows: Sequence[AvailabilityWindow],
    time_off: Sequence[TimeOff],
    zone: ZoneInfo,
    span: Slot,
) -> list[OpenPeriod]:
    """Window occurrences overlapping ``span`` with the time off cut out of them, in time
    order, each knowing how far the open time it starts runs on (``OpenPeriod.open_until``).

    Only occurrences overlapping ``span`` are looked at, so a stretch of open time may run on
    past ``span.end`` further than ``open_until`` says; slots inside ``span`` never need more.
    """
    closed = time_off_periods(time_off, zone, span)
    pieces = sorted(
        (
            (piece, occurrence.start)
            for occurrence in window_occurrences(windows, zone, span)
            for piece in _subtract(occurrence, closed)
        ),
        key=lambda found: (found[0].start, found[0].end),
    )
    periods: list[OpenPeriod] = []
    for stretch in _stretches(pieces):
        until = max(piece.end for piece, _ in stretch)
        periods.extend(OpenPeriod(origin=o, slot=piece, open_until=until) for piece, o in stretch)
    return periods


def _stretches(
    pieces: Sequence[tuple[Slot, datetime]],
) -> Iterator[list[tuple[Slot, datetime]]]:
    """Sorted pieces grouped into runs in which each starts at or before the run's end so far:
    open time without a break, whether the pieces abut (24:00 then 00:00) or overlap."""
    run: list[tuple[Slot, datetime]] = []
    reach: datetime | None = None
    for piece, origin in pieces:
        if reach is not None and piece.start > reach:
            yield run
            run, reach = [], None
        run.append((piece, origin))
        reach = piece.end if reach is None else max(reach, piece.end)
    if run:
        yield run


def _subtract(slot: Slot, closed: Sequence[Slot]) -> Iterator[Slot]:
    cursor = slot.start
    for hole in closed:
        if hole.end <= cursor or hole.start >= slot.end:
            continue
        if hole.start > cursor:
            yield Slot(cursor, hole.start)
        cursor = max(cursor, hole.end)
    if cursor < slot.end:
        yield Slot(cursor, slot.end)


def _local_days(zone: ZoneInfo, span: Slot) -> Iterator[date]:
    day, last = _first_and_last_local_day(zone, span)
    while day <= last:
        yield day
        day += _DAY


def _first_and_last_local_day(zone: ZoneInfo, span: Slot) -> tuple[date, date]:
    # One day of margin each side: a window on the previous local day can reach into the span.
    return span.start.astimezone(zone).date() - _DAY, span.end.astimezone(zone).date() + _DAY
