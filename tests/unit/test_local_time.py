"""Each party reads an appointment on their own clock: the reader's zone first, the other
party's beside it when it differs, each with the UTC offset in force at that instant; what is
written reads back to the very instants stored, across midnight and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from booking.errors import InvalidTimeZone
from booking.local_time import (
    Viewpoint,
    describe,
    for_client,
    for_professional,
    headline,
    utc_offset,
)
from booking.slot import Slot
from tests.factories import make_client, make_professional
from tests.unit.reading_times import read_all

HONOLULU = ZoneInfo("Pacific/Honolulu")
SYDNEY = ZoneInfo("Australia/Sydney")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
# Monday 7 December 2026, 13:00 in Honolulu (UTC-10) is Tuesday 8 December, 10:00 in Sydney.
HONOLULU_MONDAY_1PM = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


def slot(start: datetime, length: timedelta = HOUR) -> Slot:
    return Slot(start, start + length)


# -- examples -------------------------------------------------------------------------------


def test_a_client_in_honolulu_reads_their_monday_and_the_professionals_tuesday_in_sydney() -> None:
    view = Viewpoint(zone=HONOLULU, other_zone=SYDNEY, other_party="professional")

    text = describe(slot(HONOLULU_MONDAY_1PM), view)

    assert text == (
        "Monday 7 December 2026, 13:00\u201314:00 (Pacific/Honolulu, UTC\u221210)"
        " \u2014 Tuesday 8 December 2026, 10:00\u201311:00"
        " for the professional in Australia/Sydney (UTC+11)"
    )


def test_the_professional_reads_their_own_zone_first_and_the_clients_beside_it() -> None:
    pro = make_professional(time_zone="Australia/Sydney")
    client = make_client(time_zone="Pacific/Honolulu")

    text = describe(slot(HONOLULU_MONDAY_1PM), for_professional(pro, client))

    assert text.startswith("Tuesday 8 December 2026, 10:00\u201311:00 (Australia/Sydney, UTC+11)")
    assert text.endswith("for the client in Pacific/Honolulu (UTC\u221210)")


def test_a_client_without_a_zone_reads_the_professionals_zone_only() -> None:
    pro = make_professional(time_zone="Australia/Sydney")
    client = make_client()

    text = describe(slot(HONOLULU_MONDAY_1PM), for_client(pro, client))

    assert text == "Tuesday 8 December 2026, 10:00\u201311:00 (Australia/Sydney, UTC+11)"
    assert describe(slot(HONOLULU_MONDAY_1PM), for_professional(pro, client)) == text


def test_a_clients_zone_is_an_iana_name_or_none() -> None:
    assert make_client(time_zone="Pacific/Honolulu").zone == HONOLULU
    assert make_client().zone is None
    with pytest.raises(InvalidTimeZone):
        make_client(time_zone="Mars/Olympus_Mons")


def test_parties_in_the_same_zone_read_one_time_only() -> None:
    pro = make_professional(time_zone="Europe/Berlin")
    client = make_client(time_zone="Europe/Berlin")
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)

    assert describe(slot(start), for_client(pro, client)) == (
        "Monday 1 June 2026, 10:00\u201311:00 (Europe/Berlin, UTC+2)"
    )


def test_the_headline_carries_the_readers_time_only() -> None:
    view = Viewpoint(zone=HONOLULU, other_zone=SYDNEY, other_party="professional")

    assert headline(slot(HONOLULU_MONDAY_1PM), view) == (
        "Monday 7 December 2026, 13:00\u201314:00 (Pacific/Honolulu, UTC\u221210)"
    )


def test_a_booking_across_local_midnight_names_both_days() -> None:
    start = datetime(2026, 6, 1, 20, tzinfo=UTC)  # 22:00 in Berlin (UTC+2)

    text = headline(slot(start, 4 * HOUR), Viewpoint(zone=BERLIN))

    assert text == (
        "Monday 1 June 2026, 22:00 \u2013 Tuesday 2 June 2026, 02:00 (Europe/Berlin, UTC+2)"
    )


def test_the_hour_the_clocks_go_back_reads_twice_told_apart_by_its_offset() -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time in Berlin
    second = first + HOUR  # 02:30 again, winter time

    over_the_change = headline(slot(first), Viewpoint(zone=BERLIN))
    after_it = headline(slot(second, timedelta(minutes=30)), Viewpoint(zone=BERLIN))

    assert over_the_change == (
        "Sunday 25 October 2026, 02:30 UTC+2 \u2013 02:30 UTC+1 (Europe/Berlin)"
    )
    assert after_it == "Sunday 25 October 2026, 02:30\u201303:00 (Europe/Berlin, UTC+1)"


def test_a_span_over_the_spring_change_is_one_hour_longer_on_the_clock() -> None:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 winter time in Berlin

    text = headline(slot(start), Viewpoint(zone=BERLIN))

    assert text == "Sunday 29 March 2026, 01:30 UTC+1 \u2013 03:30 UTC+2 (Europe/Berlin)"


@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        ("UTC", "UTC+0"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("Asia/Kathmandu", "UTC+5:45"),
        ("America/St_Johns", "UTC\u22123:30"),
        ("Pacific/Kiritimati", "UTC+14"),
    ],
)
def test_offsets_are_written_in_hours_and_minutes_with_a_minus_sign(zone: str, offset: str) -> None:
    january = datetime(2026, 1, 15, tzinfo=UTC)

    assert utc_offset(january.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)) == offset


def test_an_offset_with_seconds_keeps_them() -> None:
    assert utc_offset(-timedelta(minutes=44, seconds=30)) == "UTC\u22120:44:30"


def test_day_and_month_names_are_written_in_english() -> None:
    text = headline(slot(datetime(2026, 2, 4, 9, tzinfo=UTC)), Viewpoint(zone=ZoneInfo("UTC")))

    assert text.startswith("Wednesday 4 February 2026, 09:00")


# -- properties -----------------------------------------------------------------------------

ZONES = sorted(available_timezones())
zones = st.sampled_from(ZONES).map(ZoneInfo)
# Minutes, as bookings are; seconds sometimes, which are shown when there are some.
instants = st.builds(
    lambda minutes, seconds: datetime(1971, 1, 1, tzinfo=UTC)
    + timedelta(minutes=minutes, seconds=seconds),
    st.integers(0, 229 * 365 * 24 * 60),
    st.sampled_from([0, 0, 0, 30]),
)
lengths = st.integers(1, 24 * 60).map(lambda minutes: timedelta(minutes=minutes))


def offset_in(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta(0)


@given(start=instants, length=lengths, mine=zones, theirs=zones)
def test_both_parties_times_read_back_to_the_stored_instants_with_zoneinfos_offsets(
    start: datetime, length: timedelta, mine: ZoneInfo, theirs: ZoneInfo
) -> None:
    span = slot(start, length)
    view = Viewpoint(zone=mine, other_zone=theirs, other_party="professional")

    own, other = read_all(describe(span, view))

    for reading, zone in ((own, mine), (other, theirs)):
        if reading is None:
            assert theirs.key == mine.key  # the other zone is left out only when it is the same
            continue
        assert (reading.start, reading.end) == (span.start, span.end)
        assert reading.zone == zone.key
        assert reading.start_offset == offset_in(zone, span.start)
        assert reading.end_offset == offset_in(zone, span.end)
    assert other is None or other.party == "professional"


def changes_of(zone: ZoneInfo, year: int) -> list[datetime]:
    """The instants (to the minute) in ``year`` at which ``zone``'s offset changes."""
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        after = day + timedelta(days=1)
        if offset_in(zone, day) != offset_in(zone, after):
            low, high = day, after  # the offset at low differs from the one at high
            while high - low > timedelta(minutes=1):
                middle = low + timedelta(minutes=(high - low) // timedelta(minutes=2))
                if offset_in(zone, middle) == offset_in(zone, low):
                    low = middle
                else:
                    high = middle
            found.append(high)
        day = after
    return found


@st.composite
def near_a_clock_change(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    """A zone that changes its clocks, and an instant within two hours of a change."""
    zone = draw(st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney",
                                 "Australia/Lord_Howe", "America/St_Johns", "Europe/Dublin",
                                 "Pacific/Chatham", "America/Santiago"]).map(ZoneInfo))  # fmt: skip
    year = draw(st.integers(1990, 2060))
    changes = changes_of(zone, year)
    assume(changes)  # some of them kept one offset all year in some years (Santiago in 2015)
    change = draw(st.sampled_from(changes))
    return zone, change + timedelta(minutes=draw(st.integers(-120, 120)))


@given(near=near_a_clock_change(), length=st.integers(1, 180).map(lambda m: timedelta(minutes=m)))
def test_around_a_clock_change_the_text_reads_back_and_twin_wall_times_read_apart(
    near: tuple[ZoneInfo, datetime], length: timedelta
) -> None:
    zone, start = near
    view = Viewpoint(zone=zone)
    text = headline(slot(start, length), view)

    own, _ = read_all(text)

    assert (own.start, own.end) == (start, start + length)
    local = start.astimezone(zone)
    twin = local.replace(fold=1 - local.fold).astimezone(UTC)  # the same wall time, if any
    if twin != start and twin.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        twin_text = headline(slot(twin, length), view)
        event("an ambiguous wall-clock time")
        assert twin_text != text  # same wall-clock time, told apart by the offset
        assert read_all(twin_text)[0].start == twin
