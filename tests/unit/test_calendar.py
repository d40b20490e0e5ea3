"""The Calendar aggregate: which slots are free, and which bookings the rules refuse."""

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from booking.availability import open_periods
from booking.calendar import Calendar
from booking.errors import (
    BookingError,
    DurationOutOfRange,
    InThePast,
    Misaligned,
    OutsideAvailability,
    SlotUnavailable,
    TooFarAhead,
    TooSoon,
)
from booking.events import BookingRequested
from booking.model import (
    AvailabilityWindow,
    Booking,
    BookingPolicy,
    BookingStatus,
    CancellationReason,
    Professional,
    TimeOff,
    TravelMode,
)
from booking.slot import Slot
from tests.factories import MONDAY, at, make_professional

HOUR = timedelta(hours=1)


def book(
    calendar: Calendar, start: datetime, duration: timedelta = HOUR, now: datetime = MONDAY
) -> Booking:
    return calendar.book(
        booking_id=uuid4(), client_id=uuid4(), slot=Slot.starting(start, duration), now=now
    )


def test_booking_holds_the_slot_as_pending_with_its_price_and_an_event() -> None:
    calendar = Calendar(make_professional(hourly_rate_cents=6000), [])

    booking = book(calendar, at(MONDAY, 10), timedelta(minutes=90))

    assert booking.status is BookingStatus.PENDING
    assert booking.end == at(MONDAY, 11, 30)
    assert booking.total_price_cents == 9000
    assert [type(e) for e in booking.events] == [BookingRequested]


def test_an_overlapping_booking_is_refused() -> None:
    calendar = Calendar(make_professional(), [])
    book(calendar, at(MONDAY, 10), 2 * HOUR)

    with pytest.raises(SlotUnavailable):
        book(calendar, at(MONDAY, 11))


def test_back_to_back_bookings_do_not_conflict_when_there_is_no_buffer() -> None:
    calendar = Calendar(make_professional(), [])

    book(calendar, at(MONDAY, 10))
    book(calendar, at(MONDAY, 11))
    book(calendar, at(MONDAY, 9))

    assert len(calendar.bookings) == 3


def test_the_buffer_keeps_time_free_after_each_booking() -> None:
    pro = make_professional(
        policy=BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=30))
    )
    calendar = Calendar(pro, [])
    book(calendar, at(MONDAY, 10))

    with pytest.raises(SlotUnavailable):
        book(calendar, at(MONDAY, 11))
    with pytest.raises(SlotUnavailable):
        book(calendar, at(MONDAY, 9))  # its own buffer would run into the 10:00 booking
    book(calendar, at(MONDAY, 11, 30))


def test_travellers_block_travel_time_after_each_booking() -> None:
    pro = make_professional(travel_mode=TravelMode.TRAVEL)  # 30 min travel time by default
    calendar = Calendar(pro, [])

    booking = book(calendar, at(MONDAY, 10))

    assert booking.blocked == Slot(at(MONDAY, 10), at(MONDAY, 11, 30))
    with pytest.raises(SlotUnavailable):
        book(calendar, at(MONDAY, 11))


def test_cancelled_bookings_free_their_time() -> None:
    pro = make_professional()
    first = book(Calendar(pro, []), at(MONDAY, 10))
    first.cancel(CancellationReason.CLIENT, MONDAY)

    calendar = Calendar(pro, [first])

    book(calendar, at(MONDAY, 10))


@pytest.mark.parametrize(
    ("start", "duration", "error"),
    [
        (at(MONDAY, 8), HOUR, OutsideAvailability),
        (at(MONDAY, 16, 30), HOUR, OutsideAvailability),
        (at(MONDAY, 10, 15), HOUR, Misaligned),
        (at(MONDAY, 10), timedelta(minutes=90) + timedelta(minutes=15), Misaligned),
        (at(MONDAY, 10), timedelta(minutes=30), DurationOutOfRange),
        (at(MONDAY, 9), timedelta(hours=9), DurationOutOfRange),
        (MONDAY - timedelta(days=1) + timedelta(hours=10), HOUR, InThePast),
        (MONDAY + timedelta(days=91, hours=10), HOUR, TooFarAhead),
    ],
)
def test_bookings_breaking_a_rule_are_refused_with_the_rule(
    start: datetime, duration: timedelta, error: type[Exception]
) -> None:
    calendar = Calendar(make_professional(), [])

    with pytest.raises(error):
        book(calendar, start, duration)
    assert calendar.bookings == []


