"""The job of a cancelled hold's outbox row also releases its payment: it cancels the intent, or
refunds a payment whose success webhook never came; while the provider is down the job fails, so
it is retried, and a retry has no second effect."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa

from adapters.jobs import tasks
from adapters.sql.tables import outbox
from booking import services
from booking.errors import PaymentUnavailable
from tests.integration.jobs.conftest import World


def cancellation_row(engine: sa.Engine, booking_id: UUID) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(outbox.c.id).where(
                    outbox.c.event_type == "BookingCancelled",
                    outbox.c.payload.contains(str(booking_id)),
                )
            ).scalar_one()
        )


def expire_while_the_provider_is_down(world: World) -> None:
    world.clock.advance(timedelta(minutes=16))
    world.payments.unavailable = True
    services.expire_holds(uow=world.uow(), payments=world.payments, clock=world.clock)


def test_the_job_of_an_expired_hold_refunds_a_payment_whose_webhook_was_lost(
    world: World,
) -> None:
    receipt = world.book()
    world.payments.succeed(str(receipt.payment_intent_id))  # paid; the webhook never comes
    expire_while_the_provider_is_down(world)
    row = cancellation_row(world.engine, receipt.booking_id)
    with pytest.raises(PaymentUnavailable):
        tasks.send_notifications(world.context, row)

    world.payments.unavailable = False
    tasks.send_notifications(world.context, row)  # the retry
    tasks.send_notifications(world.context, row)  # run once more, by a duplicate enqueue

    booking = services.get_booking(receipt.booking_id, uow=world.uow())
    assert (booking.refund_due_cents, booking.refunded_cents) == (6000, 6000)
    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]
    assert world.recipients() == ["cleo@example.com"]  # "paid too late, refunded", once


def test_the_job_of_an_expired_hold_cancels_its_unpaid_intent(world: World) -> None:
    receipt = world.book()
    expire_while_the_provider_is_down(world)
    world.payments.unavailable = False

    tasks.send_notifications(world.context, cancellation_row(world.engine, receipt.booking_id))

    assert world.payments.intents[str(receipt.payment_intent_id)].status == "canceled"
    assert world.payments.refunds == []
