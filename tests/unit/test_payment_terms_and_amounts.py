"""Money is exact: the terms a client agreed to stand, only the booking's own payment for its
price confirms it, and no report of a payment makes us owe or keep the wrong amount."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from adapters.payments.stripe_events import Outcome, apply_event
from adapters.payments.stripe_gateway import StripeEvent
from adapters.payments.webhook_inbox import InMemoryWebhookInbox
from booking import catalogue, services
from booking.commands import CancelBooking, RecordPaymentSucceeded
from booking.errors import PaymentNotAccepted
from booking.incidents import IncidentKind
from booking.model import BookingPolicy, BookingStatus, CancellationReason, CancellationTerms
from tests.unit.conftest import World


def event(
    kind: str,
    intent_id: str,
    *,
    amount: int | None = 6000,
    currency: str | None = "usd",
    booking_id: UUID | None = None,
    refunded: int | None = None,
    object_id: str | None = None,
    status: str | None = None,
) -> StripeEvent:
    return StripeEvent(
        id=f"evt_{uuid4().hex}", type=kind, created=0, object_id=object_id or intent_id,
        payment_intent_id=intent_id, booking_id=booking_id, amount=amount,
        amount_refunded=refunded, amount_received=amount, currency=currency, status=status,
    )


def deliver(world: World, inbox: InMemoryWebhookInbox, stripe_event: StripeEvent) -> Outcome:
    return apply_event(stripe_event, inbox=inbox, clock=world.clock)


@pytest.fixture
def inbox(world: World) -> InMemoryWebhookInbox:
    return InMemoryWebhookInbox(world.store)


def paid_booking(world: World, inbox: InMemoryWebhookInbox, **kwargs: object) -> UUID:
    receipt = world.book(10, **kwargs)  # type: ignore[arg-type]
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent)
    assert deliver(world, inbox, event("payment_intent.succeeded", intent)) is Outcome.APPLIED
    assert world.stored(receipt.booking_id).status is BookingStatus.CONFIRMED
    return receipt.booking_id


def harsh_policy(world: World) -> None:
    """The professional, after being paid, makes cancelling worthless."""
    catalogue.update_professional(
        world.professional.id,
        {"policy": BookingPolicy(
            minimum_notice=timedelta(0), maximum_advance=timedelta(days=730),
            free_cancellation=timedelta(days=730), late_cancellation_refund_percent=0,
        )},
        uow=world.uow,
    )  # fmt: skip


def client_cancels(world: World, booking_id: UUID) -> None:
    services.cancel_booking(
        CancelBooking(booking_id=booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow, payments=world.payments, clock=world.clock,
    )


# -- point 7: the terms agreed at the hold ----------------------------------------------------


def test_a_booking_keeps_the_cancellation_terms_of_its_hold(world: World) -> None:
    receipt = world.book(10)

    assert world.stored(receipt.booking_id).terms == CancellationTerms(
        free_cancellation=timedelta(hours=24), late_refund_percent=50
    )


def test_a_policy_change_after_payment_does_not_cut_an_early_cancellers_refund(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    booking_id = paid_booking(world, inbox, days_ahead=3)  # cancelled 3 days ahead: free
    harsh_policy(world)

    client_cancels(world, booking_id)

    booking = world.stored(booking_id)
    assert (booking.refund_due_cents, booking.refunded_cents) == (6000, 6000)
    assert world.payments.refunds == [(booking.payment_intent_id, 6000)]


def test_a_policy_change_after_payment_does_not_cut_a_late_cancellers_share(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    booking_id = paid_booking(world, inbox)  # starts in 10 hours: a late cancellation
    harsh_policy(world)

    client_cancels(world, booking_id)

    assert world.stored(booking_id).refunded_cents == 3000  # 50 %, as agreed


def test_a_booking_held_after_a_policy_change_is_under_the_new_terms(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    harsh_policy(world)
    booking_id = paid_booking(world, inbox, days_ahead=3)

    client_cancels(world, booking_id)

    booking = world.stored(booking_id)
    assert booking.terms.late_refund_percent == 0
    assert booking.refund_due_cents == 0


# -- point 8: only the booking's own intent, for its price, confirms it ---------------------


@pytest.mark.parametrize(
    ("amount", "currency"), [(100, "usd"), (5999, "usd"), (6000, "eur"), (6001, "usd")]
)
def test_a_success_for_another_amount_or_currency_confirms_nothing_and_is_refunded(
    world: World, inbox: InMemoryWebhookInbox, amount: int, currency: str
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent, amount_cents=amount, currency=currency)

    outcome = deliver(world, inbox, event("payment_intent.succeeded", intent, amount=amount,
                                          currency=currency))

    assert outcome is Outcome.MISMATCH
    booking = world.stored(receipt.booking_id)
    assert (booking.status, booking.paid_cents, booking.refund_due_cents) == (
        BookingStatus.PENDING, 0, 0)
    [incident] = world.store.incidents.values()
    assert (incident.kind, incident.amount_cents, incident.currency) == (
        IncidentKind.WRONG_AMOUNT, amount, currency)
    world.run_worker()
    assert world.payments.refunds == [(intent, amount)]
    assert world.store.incidents[intent].refunded_cents == amount


def test_an_intent_the_booking_did_not_open_is_not_attached_and_is_refunded(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    foreign = world.payments.add_foreign_intent(receipt.booking_id, 6000, "usd")
    world.payments.succeed(foreign)

    outcome = deliver(world, inbox, event("payment_intent.succeeded", foreign,
                                          booking_id=receipt.booking_id))

    assert outcome is Outcome.MISMATCH
    booking = world.stored(receipt.booking_id)
    assert (booking.status, booking.payment_intent_id) == (
        BookingStatus.PENDING, receipt.payment_intent_id)
    assert world.store.incidents[foreign].kind is IncidentKind.FOREIGN_INTENT
    world.run_worker()
    assert world.payments.refunds == [(foreign, 6000)]


def test_a_success_naming_a_booking_with_no_intent_yet_does_not_confirm_it(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    world.store.bookings[receipt.booking_id].payment_intent_id = None  # the attach never came
    foreign = world.payments.add_foreign_intent(receipt.booking_id, 6000, "usd")
    world.payments.succeed(foreign)

    outcome = deliver(world, inbox, event("payment_intent.succeeded", foreign,
                                          booking_id=receipt.booking_id))

    assert outcome is Outcome.MISMATCH
    booking = world.stored(receipt.booking_id)
    assert (booking.status, booking.payment_intent_id) == (BookingStatus.PENDING, None)


def test_a_stray_payment_reported_again_is_recorded_and_refunded_once(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent, amount_cents=100)

    outcomes = [deliver(world, inbox, event("payment_intent.succeeded", intent, amount=100))
                for _ in range(2)]
    world.run_worker()
    world.run_worker()

    assert outcomes == [Outcome.MISMATCH, Outcome.MISMATCH]
    assert len(world.store.incidents) == 1
    assert world.payments.refunds == [(intent, 100)]


def test_a_right_amount_reported_after_a_wrong_one_for_the_same_intent_confirms_nothing(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    deliver(world, inbox, event("payment_intent.succeeded", intent, amount=100))

    outcome = deliver(world, inbox, event("payment_intent.succeeded", intent, amount=6000))

    assert outcome is Outcome.MISMATCH
    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING


def test_a_decline_of_an_intent_the_booking_did_not_open_leaves_the_hold(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)

    outcome = deliver(world, inbox, event("payment_intent.payment_failed", "pi_someone_else",
                                          booking_id=receipt.booking_id))

    assert outcome is Outcome.UNKNOWN_PAYMENT
    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING


def test_the_refund_of_a_stray_payment_is_not_counted_on_the_booking(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    deliver(world, inbox, event("payment_intent.succeeded", intent, amount=100))

    deliver(world, inbox, event("charge.refunded", intent, amount=100, refunded=100,
                                object_id="ch_1"))

    booking = world.stored(receipt.booking_id)
    assert (booking.refunded_cents, booking.refund_due_cents) == (0, 0)
    assert world.store.incidents[intent].refunded_cents == 100
    world.run_worker()
    assert world.payments.refunds == []  # the provider said it was all given back already


def test_a_success_without_its_amount_is_rejected_and_confirms_nothing(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)

    outcome = deliver(world, inbox, event("payment_intent.succeeded",
                                          str(receipt.payment_intent_id), amount=None))

    assert outcome is Outcome.REJECTED
    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING


def test_the_service_refuses_a_wrong_amount_with_its_own_error(world: World) -> None:
    receipt = world.book(10)

    with pytest.raises(PaymentNotAccepted):
        services.record_payment_succeeded(
            RecordPaymentSucceeded(payment_intent_id=str(receipt.payment_intent_id),
                                   amount_received_cents=1, currency="usd"),
            uow=world.uow, clock=world.clock,
        )


# -- point 9: refund edge cases ------------------------------------------------------------


def test_a_second_success_after_a_late_cancellation_owes_nothing_more(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    booking_id = paid_booking(world, inbox)
    client_cancels(world, booking_id)  # late: half back
    intent = str(world.stored(booking_id).payment_intent_id)

    outcome = deliver(world, inbox, event("payment_intent.succeeded", intent))
    world.run_worker()

    assert outcome is Outcome.NO_CHANGE  # paid before: the report takes nothing more
    booking = world.stored(booking_id)
    assert (booking.refund_due_cents, booking.refunded_cents) == (3000, 3000)
    assert world.payments.refunds == [(intent, 3000)]


def test_a_success_reported_after_a_full_refund_does_not_confirm(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent)
    deliver(world, inbox, event("charge.refunded", intent, refunded=6000, object_id="ch_1"))

    outcome = deliver(world, inbox, event("payment_intent.succeeded", intent))
    world.run_worker()

    assert outcome is Outcome.APPLIED
    booking = world.stored(receipt.booking_id)
    assert booking.status is not BookingStatus.CONFIRMED
    assert (booking.paid_cents, booking.refund_due_cents, booking.refunded_cents) == (
        6000, 6000, 6000)
    assert world.payments.refunds == []  # all of it went back already
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    assert world.stored(receipt.booking_id).status is BookingStatus.CANCELLED


def test_a_success_after_a_partial_refund_does_not_confirm_and_the_rest_goes_back(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent)
    world.payments.intents[intent].refunded_cents = 2000  # refunded in the dashboard
    deliver(world, inbox, event("charge.refunded", intent, refunded=2000, object_id="ch_1"))

    deliver(world, inbox, event("payment_intent.succeeded", intent))
    world.run_worker()

    booking = world.stored(receipt.booking_id)
    assert booking.status is BookingStatus.PENDING
    assert (booking.refund_due_cents, booking.refunded_cents) == (6000, 6000)
    assert world.payments.intents[intent].refunded_cents == 6000


def test_a_late_success_for_an_expired_hold_is_owed_back_once(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    world.payments.intents[intent].status = "requires_payment_method"  # paid anyway
    world.payments.succeed(intent)

    for _ in range(2):
        deliver(world, inbox, event("payment_intent.succeeded", intent))
    world.run_worker()

    booking = world.stored(receipt.booking_id)
    assert (booking.paid_cents, booking.refund_due_cents, booking.refunded_cents) == (
        6000, 6000, 6000)
    assert world.payments.refunds == [(intent, 6000)]


def test_a_dispute_is_recorded_once_and_follows_its_status_without_a_refund(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    booking_id = paid_booking(world, inbox)
    intent = str(world.stored(booking_id).payment_intent_id)

    outcomes = [
        deliver(world, inbox, event(kind, intent, object_id="du_1", status=status))
        for kind, status in (("charge.dispute.created", "needs_response"),
                             ("charge.dispute.closed", "lost"))
    ]
    world.run_worker()

    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED]
    [incident] = world.store.incidents.values()
    assert (incident.kind, incident.reference, incident.booking_id, incident.detail) == (
        IncidentKind.DISPUTE, "du_1", booking_id, "lost")
    assert incident.refund_due_cents == 0
    assert world.payments.refunds == []
    assert world.stored(booking_id).status is BookingStatus.CONFIRMED


def test_a_refund_reported_before_a_wrong_amount_is_counted_once_in_the_stray_payment(
    world: World, inbox: InMemoryWebhookInbox
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent, amount_cents=100)
    world.payments.intents[intent].refunded_cents = 40  # by hand, reported first
    deliver(world, inbox, event("charge.refunded", intent, amount=100, refunded=40,
                                object_id="ch_1"))

    deliver(world, inbox, event("payment_intent.succeeded", intent, amount=100))
    world.run_worker()

    assert world.store.incidents[intent].refunded_cents == 100
    assert world.payments.refunds == [(intent, 60)]  # only what had not gone back


def test_a_wrong_amount_whose_webhook_was_lost_is_found_when_the_hold_ends_and_refunded(
    world: World,
) -> None:
    receipt = world.book(10)
    intent = str(receipt.payment_intent_id)
    world.payments.succeed(intent, amount_cents=100)  # and its webhook never comes

    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    world.run_worker()

    booking = world.stored(receipt.booking_id)
    assert (booking.status, booking.paid_cents, booking.refund_due_cents) == (
        BookingStatus.CANCELLED, 0, 0)
    assert world.store.incidents[intent].kind is IncidentKind.WRONG_AMOUNT
    assert world.payments.refunds == [(intent, 100)]