def test_bookings_need_the_minimum_notice() -> None:
    pro = make_professional(policy=BookingPolicy(minimum_notice=timedelta(hours=2)))
    calendar = Calendar(pro, [])

    with pytest.raises(TooSoon):
        book(calendar, at(MONDAY, 10), now=at(MONDAY, 8, 30))
    book(calendar, at(MONDAY, 10), now=at(MONDAY, 8))


@pytest.mark.parametrize(
    ("notice", "said"),
    [
        (timedelta(hours=2), "at least 2 hours' notice"),
        (timedelta(days=1), "at least 1 day's notice"),
        (timedelta(minutes=90), "at least 1 hour and 30 minutes' notice"),
        (timedelta(minutes=170_438), "at least 118 days, 8 hours and 38 minutes' notice"),
    ],
)
def test_a_booking_too_soon_is_told_the_notice_in_days_hours_and_minutes(
    notice: timedelta, said: str
) -> None:
    pro = make_professional(
        policy=BookingPolicy(minimum_notice=notice, maximum_advance=timedelta(days=365))
    )
    calendar = Calendar(pro, [])

    with pytest.raises(TooSoon) as refused:
        book(calendar, at(MONDAY, 10), now=at(MONDAY, 9, 59))

    assert refused.value.message == f"bookings need {said}"


def test_other_refusals_say_lengths_of_time_in_words() -> None:
    policy = BookingPolicy(minimum_notice=timedelta(0), granularity=timedelta(minutes=45),
                           minimum_duration=timedelta(minutes=45),
                           maximum_duration=timedelta(minutes=90))
    calendar = Calendar(make_professional(policy=policy), [])

    with pytest.raises(Misaligned) as misaligned:
        book(calendar, at(MONDAY, 10), timedelta(minutes=60), now=at(MONDAY, 8))

    assert misaligned.value.message == "duration must be a multiple of 45 minutes"


def test_time_off_cannot_be_booked() -> None:
    pro = make_professional(
        time_off=(TimeOff(first_day=date(2026, 6, 1), last_day=date(2026, 6, 1)),)
    )
    calendar = Calendar(pro, [])

    with pytest.raises(OutsideAvailability):
        book(calendar, at(MONDAY, 10))
    book(calendar, at(MONDAY, 10) + timedelta(days=1))


def test_a_booking_is_nine_to_five_local_on_a_dst_day() -> None:
    berlin = make_professional(time_zone="Europe/Berlin")
    calendar = Calendar(berlin, [])
    spring_sunday = datetime(2026, 3, 29, tzinfo=UTC)
    now = spring_sunday - timedelta(days=1)

    book(calendar, spring_sunday.replace(hour=7), now=now)  # 09:00 CEST
    with pytest.raises(OutsideAvailability):
        book(calendar, spring_sunday.replace(hour=15), now=now)  # 17:00 CEST


def test_free_slots_of_an_empty_day_fill_the_window_on_the_grid() -> None:
    calendar = Calendar(make_professional(), [])
    day = Slot(MONDAY, MONDAY + timedelta(days=1))

    slots = calendar.free_slots(day, HOUR, MONDAY)

    assert [s.start for s in slots] == [
        at(MONDAY, 9) + k * timedelta(minutes=30) for k in range(15)
    ]


def test_free_slots_skip_bookings_and_their_buffers() -> None:
    pro = make_professional(
        policy=BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=30))
    )
    calendar = Calendar(pro, [])
    book(calendar, at(MONDAY, 12))
    day = Slot(MONDAY, MONDAY + timedelta(days=1))

    starts = [s.start for s in calendar.free_slots(day, HOUR, MONDAY)]

    assert at(MONDAY, 10, 30) in starts  # ends 11:30, buffer to 12:00
    assert at(MONDAY, 11) not in starts
    assert at(MONDAY, 12, 30) not in starts
    assert at(MONDAY, 13, 30) in starts  # after 12:00-13:00 and its buffer


