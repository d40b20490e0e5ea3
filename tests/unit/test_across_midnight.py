"""Open time that runs on without a break (24:00 then 00:00, or two windows of one day meeting)
is one stretch: slots cross the join, and are held, priced and refused like any other."""

from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import (
    InMemoryIdempotencyStore,
    InMemoryPayments,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from booking import catalogue, services
from booking.availability import local_to_utc, open_periods, window_occurrences
from booking.calendar import Calendar
from booking.commands import CreateBooking
from booking.errors import Misaligned, OutsideAvailability, SlotUnavailable
from booking.model import (
    AvailabilityWindow,
    BookingPolicy,
    BookingStatus,
    Professional,
    TimeOff,
)
from booking.ports import SearchCriteria
from booking.receipts import BookingReceipt
from booking.slot import Slot
from tests.factories import MONDAY, FixedClock, at, make_client, make_professional, new_key

HOUR = timedelta(hours=1)
TUESDAY = MONDAY + timedelta(days=1)
LONG_BOOKINGS = BookingPolicy(minimum_notice=timedelta(0), maximum_duration=timedelta(hours=8))


def window(day: int, start: time, end: time) -> AvailabilityWindow:
    return AvailabilityWindow(day_of_week=day, start=start, end=end)


def nights(first_day: int = 0) -> tuple[AvailabilityWindow, ...]:
    """Evening until midnight on ``first_day``, then the small hours of the next day."""
    return (window(first_day, time(18), time(0)), window((first_day + 1) % 7, time(0), time(6)))


def night_worker(zone: str = "UTC", **overrides: object) -> Professional:
    fields: dict[str, object] = {
        "time_zone": zone,
        "availability": nights(),
        "policy": LONG_BOOKINGS,
        "hourly_rate_cents": 6000,
    }
    fields.update(overrides)
    return make_professional(**fields)


def local(zone: str, day: date, hour: int) -> datetime:
    return local_to_utc(day, time(hour), ZoneInfo(zone))


def test_a_window_to_midnight_and_one_from_midnight_offer_slots_across_midnight() -> None:
    calendar = Calendar(night_worker(), [])
    night = Slot(at(MONDAY, 12), at(TUESDAY, 12))

    slots = calendar.free_slots(night, 4 * HOUR, MONDAY)

    assert Slot(at(MONDAY, 22), at(TUESDAY, 2)) in slots
    assert [s.start for s in slots] == [
        at(MONDAY, 18) + i * timedelta(minutes=30) for i in range(17)
    ]  # 18:00 to 02:00, every half hour: the last one ends at 06:00


def test_without_the_early_window_nothing_crosses_midnight() -> None:
    calendar = Calendar(night_worker(availability=nights()[:1]), [])

    slots = calendar.free_slots(Slot(at(MONDAY, 12), at(TUESDAY, 12)), 4 * HOUR, MONDAY)

    assert max(s.end for s in slots) == TUESDAY


def test_the_merged_periods_know_how_far_the_open_time_runs() -> None:
    pro = night_worker()

    periods = open_periods(pro.availability, pro.time_off, pro.zone, Slot(MONDAY, at(TUESDAY, 12)))

    assert [(p.origin, p.slot, p.open_until) for p in periods] == [
        (at(MONDAY, 18), Slot(at(MONDAY, 18), TUESDAY), at(TUESDAY, 6)),
        (TUESDAY, Slot(TUESDAY, at(TUESDAY, 6)), at(TUESDAY, 6)),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_a_booking_from_22_to_02_local_is_held_and_priced_like_any_other(zone: str) -> None:
    calendar = Calendar(night_worker(zone), [])
    slot = Slot(local(zone, date(2026, 6, 1), 22), local(zone, date(2026, 6, 2), 2))

    booking = calendar.book(booking_id=uuid4(), client_id=uuid4(), slot=slot, now=MONDAY)

    assert booking.slot == slot
    assert slot.duration == 4 * HOUR
    assert booking.total_price_cents == 4 * 6000


def test_a_booking_across_midnight_blocks_the_slots_on_both_sides_of_midnight() -> None:
    calendar = Calendar(night_worker(), [])
    calendar.book(
        booking_id=uuid4(),
        client_id=uuid4(),
        slot=Slot(at(MONDAY, 22), at(TUESDAY, 2)),
        now=MONDAY,
    )

    with pytest.raises(SlotUnavailable):
        calendar.check(Slot(at(MONDAY, 20), at(MONDAY, 23)), MONDAY)
    with pytest.raises(SlotUnavailable):
        calendar.check(Slot(at(TUESDAY, 1), at(TUESDAY, 3)), MONDAY)
    free = calendar.free_slots(Slot(at(MONDAY, 12), at(TUESDAY, 12)), HOUR, MONDAY)
    assert [s.start for s in free if s.start.minute == 0] == [
        *(at(MONDAY, h) for h in (18, 19, 20, 21)),
        *(at(TUESDAY, h) for h in (2, 3, 4, 5)),
    ]


@pytest.mark.parametrize(
    "availability",
    [
        (window(0, time(18), time(0)), window(1, time(1), time(6))),  # a gap after midnight
        (window(0, time(18), time(23)), window(1, time(0), time(6))),  # a gap before it
        (window(0, time(18), time(0)),),  # nothing on Tuesday
    ],
)
def test_a_booking_across_midnight_is_refused_where_the_open_time_breaks(
    availability: tuple[AvailabilityWindow, ...],
) -> None:
    calendar = Calendar(night_worker(availability=availability), [])

    with pytest.raises(OutsideAvailability):
        calendar.check(Slot(at(MONDAY, 22), at(TUESDAY, 2)), MONDAY)


def test_a_day_off_after_midnight_closes_the_slots_that_cross_into_it() -> None:
    off = (TimeOff(first_day=TUESDAY.date(), last_day=TUESDAY.date(), reason="holiday"),)
    calendar = Calendar(night_worker(time_off=off), [])

    with pytest.raises(OutsideAvailability):
        calendar.check(Slot(at(MONDAY, 22), at(TUESDAY, 2)), MONDAY)
    slots = calendar.free_slots(Slot(MONDAY, at(TUESDAY, 12)), 4 * HOUR, MONDAY)
    assert max(s.end for s in slots) == TUESDAY


def test_sunday_night_runs_into_monday_morning() -> None:
    sunday = MONDAY - timedelta(days=1)
    calendar = Calendar(night_worker(availability=nights(first_day=6)), [])

    slots = calendar.free_slots(Slot(sunday, at(MONDAY, 12)), 8 * HOUR, sunday)

    assert Slot(at(sunday, 22), at(MONDAY, 6)) in slots


# -- the grid where periods meet: each window occurrence keeps its own -----------------------


def test_two_windows_of_one_day_meeting_offer_slots_across_the_join_on_each_ones_own_grid() -> None:
    split = (window(0, time(9, 10), time(12)), window(0, time(12), time(17)))
    calendar = Calendar(make_professional(availability=split), [])

    starts = [s.start for s in calendar.free_slots(Slot(MONDAY, TUESDAY), HOUR, MONDAY)]

    assert at(MONDAY, 11, 40) in starts  # 11:40-12:40 runs across the join
    assert at(MONDAY, 12) in starts  # the afternoon's grid counts from its own start
    assert at(MONDAY, 12, 10) not in starts  # not from the morning's
    assert starts == sorted(
        [at(MONDAY, 9, 10) + i * timedelta(minutes=30) for i in range(6)]
        + [at(MONDAY, 12) + i * timedelta(minutes=30) for i in range(9)]
    )


def test_a_start_off_the_grid_of_the_window_it_starts_in_is_misaligned() -> None:
    split = (window(0, time(9, 10), time(12)), window(0, time(12), time(17)))
    calendar = Calendar(make_professional(availability=split), [])

    calendar.check(Slot(at(MONDAY, 11, 40), at(MONDAY, 12, 40)), MONDAY)
    with pytest.raises(Misaligned):
        calendar.check(Slot(at(MONDAY, 12, 10), at(MONDAY, 13, 10)), MONDAY)


def test_a_professional_open_around_the_clock_keeps_the_hourly_grid_of_each_day() -> None:
    always = tuple(window(d, time(0), time(0)) for d in range(7))
    pro = make_professional(
        availability=always,
        time_zone="Asia/Kolkata",
        policy=BookingPolicy(minimum_notice=timedelta(0), granularity=HOUR),
    )
    week = Slot(MONDAY, MONDAY + timedelta(days=7))

    slots = Calendar(pro, []).free_slots(week, 3 * HOUR, MONDAY)

    zone = ZoneInfo("Asia/Kolkata")
    assert all(s.start.astimezone(zone).minute == 0 for s in slots)
    assert len(slots) == 7 * 24 - 3  # every hour of the week that leaves three hours
    assert sum(s.start.astimezone(zone).hour == 23 for s in slots) == 7


# -- DST nights --------------------------------------------------------------------------------

# (zone, the local day before a night whose midnight the clocks move, that night's length
# from 22:00 to 02:00)
DST_NIGHTS = [
    ("America/Santiago", date(2026, 9, 5), 3 * HOUR),  # 24:00 is 01:00: midnight skipped
    ("America/Santiago", date(2026, 4, 4), 5 * HOUR),  # 24:00 goes back to 23:00
    ("Africa/Cairo", date(2026, 4, 23), 3 * HOUR),
    ("Africa/Cairo", date(2026, 10, 29), 5 * HOUR),
    ("America/Havana", date(2026, 3, 7), 3 * HOUR),
    ("America/Havana", date(2026, 10, 31), 5 * HOUR),  # 00:00-01:00 twice: the days overlap
    ("Europe/Berlin", date(2026, 3, 28), 4 * HOUR),  # moves at 02:00, after the slot
]


@pytest.mark.parametrize(("zone", "day", "length"), DST_NIGHTS)
def test_a_night_whose_midnight_the_clocks_move_is_one_stretch_of_open_time(
    zone: str, day: date, length: timedelta
) -> None:
    pro = night_worker(zone, availability=nights(day.weekday()))
    after = day + timedelta(days=1)
    slot = Slot(local(zone, day, 22), local(zone, after, 2))
    calendar = Calendar(pro, [])
    noon = local(zone, day, 12)

    free = calendar.free_slots(Slot(noon, local(zone, after, 12)), length, noon)
    booking = calendar.book(booking_id=uuid4(), client_id=uuid4(), slot=slot, now=noon)

    assert slot.duration == length
    assert slot in free
    assert booking.total_price_cents == length // timedelta(minutes=1) * 6000 // 60
    periods = open_periods(pro.availability, (), pro.zone, slot)
    assert len({p.open_until for p in periods}) == 1  # one stretch, from 18:00 to 06:00


def test_the_dst_nights_really_move_the_clocks_at_midnight() -> None:
    for zone, day, _ in DST_NIGHTS[:-1]:
        tz = ZoneInfo(zone)
        before = datetime.combine(day, time(22), tzinfo=tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(2), tzinfo=tz).utcoffset()
        assert before != after, zone


def test_where_midnight_happens_twice_the_two_days_overlap_by_the_repeated_hour() -> None:
    havana = ZoneInfo("America/Havana")
    saturday = date(2026, 10, 31)  # at 01:00 on Sunday the clocks go back to 00:00
    night = Slot(
        local("America/Havana", saturday, 12), local("America/Havana", saturday, 12) + 2 * 24 * HOUR
    )

    evening, small_hours = window_occurrences(nights(saturday.weekday()), havana, night)

    assert evening.end - small_hours.start == HOUR


# -- through the use cases: hold, slots offered, search ----------------------------------------


class NightShift:
    """The use cases on in-memory adapters, with a night worker in Berlin and a client."""

    zone = "Europe/Berlin"

    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.uow = InMemoryUnitOfWork(self.store)
        self.clock = FixedClock(MONDAY)
        self.idempotency = InMemoryIdempotencyStore(self.clock)
        self.payments = InMemoryPayments()
        self.pro = catalogue.register_professional(
            night_worker(self.zone, category="nursing"), uow=self.uow
        )
        self.client = catalogue.register_client(make_client(), uow=self.uow)

    def book(self, start: datetime, hours: int) -> BookingReceipt:
        return services.create_booking(
            CreateBooking(
                client_id=self.client.id,
                professional_id=self.pro.id,
                start=start,
                duration=hours * HOUR,
                idempotency_key=new_key(),
            ),
            uow=self.uow,
            payments=self.payments,
            idempotency=self.idempotency,
            clock=self.clock,
        )

    def at(self, day: date, hour: int) -> datetime:
        return local(self.zone, day, hour)

    def has_free_time(self, span: Slot, hours: int) -> bool:
        found = catalogue.search_professionals(
            SearchCriteria(category="nursing"),
            uow=self.uow,
            clock=self.clock,
            free=catalogue.FreeTime(span=span, duration=hours * HOUR),
        )
        return [pro.id for pro, _ in found] == [self.pro.id]


def test_create_booking_holds_22_to_02_local_and_prices_it_like_any_other_four_hours() -> None:
    shift = NightShift()
    monday, tuesday = date(2026, 6, 1), date(2026, 6, 2)

    receipt = shift.book(shift.at(monday, 22), 4)

    stored = shift.store.bookings[receipt.booking_id]
    assert stored.slot == Slot(shift.at(monday, 22), shift.at(tuesday, 2))
    assert stored.status is BookingStatus.PENDING
    assert stored.total_price_cents == 4 * 6000
    assert shift.payments.intents[receipt.payment_intent_id or ""].amount_cents == 4 * 6000


def test_a_second_booking_over_midnight_conflicts_with_the_first() -> None:
    shift = NightShift()
    monday = date(2026, 6, 1)
    shift.book(shift.at(monday, 22), 4)

    with pytest.raises(SlotUnavailable):
        shift.book(shift.at(monday, 23), 2)


def test_the_slots_offered_cross_midnight_and_leave_out_a_held_night() -> None:
    shift = NightShift()
    monday, tuesday = date(2026, 6, 1), date(2026, 6, 2)
    night = Slot(shift.at(monday, 12), shift.at(tuesday, 12))
    before = catalogue.free_slots(shift.pro.id, night, 4 * HOUR, uow=shift.uow, clock=shift.clock)

    shift.book(shift.at(monday, 20), 8)  # 20:00-04:00
    after = catalogue.free_slots(shift.pro.id, night, 2 * HOUR, uow=shift.uow, clock=shift.clock)

    assert Slot(shift.at(monday, 22), shift.at(tuesday, 2)) in before.slots
    assert before.price_cents == 4 * 6000
    assert [s.start for s in after.slots] == [
        shift.at(monday, 18),
        shift.at(tuesday, 4),
    ]


def test_search_finds_a_night_worker_free_only_across_midnight() -> None:
    shift = NightShift()
    monday, tuesday = date(2026, 6, 1), date(2026, 6, 2)
    around_midnight = Slot(shift.at(monday, 22), shift.at(tuesday, 2))

    assert shift.has_free_time(around_midnight, 4)
    shift.book(shift.at(monday, 23), 2)
    assert not shift.has_free_time(around_midnight, 4)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_two_windows_meeting_inside_the_hour_the_clocks_move_are_one_stretch(day: date) -> None:
    zone = "Europe/Berlin"  # 02:30 does not exist on 29 March and happens twice on 25 October
    split = (window(6, time(0), time(2, 30)), window(6, time(2, 30), time(6)))
    calendar = Calendar(make_professional(time_zone=zone, availability=split), [])
    two_am = local(zone, day, 2)  # its first occurrence, or 03:00 after the gap

    slots = calendar.free_slots(Slot(local(zone, day, 0), local(zone, day, 6)), 2 * HOUR, two_am)

    assert Slot(two_am, two_am + 2 * HOUR) in slots  # across the join at 02:30
