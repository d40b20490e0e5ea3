"""Weekly local windows expand to the right UTC instants, on DST days too."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from booking.availability import (
    local_to_utc,
    open_periods,
    overlapping_windows,
    window_occurrences,
)
from booking.model import AvailabilityWindow, TimeOff
from booking.slot import Slot

NINE_TO_FIVE = tuple(
    AvailabilityWindow(day_of_week=d, start=time(9), end=time(17)) for d in range(7)
)

# (zone, a day when clocks move, the length of that day)
TRANSITION_DAYS = [
    ("Europe/Berlin", date(2026, 3, 29), timedelta(hours=23)),
    ("Europe/Berlin", date(2026, 10, 25), timedelta(hours=25)),
    ("America/New_York", date(2026, 3, 8), timedelta(hours=23)),
    ("America/New_York", date(2026, 11, 1), timedelta(hours=25)),
    ("Australia/Lord_Howe", date(2026, 4, 5), timedelta(hours=24, minutes=30)),
    ("Australia/Lord_Howe", date(2026, 10, 4), timedelta(hours=23, minutes=30)),
]


def day_span(zone: ZoneInfo, day: date) -> Slot:
    return Slot(
        local_to_utc(day, time(0), zone), local_to_utc(day + timedelta(days=1), time(0), zone)
    )


@pytest.mark.parametrize(("zone_name", "day", "length"), TRANSITION_DAYS)
def test_the_transition_days_really_have_the_lengths_the_tests_assume(
    zone_name: str, day: date, length: timedelta
) -> None:
    assert day_span(ZoneInfo(zone_name), day).duration == length


@pytest.mark.parametrize(("zone_name", "day", "length"), TRANSITION_DAYS)
def test_a_nine_to_five_window_is_nine_to_five_local_on_transition_days(
    zone_name: str, day: date, length: timedelta
) -> None:
    zone = ZoneInfo(zone_name)

    [occurrence] = window_occurrences(NINE_TO_FIVE, zone, day_span(zone, day))

    assert occurrence.start.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, time(9))
    assert occurrence.end.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, time(17))
    assert occurrence.duration == timedelta(hours=8)


@pytest.mark.parametrize(("zone_name", "day", "length"), TRANSITION_DAYS)
def test_a_whole_day_window_lasts_as_long_as_the_local_day(
    zone_name: str, day: date, length: timedelta
) -> None:
    zone = ZoneInfo(zone_name)
    all_day = (AvailabilityWindow(day_of_week=day.weekday(), start=time(0), end=time(0)),)

    [occurrence] = window_occurrences(all_day, zone, day_span(zone, day))

    assert occurrence.duration == length


def test_a_time_in_the_spring_gap_is_shifted_later_by_the_gap() -> None:
    berlin = ZoneInfo("Europe/Berlin")

    instant = local_to_utc(date(2026, 3, 29), time(2, 30), berlin)

    assert instant == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_a_repeated_autumn_time_opens_at_its_first_and_closes_at_its_last_occurrence() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    day = date(2026, 10, 25)  # 02:00-03:00 happens twice

    opening = local_to_utc(day, time(2, 30), berlin)
    closing = local_to_utc(day, time(2, 30), berlin, closing=True)

    assert opening == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert closing == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET


def test_inactive_windows_are_ignored() -> None:
    windows = (AvailabilityWindow(day_of_week=0, start=time(9), end=time(17), is_active=False),)
    monday = date(2026, 6, 1)

    assert window_occurrences(windows, ZoneInfo("UTC"), day_span(ZoneInfo("UTC"), monday)) == []


def test_time_off_removes_whole_local_days_but_keeps_the_grid_origin() -> None:
    zone = ZoneInfo("America/New_York")
    off = (TimeOff(first_day=date(2026, 6, 2), last_day=date(2026, 6, 3), reason="holiday"),)
    week = Slot(datetime(2026, 6, 1, 4, tzinfo=UTC), datetime(2026, 6, 8, 4, tzinfo=UTC))

    periods = open_periods(NINE_TO_FIVE, off, zone, week)

    local_days = {p.slot.start.astimezone(zone).date() for p in periods}
    assert date(2026, 6, 2) not in local_days
    assert date(2026, 6, 3) not in local_days
    assert {date(2026, 6, 1), date(2026, 6, 4)} <= local_days
    assert all(p.origin == p.slot.start for p in periods)


@given(
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=1, max_value=12),
)
@example("Australia/Lord_Howe", date(2026, 10, 4), 2, 1)  # starts in a half-hour gap
def test_every_window_occurrence_reads_its_wall_clock_times_unless_a_transition_intervenes(
    zone_name: str, day: date, start_hour: int, hours: int
) -> None:
    zone = ZoneInfo(zone_name)
    end_hour = min(start_hour + hours, 23)
    assume(end_hour > start_hour)
    window = (
        AvailabilityWindow(day_of_week=day.weekday(), start=time(start_hour), end=time(end_hour)),
    )

    occurrences = window_occurrences(window, zone, day_span(zone, day))

    assert len(occurrences) == 1
    [occurrence] = occurrences
    local_start = occurrence.start.astimezone(zone)
    local_end = occurrence.end.astimezone(zone)
    same_offset = local_start.utcoffset() == local_end.utcoffset()
    if same_offset and not in_a_gap(datetime.combine(day, time(start_hour)), zone):
        assert occurrence.duration == timedelta(hours=end_hour - start_hour)
    assert local_start.date() == day
    assert local_start.time() >= time(start_hour)  # at or (in a gap) after the wall-clock start


def in_a_gap(wall_clock: datetime, zone: ZoneInfo) -> bool:
    """Whether the clocks skip this wall-clock time (Lord Howe skips 02:00-02:30, say): the
    window then starts at the gap's end, and is shorter by what the gap took of it."""
    there = wall_clock.replace(tzinfo=zone)
    return there.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall_clock


def window(day: int, start: int, end: int) -> AvailabilityWindow:
    return AvailabilityWindow(day_of_week=day, start=time(start), end=time(end % 24))


def test_windows_that_share_time_on_the_same_day_are_found_as_pairs() -> None:
    morning, late_morning, evening = window(0, 9, 12), window(0, 11, 14), window(0, 18, 24)
    all_day = window(0, 0, 24)

    clashes = overlapping_windows((morning, late_morning, evening, all_day))

    assert clashes == [
        (morning, late_morning),
        (morning, all_day),
        (late_morning, all_day),
        (evening, all_day),
    ]


def test_touching_windows_and_windows_on_other_days_do_not_overlap() -> None:
    windows = (window(0, 9, 12), window(0, 12, 17), window(1, 9, 17), window(0, 17, 24))

    assert overlapping_windows(windows) == []


def test_a_window_stored_twice_occurs_once() -> None:
    twice = (window(0, 9, 17), window(0, 9, 17))
    monday = Slot(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))

    assert window_occurrences(twice, ZoneInfo("UTC"), monday) == [
        Slot(datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 17, tzinfo=UTC))
    ]
