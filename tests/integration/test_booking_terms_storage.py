"""Bookings store the cancellation terms of their hold and what their payment took in, on both
engines and through the direct PostgreSQL insert; 0008 backfills existing rows; stray payments
and disputes are stored and listed for an operator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa

from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.tables import bookings, clients, professionals
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import catalogue, services
from booking.commands import CancelBooking, RecordPaymentSucceeded
from booking.incidents import IncidentKind, PaymentIncident
from booking.model import BookingPolicy, CancellationReason, CancellationTerms
from tests.factories import MONDAY, FixedClock, at
from tests.integration.cli.support import environment, hourbook, sqlite_in
from tests.integration.support import register, request

HARSH = BookingPolicy(
    minimum_notice=timedelta(0), maximum_advance=timedelta(days=730),
    free_cancellation=timedelta(days=730), late_cancellation_refund_percent=0,
)


def test_a_paid_booking_keeps_its_terms_in_storage_when_the_policy_changes(
    engine: sa.Engine,
) -> None:
    professional, client = register(engine)
    clock, payments = FixedClock(), InMemoryPayments()
    receipt = services.create_booking(
        request(professional, client, at(MONDAY, 10) + timedelta(days=3), timedelta(hours=1)),
        uow=SqlUnitOfWork(engine), payments=payments,
        idempotency=InMemoryIdempotencyStore(clock), clock=clock,
    )
    payments.succeed(str(receipt.payment_intent_id))
    services.record_payment_succeeded(
        RecordPaymentSucceeded(payment_intent_id=str(receipt.payment_intent_id),
                               amount_received_cents=6000, currency="usd"),
        uow=SqlUnitOfWork(engine), clock=clock,
    )
    catalogue.update_professional(professional.id, {"policy": HARSH}, uow=SqlUnitOfWork(engine))

    stored = services.get_booking(receipt.booking_id, uow=SqlUnitOfWork(engine))
    cancelled = services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=SqlUnitOfWork(engine), payments=payments, clock=clock,
    )

    assert stored.terms == CancellationTerms(
        free_cancellation=timedelta(hours=24), late_refund_percent=50
    )
    assert stored.paid_cents == 6000
    assert (cancelled.refund_due_cents, cancelled.refunded_cents) == (6000, 6000)


def test_0008_gives_existing_bookings_their_professionals_terms_and_what_they_paid(
    bare_engine: sa.Engine,
) -> None:
    migrate.upgrade(bare_engine, "0004")
    pro_id, client_id = uuid4(), uuid4()
    kinds = {  # status, refund owed, refunded -> paid after the upgrade
        "confirmed": ("confirmed", 0, 0, 6000),
        "late_cancelled": ("cancelled", 3000, 3000, 6000),
        "pending": ("pending", 0, 0, 0),
        "expired": ("cancelled", 0, 0, 0),
    }
    ids = {name: uuid4() for name in kinds}
    with bare_engine.begin() as connection:
        connection.execute(sa.insert(professionals).values(old_professional(pro_id)))
        connection.execute(sa.insert(clients).values(
            id=client_id, name="Old Client", email="old@example.com", phone="",
            created_at=MONDAY, updated_at=MONDAY,
        ))
        for position, (name, (status, due, refunded, _)) in enumerate(kinds.items()):
            start = at(MONDAY, 9 + 2 * position)
            connection.execute(sa.insert(bookings).values(
                id=ids[name], professional_id=pro_id, client_id=client_id,
                start_time=start, end_time=start + timedelta(hours=1),
                blocked_until=start + timedelta(hours=1), buffer_minutes=0,
                total_price_cents=6000, currency="usd", status=status,
                cancellation_reason=None if status != "cancelled" else "client",
                payment_intent_id=f"pi_{name}", refund_due_cents=due, refunded_cents=refunded,
                idempotency_key=None, version=1, created_at=MONDAY, updated_at=MONDAY,
            ))

    migrate.upgrade(bare_engine)

    with bare_engine.connect() as connection:
        found = {
            row.id: row for row in connection.execute(sa.select(
                bookings.c.id, bookings.c.free_cancellation_minutes,
                bookings.c.late_cancellation_refund_percent, bookings.c.paid_cents,
            ))
        }
    for name, (*_, paid) in kinds.items():
        assert (found[ids[name]].free_cancellation_minutes,
                found[ids[name]].late_cancellation_refund_percent,
                found[ids[name]].paid_cents) == (120, 25, paid), name


def test_incidents_are_stored_owed_and_listed_newest_first(engine: sa.Engine) -> None:
    clock = FixedClock()
    stray = PaymentIncident.stray_payment(
        kind=IncidentKind.WRONG_AMOUNT, payment_intent_id="pi_1", booking_id=uuid4(),
        amount_cents=100, currency="usd", detail="expected 6000 usd through pi_1",
        now=clock.now(),
    )
    dispute = PaymentIncident.dispute(
        dispute_id="du_1", payment_intent_id="pi_2", booking_id=None, amount_cents=6000,
        currency="usd", detail="needs_response", now=clock.now() + timedelta(minutes=1),
    )
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.incidents.add(stray)
        uow.incidents.add(dispute)
        uow.commit()

    with uow:
        owed = uow.incidents.refunds_owed(10)
        latest = [incident.reference for incident in uow.incidents.latest(10)]
        by_intent = uow.incidents.get_by_payment_intent("pi_2")  # a dispute is no stray

    assert owed == ["pi_1"]
    assert latest == ["du_1", "pi_1"]
    assert by_intent is None


def test_an_operator_lists_the_payment_incidents(tmp_path: Path) -> None:
    env = environment(tmp_path, DATABASE_URL=sqlite_in(tmp_path),
                      HOURBOOK_SECRET_KEY="cli-secret-" * 4)
    engine = make_engine(sqlite_in(tmp_path))
    migrate.upgrade(engine)
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.incidents.add(PaymentIncident.stray_payment(
            kind=IncidentKind.FOREIGN_INTENT, payment_intent_id="pi_foreign",
            booking_id=uuid4(), amount_cents=6000, currency="usd",
            detail="expected 6000 usd through pi_own", now=MONDAY,
        ))
        uow.commit()
    engine.dispose()

    listed = hourbook("payment-incidents", env=env, cwd=tmp_path)

    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert "foreign_intent\tpi_foreign\tpi_foreign" in line
    assert "6000 usd\trefunded 0/6000\texpected 6000 usd through pi_own" in line


def old_professional(pro_id: object) -> dict[str, object]:
    """A ``professionals`` row as revision 0004 has it: free cancellation 2 h, 25 % late."""
    minutes = {"granularity": 30, "minimum_notice": 0, "maximum_advance": 90 * 24 * 60,
               "minimum_duration": 60, "maximum_duration": 480, "buffer": 0,
               "travel_time": 30, "free_cancellation": 120}
    return {
        "id": pro_id, "name": "Old Pro", "email": "old@example.com", "category": "plumbing",
        "hourly_rate_cents": 6000, "currency": "usd", "travel_mode": "local",
        "travel_fee_cents": 0, "time_zone": "UTC", "location_lat": 52.5, "location_lng": 13.4,
        "late_cancellation_refund_percent": 25, "version": 1,
        "created_at": MONDAY, "updated_at": MONDAY,
        **{f"{name}_minutes": value for name, value in minutes.items()},
    }