def test_a_gap_that_fits_one_slot_and_its_buffer_exactly_is_free() -> None:
    pro = make_professional(
        policy=BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=30))
    )
    calendar = Calendar(pro, [])
    book(calendar, at(MONDAY, 9))
    book(calendar, at(MONDAY, 12))  # 10:30 + 1 h + 30 min buffer ends exactly here
    day = Slot(MONDAY, MONDAY + timedelta(days=1))

    starts = [s.start for s in calendar.free_slots(day, HOUR, MONDAY)]

    assert at(MONDAY, 10, 30) in starts  # 9:00-10:00 plus its buffer ends at 10:30
    assert at(MONDAY, 10) not in starts
    assert at(MONDAY, 11) not in starts


def test_free_slots_never_start_before_now_even_by_a_microsecond() -> None:
    calendar = Calendar(make_professional(), [])
    day = Slot(MONDAY, MONDAY + timedelta(days=1))
    now = at(MONDAY, 10) + timedelta(microseconds=1)

    slots = calendar.free_slots(day, HOUR, now)

    assert slots[0].start == at(MONDAY, 10, 30)
    with pytest.raises(InThePast):
        calendar.check(Slot.starting(at(MONDAY, 10), HOUR), now)


# -- properties ------------------------------------------------------------------------------

zones = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
policies = st.builds(
    BookingPolicy,
    granularity=st.sampled_from([timedelta(minutes=m) for m in (15, 30, 60)]),
    minimum_notice=st.sampled_from([timedelta(0), timedelta(hours=3)]),
    minimum_duration=st.just(timedelta(hours=1)),
    buffer=st.sampled_from([timedelta(0), timedelta(minutes=15), timedelta(minutes=45)]),
)


@settings(max_examples=60, deadline=None)
@given(
    zone=zones,
    policy=policies,
    first_day=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 20)),
    now_offset_hours=st.integers(min_value=-24, max_value=72),
    booked=st.lists(st.tuples(st.integers(0, 6 * 24 * 4), st.integers(4, 12)), max_size=12),
    duration_quarters=st.sampled_from([4, 6, 8]),
)
def test_every_free_slot_is_inside_availability_aligned_future_and_clear_of_bookings(
    zone: str,
    policy: BookingPolicy,
    first_day: date,
    now_offset_hours: int,
    booked: list[tuple[int, int]],
    duration_quarters: int,
) -> None:
    pro = make_professional(time_zone=zone, policy=policy, availability=_weekday_windows())
    start = datetime.combine(first_day, time(0), tzinfo=UTC)
    span = Slot(start, start + timedelta(days=6))
    now = start + timedelta(hours=now_offset_hours)
    calendar = Calendar(pro, [])
    for quarter, length in booked:  # fill the calendar through the rules, so it is realistic
        with contextlib.suppress(BookingError):  # the rules refused this one: fine
            book(
                calendar,
                start + quarter * timedelta(minutes=15),
                length * timedelta(minutes=15),
                now,
            )
    duration = duration_quarters * timedelta(minutes=15)
    assume(duration % policy.granularity == timedelta(0))

    slots = calendar.free_slots(span, duration, now)

    periods = open_periods(pro.availability, pro.time_off, pro.zone, span)
    for slot in slots:
        assert span.contains(slot)
        assert slot.duration == duration
        assert slot.start >= now + policy.minimum_notice
        assert any(
            p.admits(slot) and (slot.start - p.origin) % policy.granularity == timedelta(0)
            for p in periods
        )
        wanted = slot.extended_by(pro.buffer_after_booking)
        assert not any(b.blocked.overlaps(wanted) for b in calendar.bookings)
        calendar.check(slot, now)  # and the rules agree that it can be booked
    assert slots == sorted(slots, key=lambda s: s.start)
    assert len(set(slots)) == len(slots)


