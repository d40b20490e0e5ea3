"""At the ends of the calendar the domain refuses with InvalidInput; it never overflows.

Python's datetimes end with the years 1 and 9999, and a day or a UTC offset past either end
raises OverflowError, which no edge knows how to answer. The domain works with instants from
``EARLIEST`` to ``LATEST`` and refuses others with a reason; the API accepts only 1970-2200.
"""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.availability import open_periods
from booking.calendar import Calendar
from booking.errors import InvalidInput
from booking.model import TimeOff
from booking.ports import BookingQuery
from booking.slot import EARLIEST, LATEST, Slot, ensure_aware
from tests.factories import MONDAY, every_day, make_professional

# The zones furthest ahead of and behind UTC, and some with odd offsets or DST.
ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "UTC", "Australia/Lord_Howe", "America/St_Johns"]
HOUR = timedelta(hours=1)

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
any_instant = st.datetimes(timezones=offsets)  # anywhere from year 1 to 9999, any offset
api_instant = st.datetimes(  # what the HTTP edge lets through: the years 1970 to 2200
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 12, 30), timezones=offsets
)
any_day_off = st.tuples(st.dates(), st.dates()).map(
    lambda days: TimeOff(first_day=min(days), last_day=max(days))
)


@pytest.mark.parametrize(
    "written",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),  # the year 0 in UTC
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=14))),  # the year 10000
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
    ],
)
def test_instants_at_the_ends_of_the_calendar_are_refused_with_the_range(
    written: datetime,
) -> None:
    with pytest.raises(InvalidInput, match=f"between {EARLIEST.date()} and {LATEST.date()}"):
        ensure_aware(written, "start")


def test_the_ends_of_the_domains_range_are_themselves_accepted() -> None:
    assert ensure_aware(EARLIEST) == EARLIEST
    assert ensure_aware(LATEST) == LATEST


@given(any_instant, st.timedeltas(min_value=timedelta(seconds=1)))
def test_any_slot_is_either_built_in_utc_or_refused_as_invalid_input(
    start: datetime, duration: timedelta
) -> None:
    try:
        slot = Slot.starting(start, duration)
    except InvalidInput:
        return
    assert slot.start.tzinfo is UTC
    assert EARLIEST <= slot.start < slot.end <= LATEST


def test_a_buffer_past_the_end_of_the_calendar_is_invalid_input_not_an_overflow() -> None:
    last_hour = Slot(LATEST - HOUR, LATEST)

    with pytest.raises(InvalidInput):
        last_hour.extended_by(timedelta(days=400))


@given(any_instant)
def test_a_booking_query_keeps_its_bounds_in_utc_or_refuses_them(starts_from: datetime) -> None:
    try:
        query = BookingQuery(starts_from=starts_from)
    except InvalidInput:
        return
    assert query.starts_from == starts_from
    assert query.starts_from is not None and query.starts_from.tzinfo is UTC


@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=EARLIEST.replace(tzinfo=None), max_value=datetime(9998, 12, 29)),
    st.lists(any_day_off, max_size=3),
)
def test_open_periods_anywhere_in_the_domains_range_never_overflow(
    zone_name: str, start: datetime, days_off: list[TimeOff]
) -> None:
    zone = ZoneInfo(zone_name)
    span = Slot(start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + timedelta(days=2))

    try:
        periods = open_periods(every_day(), tuple(days_off), zone, span)
    except InvalidInput:  # within a day of the range's ends, occurrences may fall outside it
        assert span.start - EARLIEST < timedelta(days=2)
        return

    for period in periods:
        first_day = period.slot.start.astimezone(zone).date()
        last_day = (period.slot.end - timedelta(microseconds=1)).astimezone(zone).date()
        for off in days_off:
            assert last_day < off.first_day or first_day > off.last_day


@given(st.sampled_from(ZONES), api_instant, st.lists(any_day_off, max_size=3))
def test_free_slots_for_any_time_the_api_accepts_are_found_whatever_the_days_off(
    zone_name: str, start: datetime, days_off: list[TimeOff]
) -> None:
    pro = make_professional(time_zone=zone_name, time_off=tuple(days_off))
    span = Slot.starting(start, timedelta(days=2))

    slots = Calendar(pro, []).free_slots(span, HOUR, MONDAY)

    assert all(span.contains(slot) for slot in slots)


def test_days_off_until_the_last_day_of_the_calendar_close_everything_after_their_start() -> None:
    zone = ZoneInfo("Pacific/Kiritimati")
    forever = (TimeOff(first_day=date(2026, 6, 3), last_day=date.max, reason="retired"),)
    week = Slot(MONDAY, MONDAY + timedelta(days=7))

    periods = open_periods(every_day(), forever, zone, week)

    local_days = {p.slot.start.astimezone(zone).date() for p in periods}
    assert local_days == {date(2026, 6, 1), date(2026, 6, 2)}


def test_days_off_since_the_first_day_of_the_calendar_close_everything_before_their_end() -> None:
    zone = ZoneInfo("Etc/GMT+12")
    always = (TimeOff(first_day=date.min, last_day=date(2026, 6, 5)),)
    week = Slot(MONDAY, MONDAY + timedelta(days=7))

    periods = open_periods(every_day(time(0), time(0)), always, zone, week)

    local_days = {p.slot.start.astimezone(zone).date() for p in periods}
    assert min(local_days) == date(2026, 6, 6)
