"""The SQL unit of work: atomic, rolled back unless committed, outbox written in the same commit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments
from adapters.sql.engine import make_engine
from adapters.sql.tables import outbox
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.errors import ConcurrentUpdate, StorageUnavailable
from booking.model import BookingStatus, CancellationReason
from booking.receipts import BookingReceipt
from tests.factories import MONDAY, FixedClock, at, make_client, make_professional
from tests.integration.support import count_rows, register, request

CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def book(engine: sa.Engine, hour: int = 10) -> BookingReceipt:
    clock = FixedClock()
    professional, client = register(engine)
    return services.create_booking(
        request(professional, client, at(MONDAY, hour), timedelta(hours=1)),
        uow=SqlUnitOfWork(engine),
        payments=InMemoryPayments(),
        idempotency=InMemoryIdempotencyStore(clock),
        clock=clock,
    )


def test_leaving_the_unit_of_work_without_commit_rolls_back(engine: sa.Engine) -> None:
    client = make_client()
    uow = SqlUnitOfWork(engine)

    with uow:
        uow.clients.add(client)

    with uow:
        assert uow.clients.get(client.id) is None
    assert not uow.committed


def test_an_error_inside_the_unit_of_work_rolls_back(engine: sa.Engine) -> None:
    client = make_client()
    uow = SqlUnitOfWork(engine)

    with pytest.raises(RuntimeError), uow:
        uow.clients.add(client)
        raise RuntimeError("handler failed")

    with uow:
        assert uow.clients.get(client.id) is None


def test_commit_writes_the_events_to_the_outbox_in_the_same_transaction(engine: sa.Engine) -> None:
    receipt = book(engine)

    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox)).mappings().all()

    assert [row["event_type"] for row in rows] == ["BookingRequested"]
    payload = json.loads(rows[0]["payload"])
    assert payload["booking_id"] == str(receipt.booking_id)
    assert payload["start"] == at(MONDAY, 10).isoformat()
    assert rows[0]["dispatched_at"] is None


def test_a_rolled_back_change_leaves_no_outbox_rows(engine: sa.Engine) -> None:
    receipt = book(engine)
    outbox_before = count_rows(engine, outbox)
    uow = SqlUnitOfWork(engine)

    with uow:
        booking = uow.bookings.get(receipt.booking_id)
        assert booking is not None
        booking.cancel(CancellationReason.CLIENT, MONDAY)
        uow.bookings.update(booking)

    assert count_rows(engine, outbox) == outbox_before
    with uow:
        stored = uow.bookings.get(receipt.booking_id)
    assert stored is not None and stored.status is BookingStatus.PENDING


def test_the_second_of_two_concurrent_updates_gets_concurrent_update(engine: sa.Engine) -> None:
    receipt = book(engine)
    first, second = SqlUnitOfWork(engine), SqlUnitOfWork(engine)
    with first:
        mine = first.bookings.get(receipt.booking_id)
    with second:
        theirs = second.bookings.get(receipt.booking_id)
    assert mine is not None and theirs is not None

    with first:
        mine.confirm(MONDAY)
        first.bookings.update(mine)
        first.commit()
    with second, pytest.raises(ConcurrentUpdate):
        theirs.cancel(CancellationReason.CLIENT, MONDAY)
        second.bookings.update(theirs)

    with first:
        stored = first.bookings.get(receipt.booking_id)
    assert stored is not None
    assert stored.status is BookingStatus.CONFIRMED
    assert stored.version == mine.version == 3  # added, payment attached, confirmed


def test_a_database_that_cannot_be_reached_is_storage_unavailable_and_frees_the_key() -> None:
    clock = FixedClock()
    idempotency = InMemoryIdempotencyStore(clock)
    engine = make_engine(CLOSED_PORT_URL)
    cmd = request(make_professional(), make_client(), at(MONDAY, 10), timedelta(hours=1))

    with pytest.raises(StorageUnavailable):
        services.create_booking(
            cmd, uow=SqlUnitOfWork(engine), payments=InMemoryPayments(),
            idempotency=idempotency, clock=clock,
        )

    assert idempotency.claim(f"client:{cmd.client_id}", cmd.idempotency_key, "x") is None
    engine.dispose()
