"""The Booking aggregate's life: pending → confirmed | cancelled, and nothing else."""

from datetime import timedelta
from uuid import uuid4

import pytest

from booking.errors import IllegalTransition, InvalidInput
from booking.events import BookingCancelled, BookingConfirmed, RefundIssued
from booking.model import Booking, BookingStatus, CancellationReason
from booking.slot import Slot
from tests.factories import MONDAY, at


def pending_booking() -> Booking:
    return Booking(
        id=uuid4(),
        professional_id=uuid4(),
        client_id=uuid4(),
        slot=Slot.starting(at(MONDAY, 10), timedelta(hours=1)),
        buffer=timedelta(0),
        total_price_cents=6000,
        currency="usd",
        created_at=MONDAY,
        updated_at=MONDAY,
    )


def test_confirming_a_pending_booking_records_the_confirmation() -> None:
    booking = pending_booking()

    booking.confirm(MONDAY)

    assert booking.status is BookingStatus.CONFIRMED
    assert [type(e) for e in booking.events] == [BookingConfirmed]


def test_cancelling_records_the_reason_and_whether_it_had_been_confirmed() -> None:
    booking = pending_booking()
    booking.attach_payment("pi_1", MONDAY)
    booking.confirm(MONDAY)

    booking.cancel(CancellationReason.CLIENT, MONDAY, refund_cents=3000)

    assert booking.status is BookingStatus.CANCELLED
    assert booking.cancellation_reason is CancellationReason.CLIENT
    cancelled = booking.events[-1]
    assert isinstance(cancelled, BookingCancelled)
    assert cancelled.was_confirmed
    assert booking.refund_outstanding_cents == 3000


@pytest.mark.parametrize("final", ["confirm", "cancel"])
def test_a_cancelled_booking_can_be_neither_confirmed_nor_cancelled_again(final: str) -> None:
    booking = pending_booking()
    booking.cancel(CancellationReason.HOLD_EXPIRED, MONDAY)

    with pytest.raises(IllegalTransition):
        if final == "confirm":
            booking.confirm(MONDAY)
        else:
            booking.cancel(CancellationReason.CLIENT, MONDAY)
    assert booking.cancellation_reason is CancellationReason.HOLD_EXPIRED


def test_a_confirmed_booking_cannot_be_confirmed_twice() -> None:
    booking = pending_booking()
    booking.confirm(MONDAY)

    with pytest.raises(IllegalTransition):
        booking.confirm(MONDAY)


def test_a_booking_cannot_be_paid_through_two_different_intents() -> None:
    booking = pending_booking()
    booking.attach_payment("pi_1", MONDAY)

    with pytest.raises(IllegalTransition):
        booking.attach_payment("pi_2", MONDAY)


def test_refunds_never_exceed_what_is_owed_or_the_price() -> None:
    booking = pending_booking()
    booking.attach_payment("pi_1", MONDAY)
    booking.confirm(MONDAY)
    booking.cancel(CancellationReason.PROFESSIONAL, MONDAY, refund_cents=6000)

    booking.record_refund(4000, MONDAY)
    with pytest.raises(IllegalTransition):
        booking.record_refund(2001, MONDAY)
    booking.record_refund(2000, MONDAY)

    assert booking.refunded_cents == 6000
    assert [type(e) for e in booking.events][-2:] == [RefundIssued, RefundIssued]
    with pytest.raises(IllegalTransition):
        booking.owe_refund(6001)


def test_a_refund_needs_a_payment() -> None:
    booking = pending_booking()

    with pytest.raises(IllegalTransition):
        booking.cancel(CancellationReason.CLIENT, MONDAY, refund_cents=100)
    with pytest.raises(InvalidInput):
        booking.record_refund(0, MONDAY)
    assert booking.status is BookingStatus.PENDING


def test_the_blocked_time_is_the_slot_plus_its_buffer() -> None:
    booking = pending_booking()
    booking.buffer = timedelta(minutes=30)

    assert booking.blocked == Slot(at(MONDAY, 10), at(MONDAY, 11, 30))