def _weekday_windows() -> tuple[AvailabilityWindow, ...]:
    return (
        *(AvailabilityWindow(day_of_week=d, start=time(8), end=time(12)) for d in range(5)),
        *(AvailabilityWindow(day_of_week=d, start=time(13), end=time(18, 30)) for d in range(5)),
        AvailabilityWindow(day_of_week=5, start=time(1), end=time(4)),  # across DST gaps
        AvailabilityWindow(day_of_week=6, start=time(0), end=time(0)),
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 8 * 4 - 4), st.sampled_from([4, 6, 8]), st.integers(0, 8 * 4 - 4))
def test_a_free_slot_is_exactly_one_that_the_rules_accept(
    first: int, quarters: int, probe: int
) -> None:
    pro = make_professional(
        policy=BookingPolicy(minimum_notice=timedelta(0), granularity=timedelta(minutes=15))
    )
    calendar = Calendar(pro, [])
    with contextlib.suppress(OutsideAvailability):
        book(
            calendar,
            at(MONDAY, 9) + first * timedelta(minutes=15),
            quarters * timedelta(minutes=15),
        )
    day = Slot(MONDAY, MONDAY + timedelta(days=1))
    candidate = Slot.starting(at(MONDAY, 9) + probe * timedelta(minutes=15), HOUR)

    free = candidate in calendar.free_slots(day, HOUR, MONDAY)
    try:
        calendar.check(candidate, MONDAY)
        accepted = True
    except (SlotUnavailable, OutsideAvailability):
        accepted = False

    assert free == accepted


# -- the fast scan against a brute-force reference -------------------------------------------

MINUTE = timedelta(minutes=1)
QUARTER = 15 * MINUTE


def brute_force_free_slots(
    pro: Professional, bookings: list[Booking], span: Slot, duration: timedelta, now: datetime
) -> list[Slot]:
    """Every grid position of every open period, each tried against every booking; a slot may
    run on into the open time abutting its period."""
    policy = pro.policy
    blocked = [b.blocked for b in bookings if b.is_active]
    found = []
    for period in open_periods(pro.availability, pro.time_off, pro.zone, span):
        start = period.origin
        while start < period.slot.end:
            slot = Slot(start, start + duration)
            wanted = slot.extended_by(pro.buffer_after_booking)
            if (
                period.admits(slot)
                and span.contains(slot)
                and now + policy.minimum_notice <= slot.start <= now + policy.maximum_advance
                and not any(busy.overlaps(wanted) for busy in blocked)
            ):
                found.append(slot)
            start += policy.granularity
    return sorted(set(found), key=lambda slot: slot.start)  # overlapping windows: each once


