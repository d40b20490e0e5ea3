"""Holds racing for one client's caps: however they interleave, a client never ends up with
more unpaid holds than allowed (3 in all, 1 per professional), on PostgreSQL (a lock per
client, taken after the calendar's) as on SQLite (BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import sqlalchemy as sa

from adapters.sql.tables import bookings
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import catalogue
from booking.holds import HoldLimits
from tests.factories import MONDAY, FixedClock, at, make_professional
from tests.integration.support import all_at_once, attempt, register, request

HOUR = timedelta(hours=1)
DEFAULTS = HoldLimits()


def pending_of(engine: sa.Engine, client_id: object) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(
                bookings.c.client_id == client_id, bookings.c.status == "pending"
            )
        ).scalar_one()


def test_eight_racing_holds_with_eight_professionals_leave_exactly_three(
    engine: sa.Engine,
) -> None:
    clock = FixedClock()
    first, client = register(engine)
    others = [
        catalogue.register_professional(make_professional(), uow=SqlUnitOfWork(engine))
        for _ in range(7)
    ]
    commands = [request(pro, client, at(MONDAY, 10), HOUR) for pro in [first, *others]]

    outcomes = all_at_once(
        [partial(attempt, engine, cmd, clock=clock, limits=DEFAULTS) for cmd in commands]
    )

    assert outcomes.count("ok") == 3
    assert outcomes.count("too_many_holds") == 5
    assert pending_of(engine, client.id) == 3


def test_six_racing_holds_with_one_professional_at_different_times_leave_one(
    engine: sa.Engine,
) -> None:
    clock = FixedClock()
    professional, client = register(engine)
    commands = [request(professional, client, at(MONDAY, hour), HOUR) for hour in range(9, 15)]

    outcomes = all_at_once(
        [partial(attempt, engine, cmd, clock=clock, limits=DEFAULTS) for cmd in commands]
    )

    assert outcomes.count("ok") == 1
    assert outcomes.count("too_many_holds") == 5
    assert pending_of(engine, client.id) == 1


def test_the_cap_check_reads_at_most_the_cap_of_a_clients_holds(engine: sa.Engine) -> None:
    # However many holds a client has (here more than a later, lower cap allows), the check
    # reads no more of them than the cap: its cost is bounded by the setting, not the client.
    clock = FixedClock()
    professional, client = register(engine)
    for hour in range(9, 15):
        cmd = request(professional, client, at(MONDAY, hour), HOUR)
        assert attempt(engine, cmd, clock=clock) == "ok"  # uncapped

    with SqlUnitOfWork(engine) as uow:
        read = uow.bookings.lock_client_holds(client.id, 2)

    assert pending_of(engine, client.id) == 6
    assert len(read) == 2
    refused = request(professional, client, at(MONDAY, 15), HOUR)
    limits = HoldLimits(per_client=2, per_client_and_professional=2)
    assert attempt(engine, refused, clock=clock, limits=limits) == "too_many_holds"
