"""Moving a booking to another start: one atomic change, checked like a new booking, keeping
the price, the payment and the agreed terms; who may move it, and until when."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from booking import catalogue, services
from booking.commands import CancelBooking, RecordPaymentSucceeded, RescheduleBooking
from booking.errors import (
    BookingNotActive,
    BookingStarted,
    ConcurrentUpdate,
    DurationChangeRefused,
    HoldExpired,
    InThePast,
    InvalidInput,
    Misaligned,
    OutsideAvailability,
    RescheduleDeadlinePassed,
    SlotUnavailable,
    TooFarAhead,
    TooManyReschedules,
    TooSoon,
)
from booking.events import BookingRescheduled
from booking.model import Booking, BookingPolicy, BookingStatus, CancellationReason, Party, TimeOff
from booking.receipts import BookingReceipt
from booking.rescheduling import ReschedulePolicy
from tests.factories import MONDAY, at
from tests.unit.conftest import World

TUESDAY = MONDAY + timedelta(days=1)
THURSDAY = MONDAY + timedelta(days=3)


def confirmed(world: World, hour: int = 10, *, days_ahead: int = 3) -> BookingReceipt:
    receipt = world.book(hour, days_ahead=days_ahead)
    services.record_payment_succeeded(
        RecordPaymentSucceeded(
            payment_intent_id=str(receipt.payment_intent_id),
            amount_received_cents=receipt.total_price_cents, currency=receipt.currency,
        ),
        uow=world.uow, clock=world.clock,
    )
    return receipt


def move(
    world: World,
    booking_id: object,
    start: datetime,
    *,
    by: Party = Party.CLIENT,
    duration: timedelta | None = None,
    policy: ReschedulePolicy | None = None,
) -> Booking:
    return services.reschedule_booking(
        RescheduleBooking(booking_id=booking_id, start=start, by=by, duration=duration),  # type: ignore[arg-type]
        uow=world.uow, clock=world.clock, policy=policy or ReschedulePolicy(),
    )


def moves_in_outbox(world: World) -> list[BookingRescheduled]:
    return [e for e in world.store.outbox if isinstance(e, BookingRescheduled)]


# -- the move itself ---------------------------------------------------------------------------


def test_a_confirmed_booking_moves_keeping_its_price_payment_and_terms(world: World) -> None:
    receipt = confirmed(world, 10)
    before = world.stored(receipt.booking_id)

    moved = move(world, receipt.booking_id, at(THURSDAY, 14))

    stored = world.stored(receipt.booking_id)
    assert (stored.start, stored.end) == (at(THURSDAY, 14), at(THURSDAY, 15))
    assert stored.status is BookingStatus.CONFIRMED
    assert stored.total_price_cents == before.total_price_cents
    assert stored.paid_cents == before.paid_cents == receipt.total_price_cents
    assert stored.payment_intent_id == before.payment_intent_id
    assert stored.terms == before.terms
    assert stored.created_at == before.created_at
    assert stored.reschedule_count == 1 and moved.reschedule_count == 1
    assert len(world.payments.intents) == 1  # no new charge
    assert stored.refund_due_cents == stored.refunded_cents == 0  # and no refund


def test_after_a_move_the_old_time_is_free_and_the_new_one_taken(world: World) -> None:
    receipt = confirmed(world, 10)
    move(world, receipt.booking_id, at(THURSDAY, 14))

    world.book(10, days_ahead=3)  # the old time
    with pytest.raises(SlotUnavailable):
        world.book(14, days_ahead=3)  # the new one


def test_a_booking_may_move_into_its_own_old_time(world: World) -> None:
    receipt = confirmed(world, 10)

    move(world, receipt.booking_id, at(THURSDAY, 10, 30))

    assert world.stored(receipt.booking_id).start == at(THURSDAY, 10, 30)


def test_a_move_onto_another_booking_is_refused_and_changes_nothing(world: World) -> None:
    receipt = confirmed(world, 10)
    confirmed(world, 14)

    with pytest.raises(SlotUnavailable):
        move(world, receipt.booking_id, at(THURSDAY, 14, 30))

    stored = world.stored(receipt.booking_id)
    assert stored.start == at(THURSDAY, 10) and stored.reschedule_count == 0
    assert moves_in_outbox(world) == []


def test_the_professionals_buffer_is_kept_clear_around_the_new_slot(world: World) -> None:
    world.professional.policy = BookingPolicy(
        minimum_notice=timedelta(0), buffer=timedelta(minutes=30)
    )
    catalogue.update_professional(
        world.professional.id, {"policy": world.professional.policy}, uow=world.uow
    )
    receipt = confirmed(world, 10)
    confirmed(world, 14)

    with pytest.raises(SlotUnavailable):
        move(world, receipt.booking_id, at(THURSDAY, 13))  # its buffer would reach 14:30

    moved = move(world, receipt.booking_id, at(THURSDAY, 12, 30))
    assert moved.blocked.end == at(THURSDAY, 14)


@pytest.mark.parametrize(
    ("start", "error"),
    [
        (at(THURSDAY, 7), OutsideAvailability),  # before the 09:00-17:00 window
        (at(THURSDAY, 16, 30), OutsideAvailability),  # would end after it
        (at(THURSDAY, 10, 10), Misaligned),  # off the 30-minute grid
        (at(MONDAY, 0) - timedelta(hours=1), InThePast),
        (MONDAY + timedelta(days=120), TooFarAhead),
    ],
)
def test_the_new_slot_is_checked_like_a_new_booking(
    world: World, start: datetime, error: type[Exception]
) -> None:
    receipt = confirmed(world, 10)

    with pytest.raises(error):
        move(world, receipt.booking_id, start, by=Party.PROFESSIONAL)

    assert world.stored(receipt.booking_id).start == at(THURSDAY, 10)


def test_the_new_slot_needs_the_professionals_notice(world: World) -> None:
    catalogue.update_professional(
        world.professional.id, {"policy": BookingPolicy(minimum_notice=timedelta(hours=2))},
        uow=world.uow,
    )
    receipt = confirmed(world, 10)

    with pytest.raises(TooSoon):
        move(world, receipt.booking_id, at(MONDAY, 1), by=Party.PROFESSIONAL)


def test_the_new_slot_may_not_fall_on_time_off(world: World) -> None:
    receipt = confirmed(world, 10)
    catalogue.set_time_off(
        world.professional.id, (TimeOff(first_day=date(2026, 6, 5), last_day=date(2026, 6, 5)),),
        uow=world.uow,
    )

    with pytest.raises(OutsideAvailability):
        move(world, receipt.booking_id, at(MONDAY + timedelta(days=4), 10))


def test_a_different_duration_is_refused_because_a_price_change_is_a_new_booking(
    world: World,
) -> None:
    receipt = confirmed(world, 10)

    with pytest.raises(DurationChangeRefused, match="a price change is a new booking"):
        move(world, receipt.booking_id, at(THURSDAY, 14), duration=timedelta(hours=2))

    assert world.stored(receipt.booking_id).start == at(THURSDAY, 10)


def test_the_same_duration_given_again_is_accepted(world: World) -> None:
    receipt = confirmed(world, 10)

    moved = move(world, receipt.booking_id, at(THURSDAY, 14), duration=timedelta(hours=1))

    assert moved.end - moved.start == timedelta(hours=1)


def test_moving_to_the_start_it_already_has_changes_nothing(world: World) -> None:
    receipt = confirmed(world, 10)

    again = move(world, receipt.booking_id, at(THURSDAY, 10))

    assert again.reschedule_count == 0 and moves_in_outbox(world) == []


def test_a_collision_with_a_payment_or_cancel_is_retried_on_fresh_data(world: World) -> None:
    receipt = confirmed(world, 10)
    world.uow.fail_next_commits(ConcurrentUpdate("changed meanwhile"))

    moved = move(world, receipt.booking_id, at(THURSDAY, 14))

    assert moved.start == at(THURSDAY, 14)
    assert len(moves_in_outbox(world)) == 1


# -- who may move it, and when -----------------------------------------------------------------


def test_a_pending_hold_moves_while_it_lasts_and_keeps_its_expiry(world: World) -> None:
    receipt = world.book(10, days_ahead=3)
    world.clock.advance(timedelta(minutes=10))

    moved = move(world, receipt.booking_id, at(THURSDAY, 14))

    assert moved.status is BookingStatus.PENDING
    assert moved.created_at == MONDAY  # the hold still ends 15 minutes after it was made
    world.clock.advance(timedelta(minutes=6))
    expired = services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    assert expired == [receipt.booking_id]


def test_a_hold_that_has_run_out_cannot_move_even_before_the_worker_ends_it(
    world: World,
) -> None:
    receipt = world.book(10, days_ahead=3)
    world.clock.advance(timedelta(minutes=15))

    with pytest.raises(HoldExpired):
        move(world, receipt.booking_id, at(THURSDAY, 14))


def test_a_cancelled_booking_cannot_move_and_the_answer_says_why(world: World) -> None:
    receipt = confirmed(world, 10)
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow, payments=world.payments, clock=world.clock,
    )

    with pytest.raises(BookingNotActive, match=r"cancelled \(client\)"):
        move(world, receipt.booking_id, at(THURSDAY, 14), by=Party.ADMIN)


def test_an_expired_hold_cannot_move(world: World) -> None:
    receipt = world.book(10, days_ahead=3)
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)

    with pytest.raises(BookingNotActive, match="hold_expired"):
        move(world, receipt.booking_id, at(THURSDAY, 14))


def test_a_booking_that_has_started_cannot_move_even_by_the_professional(world: World) -> None:
    receipt = confirmed(world, 10, days_ahead=0)
    world.clock.advance(timedelta(hours=10))

    with pytest.raises(BookingStarted):
        move(world, receipt.booking_id, at(THURSDAY, 14), by=Party.PROFESSIONAL)


def test_a_client_moves_a_confirmed_booking_only_until_the_free_cancellation_limit(
    world: World,
) -> None:
    receipt = confirmed(world, 10)  # Thursday 10:00; free cancellation until Wednesday 10:00
    world.clock.current = at(THURSDAY, 10) - timedelta(hours=24)
    move(world, receipt.booking_id, at(THURSDAY, 11))  # exactly 24 hours before: still free

    world.clock.current = at(THURSDAY, 11) - timedelta(hours=24) + timedelta(minutes=1)
    with pytest.raises(RescheduleDeadlinePassed, match="until 1 day before it starts"):
        move(world, receipt.booking_id, at(THURSDAY, 14))


@pytest.mark.parametrize("by", [Party.PROFESSIONAL, Party.ADMIN])
def test_the_professional_and_admins_move_a_confirmed_booking_at_any_time_before_it(
    world: World, by: Party
) -> None:
    receipt = confirmed(world, 10)
    world.clock.current = at(THURSDAY, 9)

    moved = move(world, receipt.booking_id, at(THURSDAY, 14), by=by)

    assert moved.start == at(THURSDAY, 14)


def test_the_client_deadline_is_the_one_agreed_at_the_hold(world: World) -> None:
    receipt = confirmed(world, 10)
    catalogue.update_professional(
        world.professional.id,
        {"policy": BookingPolicy(minimum_notice=timedelta(0), free_cancellation=timedelta(0))},
        uow=world.uow,
    )
    world.clock.current = at(THURSDAY, 9)

    with pytest.raises(RescheduleDeadlinePassed):
        move(world, receipt.booking_id, at(THURSDAY, 14))


def test_moves_are_unlimited_by_default(world: World) -> None:
    receipt = confirmed(world, 10)

    for hour in (11, 12, 13, 14, 15):
        move(world, receipt.booking_id, at(THURSDAY, hour))

    assert world.stored(receipt.booking_id).reschedule_count == 5


def test_a_policy_caps_the_moves_of_one_booking(world: World) -> None:
    receipt = confirmed(world, 10)
    once = ReschedulePolicy(max_per_booking=1)
    move(world, receipt.booking_id, at(THURSDAY, 11), policy=once)

    with pytest.raises(TooManyReschedules, match="the most allowed is 1"):
        move(world, receipt.booking_id, at(THURSDAY, 12), policy=once)


@pytest.mark.parametrize("cap", [-1, 1001, True, 2.0])
def test_a_reschedule_cap_must_be_a_sensible_whole_number(cap: object) -> None:
    with pytest.raises(InvalidInput):
        ReschedulePolicy(max_per_booking=cap)  # type: ignore[arg-type]


# -- what it records -----------------------------------------------------------------------------


def test_a_move_records_the_old_and_the_new_time_and_raises_the_calendar_sequence(
    world: World,
) -> None:
    receipt = confirmed(world, 10)

    move(world, receipt.booking_id, at(THURSDAY, 14), by=Party.PROFESSIONAL)
    move(world, receipt.booking_id, at(THURSDAY, 15), by=Party.PROFESSIONAL)

    first, second = moves_in_outbox(world)
    assert (first.previous_start, first.previous_end) == (at(THURSDAY, 10), at(THURSDAY, 11))
    assert (first.start, first.end) == (at(THURSDAY, 14), at(THURSDAY, 15))
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.was_confirmed and first.by == "professional"
    assert second.previous_start == at(THURSDAY, 14)
    assert world.stored(receipt.booking_id).calendar_sequence == 2


# -- the payment after a move ------------------------------------------------------------------


def test_a_moved_hold_is_paid_through_its_own_intent_and_confirmed_at_its_new_time(
    world: World,
) -> None:
    receipt = world.book(10, days_ahead=3)
    move(world, receipt.booking_id, at(THURSDAY, 14))

    services.record_payment_succeeded(
        RecordPaymentSucceeded(
            payment_intent_id=str(receipt.payment_intent_id),
            amount_received_cents=receipt.total_price_cents, currency=receipt.currency,
        ),
        uow=world.uow, clock=world.clock,
    )

    stored = world.stored(receipt.booking_id)
    assert stored.status is BookingStatus.CONFIRMED and stored.start == at(THURSDAY, 14)
    assert stored.paid_cents == receipt.total_price_cents


def test_a_later_cancellation_is_refunded_under_the_agreed_terms_from_the_new_start(
    world: World,
) -> None:
    receipt = confirmed(world, 10, days_ahead=0)  # Monday 10:00: a late cancel would get 50 %
    move(world, receipt.booking_id, at(THURSDAY, 10), by=Party.PROFESSIONAL)

    cancelled = services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow, payments=world.payments, clock=world.clock,
    )

    assert cancelled.refund_due_cents == receipt.total_price_cents  # three days ahead: in full


def test_a_moved_booking_blocks_the_professionals_current_buffer(world: World) -> None:
    receipt = confirmed(world, 10)  # booked without a buffer
    catalogue.update_professional(
        world.professional.id,
        {"policy": BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=30))},
        uow=world.uow,
    )

    moved = move(world, receipt.booking_id, at(THURSDAY, 14))

    assert moved.blocked.end == at(THURSDAY, 15, 30)