@st.composite
def weekly_windows(draw: st.DrawFn) -> tuple[AvailabilityWindow, ...]:
    """Daily hours, plus a few windows on single days that may overlap them or cross DST."""
    windows = st.tuples(st.integers(0, 95), st.integers(4, 96))
    daily = draw(windows)
    extra = draw(st.lists(st.tuples(st.integers(0, 6), windows), max_size=4))
    found = []
    for day, (first_quarter, quarters) in [*((d, daily) for d in range(7)), *extra]:
        end = min(first_quarter + quarters, 96) * 15
        found.append(
            AvailabilityWindow(
                day_of_week=day,
                start=time(first_quarter // 4, first_quarter % 4 * 15),
                end=time(0) if end == 24 * 60 else time(end // 60, end % 60),
            )
        )
    return tuple(found)


# Instants on the quarter-hour grid or just off it (a microsecond either side of a quarter).
MICROSECOND = timedelta(microseconds=1)
off_the_grid = st.sampled_from([timedelta(0), MICROSECOND, -MICROSECOND])


@st.composite
def bookings_around(draw: st.DrawFn, start: datetime, professional_id: UUID) -> list[Booking]:
    found = []
    for quarter, quarters, buffer, jitter, status in draw(
        st.lists(
            st.tuples(
                st.integers(-4 * 4, 3 * 24 * 4),
                st.integers(1, 3 * 4),
                st.sampled_from([0, 10, 45]),
                off_the_grid,
                st.sampled_from(list(BookingStatus)),
            ),
            max_size=25,
        )
    ):
        begin = start + quarter * QUARTER + jitter
        found.append(
            Booking(
                id=uuid4(),
                professional_id=professional_id,
                client_id=uuid4(),
                slot=Slot(begin, begin + quarters * QUARTER),
                buffer=buffer * MINUTE,
                total_price_cents=1000,
                currency="usd",
                created_at=start,
                updated_at=start,
                status=status,
            )
        )
    return found


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    zone=st.sampled_from(
        ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
    ),
    windows=weekly_windows(),
    granularity=st.sampled_from([15, 30, 60]),
    notice=st.sampled_from([0, 90]),
    advance_days=st.sampled_from([90, 2]),
    buffer=st.sampled_from([0, 15]),
    travel=st.sampled_from(list(TravelMode)),
    first_day=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 24)),
    days_off=st.lists(st.tuples(st.integers(-2, 4), st.integers(0, 1)), max_size=1),
    span_quarters=st.tuples(st.integers(0, 4 * 24), st.integers(8 * 4, 3 * 24 * 4)),
    span_jitter=off_the_grid,
    now_quarters=st.integers(-24 * 4, 8 * 4),  # from the start of the span
    now_jitter=off_the_grid,
    duration_minutes=st.sampled_from([60, 90, 120]),
)
def test_free_slots_are_exactly_the_grid_positions_a_brute_force_scan_accepts(
    data: st.DataObject,
    zone: str,
    windows: tuple[AvailabilityWindow, ...],
    granularity: int,
    notice: int,
    advance_days: int,
    buffer: int,
    travel: TravelMode,
    first_day: date,
    days_off: list[tuple[int, int]],
    span_quarters: tuple[int, int],
    span_jitter: timedelta,
    now_quarters: int,
    now_jitter: timedelta,
    duration_minutes: int,
) -> None:
    assume(duration_minutes % granularity == 0)
    pro = make_professional(
        time_zone=zone,
        availability=windows,
        travel_mode=travel,
        time_off=tuple(
            TimeOff(
                first_day=first_day + timedelta(days=skip),
                last_day=first_day + timedelta(days=skip + length),
            )
            for skip, length in days_off
        ),
        policy=BookingPolicy(
            granularity=granularity * MINUTE,
            minimum_notice=notice * MINUTE,
            maximum_advance=timedelta(days=advance_days),
            buffer=buffer * MINUTE,
        ),
    )
    midnight = datetime.combine(first_day, time(0), tzinfo=UTC)
    first, length = span_quarters
    span = Slot(midnight + first * QUARTER + span_jitter, midnight + (first + length) * QUARTER)
    now = span.start - span_jitter + now_quarters * QUARTER + now_jitter
    bookings = data.draw(bookings_around(midnight, pro.id))
    duration = duration_minutes * MINUTE

    calendar = Calendar(pro, bookings)
    blocked = [(b.blocked.start, b.blocked.end) for b in bookings if b.is_active]
    from_blocked = Calendar.from_blocked(pro, blocked)

    expected = brute_force_free_slots(pro, bookings, span, duration, now)
    assert calendar.free_slots(span, duration, now) == expected
    assert from_blocked.free_slots(span, duration, now) == expected
    assert from_blocked.has_free_slot(span, duration, now) == bool(expected)


def test_overlapping_windows_stored_before_they_were_refused_offer_each_slot_once() -> None:
    windows = (
        AvailabilityWindow(day_of_week=0, start=time(9), end=time(12)),
        AvailabilityWindow(day_of_week=0, start=time(9), end=time(12)),
        AvailabilityWindow(day_of_week=0, start=time(10), end=time(13)),
    )
    calendar = Calendar(make_professional(availability=windows), [])
    day = Slot(MONDAY, MONDAY + timedelta(days=1))

    starts = [s.start for s in calendar.free_slots(day, HOUR, MONDAY)]

    assert starts == [
        at(MONDAY, 9), at(MONDAY, 9, 30), at(MONDAY, 10), at(MONDAY, 10, 30),
        at(MONDAY, 11), at(MONDAY, 11, 30), at(MONDAY, 12),
    ]


def test_free_slots_with_a_limit_are_the_first_ones_in_time_order() -> None:
    calendar = Calendar(make_professional(), [])
    two_days = Slot(MONDAY, MONDAY + timedelta(days=2))

    every = calendar.free_slots(two_days, HOUR, MONDAY)
    first = calendar.free_slots(two_days, HOUR, MONDAY, limit=20)

    assert len(every) == 2 * 15 and first == every[:20]
