"""Properties of the slots offered, for random weekly windows in zones whose clocks move,
some of them at midnight: every slot lies inside availability, and every slot that fits
inside the open time on a window's grid is offered.

The reference here joins the open time itself, from the window occurrences and the days off,
without ``open_periods``: runs of occurrences that abut or overlap, minus the days off.
"""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability import time_off_periods, window_occurrences
from booking.calendar import Calendar
from booking.model import AvailabilityWindow, BookingPolicy, Professional, TimeOff
from booking.slot import Slot
from tests.factories import make_professional

MINUTE = timedelta(minutes=1)
QUARTER = 15 * MINUTE

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",  # clocks move at midnight
    "America/Havana",  # at midnight in spring
    "Africa/Cairo",  # at midnight
    "Asia/Beirut",  # at midnight
]
# Days when clocks move somewhere above; the span starts up to two days before one of them.
TRANSITIONS = [
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 4, 5),
    date(2026, 4, 24),
    date(2026, 9, 6),
    date(2026, 9, 27),
    date(2026, 10, 4),
    date(2026, 10, 25),
    date(2026, 10, 30),
    date(2026, 11, 1),
]


@st.composite
def day_windows(draw: st.DrawFn, day: int) -> list[AvailabilityWindow]:
    """One day cut at a few quarter-hour marks (always at 00:00 and 24:00), each piece open or
    not: open pieces side by side are windows meeting at the same instant."""
    inner = draw(st.lists(st.integers(1, 95), max_size=4, unique=True))
    marks = sorted({0, 96, *inner})
    found = []
    for first, last in pairwise(marks):
        if draw(st.booleans()):
            found.append(
                AvailabilityWindow(
                    day_of_week=day,
                    start=time(first // 4, first % 4 * 15),
                    end=time(0) if last == 96 else time(last // 4, last % 4 * 15),
                )
            )
    return found


@st.composite
def weeks(draw: st.DrawFn) -> tuple[AvailabilityWindow, ...]:
    return tuple(window for day in range(7) for window in draw(day_windows(day)))


def open_time(pro: Professional, span: Slot) -> list[Slot]:
    """The open time around ``span`` as sorted, disjoint, non-touching intervals."""
    occurrences = sorted(
        window_occurrences(pro.availability, pro.zone, span), key=lambda s: s.start
    )
    runs: list[list[datetime]] = []
    for occurrence in occurrences:
        if runs and occurrence.start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], occurrence.end)
        else:
            runs.append([occurrence.start, occurrence.end])
    closed = time_off_periods(pro.time_off, pro.zone, span)
    found = []
    for start, end in runs:
        cursor = start
        for hole in closed:
            if hole.start < end and cursor < hole.end:
                if cursor < hole.start:
                    found.append(Slot(cursor, hole.start))
                cursor = max(cursor, hole.end)
        if cursor < end:
            found.append(Slot(cursor, end))
    return found


def one_day_off(day: date) -> TimeOff:
    return TimeOff(first_day=day, last_day=day, reason="day off")


def inside(slot: Slot, open_slots: list[Slot]) -> bool:
    return any(run.contains(slot) for run in open_slots)


def grid_slots(pro: Professional, span: Slot, duration: timedelta) -> set[Slot]:
    """Every slot on some window occurrence's grid, starting in that occurrence, inside
    ``span`` and inside the open time."""
    open_slots = open_time(pro, span)
    step = pro.policy.granularity
    found = set()
    for occurrence in window_occurrences(pro.availability, pro.zone, span):
        start = occurrence.start
        while start < occurrence.end:
            slot = Slot(start, start + duration)
            if span.contains(slot) and inside(slot, open_slots):
                found.add(slot)
            start += step
    return found


@settings(max_examples=150, deadline=None)
@given(
    windows=weeks(),
    zone=st.sampled_from(ZONES),
    transition=st.sampled_from(TRANSITIONS),
    days_before=st.integers(0, 2),
    span_quarters=st.tuples(st.integers(0, 95), st.integers(4 * 4, 3 * 24 * 4)),
    granularity=st.sampled_from([15, 30, 45, 60]),
    multiple=st.integers(1, 8),
    day_off=st.none() | st.integers(-1, 3),
)
def test_every_slot_offered_is_inside_availability_and_every_one_on_the_grid_is_offered(
    windows: tuple[AvailabilityWindow, ...],
    zone: str,
    transition: date,
    days_before: int,
    span_quarters: tuple[int, int],
    granularity: int,
    multiple: int,
    day_off: int | None,
) -> None:
    first_day = transition - timedelta(days=days_before)
    step = granularity * MINUTE
    duration = min(multiple * step, timedelta(hours=8) // step * step)
    pro = make_professional(
        time_zone=zone,
        availability=windows,
        time_off=() if day_off is None else (one_day_off(first_day + timedelta(days=day_off)),),
        policy=BookingPolicy(
            minimum_notice=timedelta(0),
            granularity=step,
            minimum_duration=step,
            maximum_duration=timedelta(hours=8) // step * step,
        ),
    )
    midnight = datetime.combine(first_day, time(0), tzinfo=UTC)
    first, length = span_quarters
    span = Slot(midnight + first * QUARTER, midnight + (first + length) * QUARTER)
    now = midnight - timedelta(days=1)
    calendar = Calendar(pro, [])

    offered = calendar.free_slots(span, duration, now)

    open_slots = open_time(pro, span)
    for slot in offered:
        assert inside(slot, open_slots)
        calendar.check(slot, now)  # and the hold's own rules accept it
    assert set(offered) == grid_slots(pro, span, duration)
    assert len(set(offered)) == len(offered)
    assert calendar.has_free_slot(span, duration, now) == bool(offered)
