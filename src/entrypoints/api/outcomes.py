"""Domain outcomes counted where the HTTP edge sees them: the views and the error handler.

The domain stays free of Prometheus: a view that got a receipt, a cancelled booking or a
webhook outcome calls one of these, and so does the error handler for a refused booking. What
never passes through the API (a hold expired by the worker) is not counted here; see
docs/operations.md. In an app without metrics (a blueprint mounted on its own) they do nothing.
"""

from __future__ import annotations

from flask import current_app

from adapters.payments.stripe_events import DISPUTE_EVENTS, Outcome
from booking.errors import BookingError, SlotUnavailable
from booking.model import Booking, BookingStatus, CancellationReason
from booking.receipts import BookingReceipt
from entrypoints.metrics import Metrics

EXTENSION = "hourbook_metrics"
_PAYMENT_VERDICTS = {  # the provider's verdict on a payment attempt
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
}


def current_metrics() -> Metrics:
    found = installed_metrics()
    if found is None:
        raise RuntimeError("the app was not built by create_app")
    return found


def installed_metrics() -> Metrics | None:
    found = current_app.extensions.get(EXTENSION)
    return found if isinstance(found, Metrics) else None


def booking_answered(receipt: BookingReceipt) -> None:
    """POST /bookings answered 201: a new hold (or free booking), or a replayed answer."""
    if (metrics := installed_metrics()) is None:
        return
    if receipt.replayed:
        metrics.idempotent_replays.inc()
        return
    metrics.bookings_created.inc()
    if receipt.status == BookingStatus.CONFIRMED.value:  # free: confirmed without a payment
        metrics.bookings_confirmed.inc()


def booking_refused(error: BookingError) -> None:
    """A domain error on its way to the client (the error handler calls this)."""
    if (metrics := installed_metrics()) is None:
        return
    if error.replayed:
        metrics.idempotent_replays.inc()
    elif isinstance(error, SlotUnavailable):
        metrics.double_booking_attempts.inc()


def booking_cancelled(reason: CancellationReason) -> None:
    if (metrics := installed_metrics()) is not None:
        metrics.bookings_cancelled.labels(reason=reason.value).inc()


def webhook_rejected() -> None:
    if (metrics := installed_metrics()) is not None:
        metrics.webhook_rejected.inc()


def webhook_applied(event_type: str, outcome: Outcome) -> None:
    """A verified event: what applying it did, and the provider's verdict on a payment."""
    if (metrics := installed_metrics()) is None:
        return
    metrics.webhook_events.labels(outcome=outcome.value).inc()
    if outcome is Outcome.MISMATCH:
        metrics.payment_mismatches.inc()
    if outcome is Outcome.APPLIED and event_type in DISPUTE_EVENTS:
        metrics.payment_disputes.labels(event=event_type).inc()
    verdict = _PAYMENT_VERDICTS.get(event_type)
    if outcome is Outcome.APPLIED and verdict is not None:
        metrics.payments.labels(outcome=verdict).inc()


def booking_after_payment(event_type: str, booking: Booking) -> None:
    """The booking as a payment event left it: confirmed by a success, cancelled by a decline.

    A success for a hold that had already ended leaves the booking cancelled (and refunded), so
    it is no confirmation. Only events that changed the booking come here: a second success
    for a confirmed booking is ``no_change`` and counts nothing.
    """
    if (metrics := installed_metrics()) is None:
        return
    verdict = _PAYMENT_VERDICTS.get(event_type)
    if verdict == "succeeded" and booking.status is BookingStatus.CONFIRMED:
        metrics.bookings_confirmed.inc()
    elif verdict == "failed" and booking.cancellation_reason is CancellationReason.PAYMENT_FAILED:
        metrics.bookings_cancelled.labels(reason=booking.cancellation_reason.value).inc()
