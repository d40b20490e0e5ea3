"""The SQL repositories store and return domain objects unchanged, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, time, timedelta, timezone
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from adapters.memory import InMemoryUnitOfWork
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import catalogue
from booking.catalogue import FreeTime
from booking.errors import ConcurrentUpdate, InvalidInput
from booking.model import (
    AvailabilityWindow,
    Booking,
    BookingPolicy,
    BookingStatus,
    CancellationReason,
    Location,
    TimeOff,
    TravelMode,
)
from booking.ports import BookingQuery, SearchCriteria
from booking.slot import Slot
from tests.factories import MONDAY, at, make_client, make_professional
from tests.unit.test_catalogue_search import (
    BERLIN,
    CLOCK,
    FATES,
    HOUR,
    WINDOW,
    every_free_candidate,
    store_with,
)


def make_booking(
    professional_id: UUID, client_id: UUID, hour: int, **overrides: object
) -> Booking:
    fields: dict[str, object] = {
        "id": uuid4(),
        "professional_id": professional_id,
        "client_id": client_id,
        "slot": Slot(at(MONDAY, hour), at(MONDAY, hour + 1)),
        "buffer": timedelta(minutes=15),
        "total_price_cents": 6000,
        "currency": "usd",
        "created_at": MONDAY,
        "updated_at": MONDAY,
        "idempotency_key": f"key-{uuid4()}",
    }
    fields.update(overrides)
    return Booking(**fields)  # type: ignore[arg-type]


def test_a_professional_comes_back_with_availability_time_off_and_policy(engine: sa.Engine) -> None:
    professional = make_professional(
        travel_mode=TravelMode.TRAVEL,
        travel_fee_cents=1500,
        time_zone="Europe/Berlin",
        availability=(
            AvailabilityWindow(day_of_week=4, start=time(18), end=time(0)),
            AvailabilityWindow(day_of_week=0, start=time(8, 30), end=time(12), is_active=False),
        ),
        time_off=(
            TimeOff(first_day=date(2026, 8, 1), last_day=date(2026, 8, 14), reason="holiday"),
            TimeOff(first_day=date(2026, 7, 1), last_day=date(2026, 7, 1)),
        ),
        policy=BookingPolicy(
            granularity=timedelta(minutes=15),
            minimum_notice=timedelta(hours=3),
            maximum_advance=timedelta(days=30),
            minimum_duration=timedelta(minutes=45),
            maximum_duration=timedelta(hours=3),
            buffer=timedelta(minutes=10),
            travel_time=timedelta(minutes=20),
            free_cancellation=timedelta(hours=12),
            late_cancellation_refund_percent=25,
        ),
    )
    uow = SqlUnitOfWork(engine)

    with uow:
        uow.professionals.add(professional)
        uow.commit()
    with uow:
        loaded = uow.professionals.get(professional.id)

    assert loaded == professional
    assert loaded is not professional


def test_a_missing_professional_is_none(engine: sa.Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        assert uow.professionals.get(uuid4()) is None


def test_updating_a_professional_replaces_its_windows_and_bumps_the_version(
    engine: sa.Engine,
) -> None:
    professional = make_professional()
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.professionals.add(professional)
        uow.commit()

    with uow:
        loaded = uow.professionals.get(professional.id)
        assert loaded is not None
        loaded.availability = (AvailabilityWindow(day_of_week=2, start=time(7), end=time(9)),)
        loaded.time_off = (TimeOff(first_day=date(2026, 9, 1), last_day=date(2026, 9, 2)),)
        uow.professionals.update(loaded)
        uow.commit()
    with uow:
        reloaded = uow.professionals.get(professional.id)

    assert reloaded == loaded
    assert reloaded is not None and reloaded.version == 2


def test_a_stale_professional_update_raises_concurrent_update(engine: sa.Engine) -> None:
    professional = make_professional()
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.professionals.add(professional)
        uow.commit()
    with uow:
        uow.professionals.update(make_professional(id=professional.id, name="First Edit"))
        uow.commit()

    with uow, pytest.raises(ConcurrentUpdate):
        uow.professionals.update(make_professional(id=professional.id, name="Stale Edit"))


def test_adding_a_professional_twice_is_invalid_input(engine: sa.Engine) -> None:
    professional = make_professional()
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.professionals.add(professional)
        uow.commit()

    with uow, pytest.raises(InvalidInput):
        uow.professionals.add(professional)


def test_a_client_round_trips_and_updates(engine: sa.Engine) -> None:
    client = make_client(phone="+49 30 1234567")
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.clients.add(client)
        uow.commit()

    with uow:
        client.name = "Cleo Renamed"
        uow.clients.update(client)
        uow.commit()
    with uow:
        loaded = uow.clients.get(client.id)

    assert loaded == client


def test_a_booking_round_trips_with_aware_utc_datetimes(engine: sa.Engine) -> None:
    professional, client = make_professional(), make_client()
    plus_two = timezone(timedelta(hours=2))
    booking = make_booking(
        professional.id, client.id, 10,
        slot=Slot(at(MONDAY, 10).astimezone(plus_two), at(MONDAY, 11).astimezone(plus_two)),
        status=BookingStatus.CANCELLED,
        cancellation_reason=CancellationReason.CLIENT,
        payment_intent_id="pi_123",
        refund_due_cents=3000,
        refunded_cents=1000,
    )
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.professionals.add(professional)
        uow.clients.add(client)
        uow.bookings.add(booking)
        uow.commit()

    with uow:
        loaded = uow.bookings.get(booking.id)
        by_payment = uow.bookings.get_by_payment_intent("pi_123")

    assert loaded is not None and by_payment is not None
    assert vars(loaded) == vars(booking)
    assert vars(by_payment) == vars(booking)
    for instant in (loaded.start, loaded.end, loaded.created_at, loaded.updated_at):
        assert instant.tzinfo is UTC
    assert loaded.start == at(MONDAY, 10)


def test_booking_queries_filter_and_order_like_the_in_memory_repository(engine: sa.Engine) -> None:
    professional, client = make_professional(), make_client()
    early, late = timedelta(minutes=1), timedelta(hours=1)
    kept = [
        make_booking(professional.id, client.id, 9, created_at=MONDAY - late),
        make_booking(professional.id, client.id, 11, created_at=MONDAY - early),
    ]
    cancelled = make_booking(
        professional.id, client.id, 13, status=BookingStatus.CANCELLED, created_at=MONDAY - late
    )
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.professionals.add(professional)
        uow.clients.add(client)
        for booking in [*kept, cancelled]:
            uow.bookings.add(booking)
        uow.commit()

    with uow:
        blocking = uow.bookings.active_blocking(
            professional.id, Slot(at(MONDAY, 10, 10), at(MONDAY, 13, 30))
        )
        touching = uow.bookings.active_blocking(
            professional.id, Slot(at(MONDAY, 12, 15), at(MONDAY, 12, 30))
        )
        stale = uow.bookings.pending_created_before(MONDAY - timedelta(minutes=30), limit=10)
        listed = uow.bookings.list(BookingQuery(client_id=client.id, starts_from=at(MONDAY, 10)))
        pending = uow.bookings.list(BookingQuery(status=BookingStatus.PENDING, limit=1, offset=1))

    assert {b.id for b in blocking} == {kept[0].id, kept[1].id}  # 9:00 + 15 min buffer: 10:15
    assert touching == []  # 11:00-12:00 plus 15 min ends where the span starts
    assert [b.id for b in stale] == [kept[0].id]
    assert [b.id for b in listed] == [kept[1].id, cancelled.id]
    assert [b.id for b in pending] == [kept[1].id]


def test_search_finds_the_nearest_professionals_in_the_category(engine: sa.Engine) -> None:
    category = f"c-{uuid4().hex[:8]}"
    berlin = Location(52.52, 13.405)
    near = make_professional(category=category, location=Location(52.53, 13.41))
    nearer = make_professional(category=category, location=Location(52.521, 13.406))
    far = make_professional(category=category, location=Location(48.137, 11.575))  # Munich
    other = make_professional(category="other", location=berlin)
    uow = SqlUnitOfWork(engine)
    with uow:
        for professional in (near, nearer, far, other):
            uow.professionals.add(professional)
        uow.commit()

    with uow:
        found = uow.professionals.search(
            SearchCriteria(category=category, near=berlin, radius_km=50)
        )
        second_page = uow.professionals.search(
            SearchCriteria(category=category, near=berlin, radius_km=50, offset=1, limit=1)
        )

    assert [pro.id for pro, _ in found] == [nearer.id, near.id]
    distances = [distance for _, distance in found]
    assert distances[0] is not None and distances[0] < 0.2
    assert [pro for pro, _ in second_page] == [near]


def test_search_across_the_antimeridian_finds_both_sides(engine: sa.Engine) -> None:
    category = f"c-{uuid4().hex[:8]}"
    east = make_professional(category=category, location=Location(0.0, 179.95))
    west = make_professional(category=category, location=Location(0.0, -179.95))
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.professionals.add(east)
        uow.professionals.add(west)
        uow.commit()

    with uow:
        found = uow.professionals.search(
            SearchCriteria(category=category, near=Location(0.0, 179.99), radius_km=20)
        )

    assert [pro.id for pro, _ in found] == [east.id, west.id]


def test_search_without_a_point_sorts_by_name_in_code_point_order(engine: sa.Engine) -> None:
    category = f"c-{uuid4().hex[:8]}"
    names = ["bea", "Zoe", "Ada", "abe"]
    uow = SqlUnitOfWork(engine)
    with uow:
        for name in names:
            uow.professionals.add(make_professional(category=category, name=name))
        uow.commit()

    with uow:
        found = uow.professionals.search(SearchCriteria(category=category))

    assert [pro.name for pro, _ in found] == sorted(names)
    assert all(distance is None for _, distance in found)


def test_blocked_intervals_are_the_blocked_time_of_the_active_blocking_bookings(
    engine: sa.Engine,
) -> None:
    professional, other, client = make_professional(), make_professional(), make_client()
    kept = [
        make_booking(professional.id, client.id, 9),  # 15 min buffer: blocks until 10:15
        make_booking(professional.id, client.id, 11),
    ]
    cancelled = make_booking(professional.id, client.id, 13, status=BookingStatus.CANCELLED)
    others = make_booking(other.id, client.id, 10, buffer=timedelta(0))
    uow = SqlUnitOfWork(engine)
    with uow:
        for pro in (professional, other):
            uow.professionals.add(pro)
        uow.clients.add(client)
        for booking in [*kept, cancelled, others]:
            uow.bookings.add(booking)
        uow.commit()
    span = Slot(at(MONDAY, 10, 10), at(MONDAY, 13, 30))

    with uow:
        one = uow.bookings.blocked_intervals(professional.id, span)
        many = uow.bookings.blocked_intervals_many([professional.id, other.id, uuid4()], span)
        blocking = uow.bookings.active_blocking(professional.id, span)
        nobody = uow.bookings.blocked_intervals_many([], span)

    assert sorted(one) == sorted((b.blocked.start, b.blocked.end) for b in blocking)
    assert sorted(one) == [
        (at(MONDAY, 9), at(MONDAY, 10, 15)),
        (at(MONDAY, 11), at(MONDAY, 12, 15)),
    ]
    assert {pro: sorted(found) for pro, found in many.items()} == {
        professional.id: sorted(one),
        other.id: [(at(MONDAY, 10), at(MONDAY, 11))],
    }
    assert all(instant.tzinfo is UTC for pair in one for instant in pair)
    assert nobody == {}


def test_a_search_for_free_time_pages_as_checking_every_candidate_does(
    engine: sa.Engine,
) -> None:
    # Professionals around Berlin, some at the very same spot (ties go by id), with calendars
    # from free to fully booked; more of them than one batch of candidates holds.
    draw = random.Random(11)
    spots = range(0, 12_000, 150)
    store = store_with([(draw.choice(spots), draw.choice(FATES)) for _ in range(140)])
    client = make_client()
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.clients.add(client)
        for professional in store.professionals.values():
            uow.professionals.add(professional)
        for booking in store.bookings.values():
            uow.bookings.add(replace(booking, client_id=client.id))
        uow.commit()
    free = FreeTime(span=WINDOW, duration=HOUR)

    for offset, limit in [(0, 20), (0, 1), (3, 7), (20, 20), (41, 9), (0, 100)]:
        criteria = SearchCriteria(
            category="plumbing", near=BERLIN, radius_km=10, limit=limit, offset=offset
        )
        page = catalogue.search_professionals(criteria, uow=uow, clock=CLOCK, free=free)
        in_memory = catalogue.search_professionals(
            criteria, uow=InMemoryUnitOfWork(store), clock=CLOCK, free=free
        )

        expected = every_free_candidate(uow, criteria, free, CLOCK.now())
        assert [(pro.id, distance) for pro, distance in page] == [
            (pro.id, distance) for pro, distance in expected
        ]
        assert [pro.id for pro, _ in in_memory] == [pro.id for pro, _ in page]
