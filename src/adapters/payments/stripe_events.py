"""What each verified Stripe event does to bookings, applied at most once per event id.

- ``payment_intent.succeeded`` → ``record_payment_succeeded`` with the amount and currency
  received: pending → confirmed; a success for a cancelled booking (expired hold, late
  payment) is owed back in full. A success that is not the booking's own intent for its price
  is a stray payment (``mismatch``): the booking is left as it was, the money owed back.
- ``payment_intent.payment_failed`` / ``payment_intent.canceled`` → ``record_payment_failed``:
  pending → cancelled, slot freed; after a success it changes nothing (``no_change``).
- ``charge.refunded`` → ``record_payment_refunded``: the booking's refunded amount rises to the
  charge's ``amount_refunded`` (a refund made in the dashboard; ours are already recorded).
- ``charge.dispute.*`` → ``record_payment_disputed``: recorded for a person, never refunded.
- anything else → acknowledged and ignored.

An event that changes nothing (a failure after a success, a second success under a new event
id, a refund total already recorded) is answered and counted ``no_change``, not ``applied``.

Nothing here calls Stripe, so the answer comes as fast as the database: the owed refund is paid
by the worker's ``settle_refunds``, and the intent of a declined hold is cancelled by the
worker's job for the booking's ``BookingCancelled`` event. The view answers 2xx for every
outcome here; only a storage outage or a bug answers 5xx, so Stripe redelivers exactly when
nothing was stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from adapters.payments.stripe_gateway import StripeEvent
from adapters.payments.webhook_inbox import WebhookInbox
from adapters.sql.webhook_events import AlreadyProcessed
from booking import services
from booking.commands import (
    RecordPaymentDisputed,
    RecordPaymentFailed,
    RecordPaymentRefunded,
    RecordPaymentSucceeded,
)
from booking.errors import (
    BookingNotFound,
    ConcurrentUpdate,
    IllegalTransition,
    InvalidInput,
    PaymentNotAccepted,
)
from booking.model import Booking
from booking.ports import Clock, UnitOfWork

logger = logging.getLogger(__name__)

ATTEMPTS = 3  # a concurrent change to the same booking (expiry, cancel) is retried at once


class Outcome(StrEnum):
    APPLIED = "applied"
    NO_CHANGE = "no_change"  # verified and new, but the booking was already as it says
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNKNOWN_PAYMENT = "unknown_payment"
    REJECTED = "rejected"  # a permanent domain refusal, logged for a human
    MISMATCH = "mismatch"  # a success that cannot pay for its booking: recorded, owed back


# A handler returns the booking as it left it, or None when no booking changed (a refund
# taken into a stray payment, a dispute).
Handler = Callable[[StripeEvent, UnitOfWork, Clock], Booking | None]


def _succeeded(event: StripeEvent, uow: UnitOfWork, clock: Clock) -> Booking:
    # Stripe always sends amount_received; localstripe has none, and a succeeded intent with
    # automatic capture took exactly its amount.
    received = event.amount_received if event.amount_received is not None else event.amount
    if received is None or event.currency is None:
        raise InvalidInput("a payment_intent.succeeded event without its amount or currency")
    cmd = RecordPaymentSucceeded(
        payment_intent_id=_intent(event),
        amount_received_cents=received,
        currency=event.currency,
        booking_id=event.booking_id,
    )
    return services.record_payment_succeeded(cmd, uow=uow, clock=clock)


def _failed(event: StripeEvent, uow: UnitOfWork, clock: Clock) -> Booking:
    cmd = RecordPaymentFailed(payment_intent_id=_intent(event), booking_id=event.booking_id)
    return services.record_payment_failed(cmd, uow=uow, clock=clock)


def _refunded(event: StripeEvent, uow: UnitOfWork, clock: Clock) -> Booking | None:
    if event.amount_refunded is None:
        raise InvalidInput("a charge.refunded event without amount_refunded")
    cmd = RecordPaymentRefunded(
        payment_intent_id=_intent(event),
        refunded_cents=event.amount_refunded,
        booking_id=event.booking_id,
    )
    found = services.record_payment_refunded(cmd, uow=uow, clock=clock)
    return found if isinstance(found, Booking) else None  # else a stray payment's refund


def _disputed(event: StripeEvent, uow: UnitOfWork, clock: Clock) -> None:
    if event.amount is None or event.currency is None or event.status is None:
        raise InvalidInput(f"a {event.type} event without its amount, currency or status")
    cmd = RecordPaymentDisputed(
        dispute_id=event.object_id,
        payment_intent_id=_intent(event),
        amount_cents=event.amount,
        currency=event.currency,
        status=event.status,
        reason=event.reason or "",
    )
    services.record_payment_disputed(cmd, uow=uow, clock=clock)
    return None


DISPUTE_EVENTS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "payment_intent.canceled": _failed,
    "charge.refunded": _refunded,
    **dict.fromkeys(DISPUTE_EVENTS, _disputed),
}


def apply_event(
    event: StripeEvent,
    *,
    inbox: WebhookInbox,
    clock: Clock,
    applied: Callable[[Booking], None] | None = None,
) -> Outcome:
    """Apply one verified event unless it was applied before; say what happened.

    ``applied`` is called with the booking as the event's handler left it, only when the
    event changed it (the API counts confirmations and cancellations with it).
    """
    handler = HANDLERS.get(event.type)
    if handler is None or event.payment_intent_id is None:
        return Outcome.IGNORED
    if inbox.seen(event.id):
        return Outcome.DUPLICATE
    for attempt in range(1, ATTEMPTS + 1):
        uow = inbox.unit_of_work(event.id, event.type)
        try:
            booking = handler(event, uow, clock)
        except AlreadyProcessed:
            return Outcome.DUPLICATE
        except ConcurrentUpdate:
            if attempt == ATTEMPTS:
                raise
            continue
        except PaymentNotAccepted as error:
            logger.warning("stripe %s %s not accepted: %s", event.type, event.id, error)
            inbox.record(event.id, event.type)  # already marked by the commit that recorded it
            return Outcome.MISMATCH
        except BookingNotFound:
            logger.warning("stripe %s %s: no booking for %s", event.type, event.id, event.object_id)
            inbox.record(event.id, event.type)
            return Outcome.UNKNOWN_PAYMENT
        except (IllegalTransition, InvalidInput) as error:
            logger.error("stripe %s %s refused: %s", event.type, event.id, error)
            inbox.record(event.id, event.type)
            return Outcome.REJECTED
        if not uow.marked:  # the handler committed nothing: the booking was already so
            inbox.record(event.id, event.type)
            return Outcome.NO_CHANGE
        if applied is not None and booking is not None:
            applied(booking)
        return Outcome.APPLIED
    raise AssertionError("unreachable")  # pragma: no cover


def _intent(event: StripeEvent) -> str:
    if event.payment_intent_id is None:
        raise ValueError("the event carries no payment intent")
    return event.payment_intent_id
