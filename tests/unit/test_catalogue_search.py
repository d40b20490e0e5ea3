"""Searching for professionals with free time: pages, offsets and how storage is read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory import (
    InMemoryBookings,
    InMemoryProfessionals,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from booking import catalogue
from booking.calendar import Blocked, Calendar
from booking.catalogue import FreeTime
from booking.errors import InvalidInput, RuleViolation
from booking.model import Booking, BookingPolicy, Location, Professional, TravelMode
from booking.ports import SearchCriteria, UnitOfWork
from booking.slot import Slot
from tests.factories import MONDAY, FixedClock, at, make_professional

BERLIN = Location(52.52, 13.405)
WINDOW = Slot(at(MONDAY, 10), at(MONDAY, 14))
HOUR = timedelta(hours=1)
CLOCK = FixedClock(MONDAY)


def every_free_candidate(
    uow: UnitOfWork, criteria: SearchCriteria, free: FreeTime, now: datetime
) -> list[tuple[Professional, float | None]]:
    """The page as checking every candidate, one calendar read each, would find it."""
    found = []
    with uow:
        everyone = uow.professionals.search(replace(criteria, limit=10_000, offset=0))
        for professional, distance in everyone:
            needed = free.span.extended_by(professional.buffer_after_booking)
            calendar = Calendar(professional, uow.bookings.active_blocking(professional.id, needed))
            try:
                if calendar.free_slots(free.span, free.duration, now):
                    found.append((professional, distance))
            except RuleViolation:
                pass
    return found[criteria.offset : criteria.offset + criteria.limit]


def booking(professional: Professional, start: datetime, duration: timedelta) -> Booking:
    return Booking(
        id=uuid4(),
        professional_id=professional.id,
        client_id=uuid4(),
        slot=Slot.starting(start, duration),
        buffer=professional.buffer_after_booking,
        total_price_cents=6000,
        currency="usd",
        created_at=MONDAY,
        updated_at=MONDAY,
    )


FATES = (
    "free",
    "booked all window",
    "one free hour",
    "half an hour between",
    "travel into the next booking",
    "long only",
)


def store_with(fates: Sequence[tuple[int, str]]) -> InMemoryStore:
    """One professional per fate, ``metres`` north of Berlin."""
    store = InMemoryStore()
    for metres, fate in fates:
        professional = make_professional(
            category="plumbing",
            location=Location(BERLIN.lat + metres / 111_200, BERLIN.lng),
            travel_mode=TravelMode.TRAVEL
            if "travel" in fate or "one" in fate
            else TravelMode.LOCAL,
            policy=BookingPolicy(
                minimum_notice=timedelta(0),
                minimum_duration=2 * HOUR if fate == "long only" else HOUR,
            ),
        )
        store.professionals[professional.id] = professional
        held = {
            "free": [],
            "booked all window": [(at(MONDAY, 10), 4 * HOUR)],
            # 30 min of travel after each booking: 11:30-12:30 and its travel end at 13:00
            "one free hour": [(at(MONDAY, 10), HOUR), (at(MONDAY, 13), HOUR)],
            "half an hour between": [
                (at(MONDAY, 10), 90 * timedelta(minutes=1)),
                (at(MONDAY, 12), 2 * HOUR),
            ],
            # 13:00-14:00 is free, but its 30 min of travel would run into 14:15
            "travel into the next booking": [
                (at(MONDAY, 10), 150 * timedelta(minutes=1)),
                (at(MONDAY, 14, 15), HOUR),
            ],
            "long only": [],
        }[fate]
        for start, duration in held:
            made = booking(professional, start, duration)
            store.bookings[made.id] = made
    return store


def test_the_offset_counts_only_professionals_with_free_time() -> None:
    store = store_with(
        [
            (100, "booked all window"),
            (200, "free"),
            (300, "half an hour between"),
            (400, "one free hour"),
            (500, "free"),
            (600, "long only"),
            (700, "free"),
        ]
    )
    criteria = SearchCriteria(category="plumbing", near=BERLIN, radius_km=5, limit=2, offset=1)

    page = catalogue.search_professionals(
        criteria,
        uow=InMemoryUnitOfWork(store),
        clock=CLOCK,
        free=FreeTime(span=WINDOW, duration=HOUR),
    )

    assert [round(distance or 0, 1) for _, distance in page] == [0.4, 0.5]


class CountingBookings(InMemoryBookings):
    """Bookings that remember how the calendars were read."""

    def __init__(self, bookings: InMemoryBookings, reads: list[str]) -> None:
        super().__init__(bookings.rows, bookings.professionals)
        self.reads = reads

    def active_blocking(self, professional_id: UUID, span: Slot) -> list[Booking]:
        self.reads.append("one professional's bookings")
        return super().active_blocking(professional_id, span)

    def blocked_intervals_many(
        self, professional_ids: Sequence[UUID], span: Slot
    ) -> dict[UUID, list[Blocked]]:
        self.reads.append(f"blocked time of {len(professional_ids)}")
        return super().blocked_intervals_many(professional_ids, span)


class CountingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.reads: list[str] = []

    def __enter__(self) -> CountingUnitOfWork:
        super().__enter__()
        self.bookings = CountingBookings(self.bookings, self.reads)
        return self


def test_a_search_for_free_time_reads_the_blocked_time_of_a_batch_at_once() -> None:
    uow = CountingUnitOfWork(store_with([(metres, "free") for metres in range(100, 5000, 100)]))
    criteria = SearchCriteria(category="plumbing", near=BERLIN, radius_km=10, limit=5)

    page = catalogue.search_professionals(
        criteria, uow=uow, clock=CLOCK, free=FreeTime(span=WINDOW, duration=HOUR)
    )

    assert len(page) == 5
    assert len(uow.reads) == 1  # one read for the whole batch, none per professional
    assert uow.reads[0].startswith("blocked time of ")


@settings(max_examples=100, deadline=None)
@given(
    fates=st.lists(
        st.tuples(
            st.integers(0, 12_000),
            st.sampled_from(FATES).filter(lambda fate: fate != "free") | st.just("free"),
        ),
        min_size=10,
        max_size=160,
    ),
    offset=st.integers(0, 30),
    limit=st.integers(1, 12),
)
def test_a_page_of_free_professionals_is_the_one_checking_every_candidate_finds(
    fates: list[tuple[int, str]], offset: int, limit: int
) -> None:
    store = store_with(fates)
    criteria = SearchCriteria(
        category="plumbing", near=BERLIN, radius_km=10, limit=limit, offset=offset
    )
    free = FreeTime(span=WINDOW, duration=HOUR)

    page = catalogue.search_professionals(
        criteria, uow=InMemoryUnitOfWork(store), clock=CLOCK, free=free
    )

    expected = every_free_candidate(InMemoryUnitOfWork(store), criteria, free, CLOCK.now())
    assert [(pro.id, distance) for pro, distance in page] == [
        (pro.id, distance) for pro, distance in expected
    ]


class CountingProfessionals(InMemoryProfessionals):
    """Professionals that remember every read of the search box and every one examined."""

    def __init__(self, professionals: InMemoryProfessionals, reads: list[str]) -> None:
        super().__init__(professionals.rows)
        self.reads = reads
        self.examined = 0

    def search(self, criteria: SearchCriteria) -> list[tuple[Professional, float | None]]:
        self.reads.append("the search box")
        return super().search(criteria)

    def search_ids(self, criteria: SearchCriteria) -> list[tuple[UUID, float | None]]:
        self.reads.append("the search box")
        return [(pro.id, distance) for pro, distance in super().search(criteria)]

    def get_many(self, professional_ids: Sequence[UUID]) -> dict[UUID, Professional]:
        self.examined += len(professional_ids)
        return super().get_many(professional_ids)


class CountingSearch(InMemoryUnitOfWork):
    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.reads: list[str] = []

    def __enter__(self) -> CountingSearch:
        super().__enter__()
        self.professionals = CountingProfessionals(self.professionals, self.reads)
        self.bookings = CountingBookings(self.bookings, self.reads)
        return self


def test_a_search_for_free_time_reads_the_box_once_and_examines_at_most_the_cap() -> None:
    busy = [(metres, "booked all window") for metres in range(0, 3000, 2)]  # 1,500, all busy
    uow = CountingSearch(store_with([*busy, (4000, "free")]))
    criteria = SearchCriteria(category="plumbing", near=BERLIN, radius_km=10, limit=20)

    page = catalogue.search_professionals(
        criteria, uow=uow, clock=CLOCK, free=FreeTime(span=WINDOW, duration=HOUR)
    )

    assert page == []  # the free one is the 1,501st candidate: past the cap
    assert uow.reads.count("the search box") == 1
    assert uow.professionals.examined == catalogue.MAX_CANDIDATES == 1000
    blocked_reads = [read for read in uow.reads if read.startswith("blocked time of ")]
    assert len(blocked_reads) == 1 + (1000 - 60) // 100 + 1  # 60, then batches of 100


def test_a_search_for_free_time_asks_for_no_more_than_the_first_200() -> None:
    criteria = SearchCriteria(category="plumbing", limit=100, offset=101)

    with pytest.raises(InvalidInput, match="offset \\+ limit is at most 200"):
        catalogue.search_professionals(
            criteria,
            uow=InMemoryUnitOfWork(),
            clock=CLOCK,
            free=FreeTime(span=WINDOW, duration=HOUR),
        )


def test_a_radius_above_500_km_is_refused_by_the_domain() -> None:
    criteria = SearchCriteria(near=BERLIN, radius_km=500.1)

    with pytest.raises(InvalidInput, match="radius_km must be above 0 and at most 500"):
        catalogue.search_professionals(criteria, uow=InMemoryUnitOfWork(), clock=CLOCK)
