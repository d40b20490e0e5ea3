"""Booking use cases: hold a slot, take the payment, confirm, cancel, refund, expire holds.

Each function is one transaction boundary (``with uow: ...; uow.commit()``); calls to the
payment provider happen between transactions, never inside one, and every such call carries an
idempotency key derived from the booking so a retry cannot charge or refund twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from booking.calendar import Calendar
from booking.commands import (
    CancelBooking,
    CreateBooking,
    RecordPaymentDisputed,
    RecordPaymentFailed,
    RecordPaymentRefunded,
    RecordPaymentSucceeded,
    RescheduleBooking,
)
from booking.errors import (
    BookingNotFound,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PaymentAlreadySucceeded,
    PaymentNotAccepted,
    PaymentUnavailable,
    ProfessionalNotFound,
    RuleViolation,
    SlotUnavailable,
    StorageUnavailable,
)
from booking.events import BookingCancelled, Event
from booking.holds import DEFAULT_HOLD_LIMITS, HoldLimits
from booking.incidents import IncidentKind, PaymentIncident
from booking.model import Booking, BookingStatus, CancellationReason
from booking.ports import Clock, IdempotencyStore, PaymentGateway, UnitOfWork
from booking.pricing import refund_due_cents
from booking.receipts import BookingReceipt, replay, store_error, store_receipt
from booking.rescheduling import DEFAULT_RESCHEDULE_POLICY, ReschedulePolicy, ensure_movable
from booking.slot import Slot

logger = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_LENGTH = 255
# Answers that a retry with the same key must get again; anything else releases the key.
_REPLAYABLE_ERRORS = (NotFound, RuleViolation, SlotUnavailable, InvalidInput)
_HOLD_ATTEMPTS = 3  # bounded retries of the hold transaction after a deadlock between inserts


def create_booking(
    cmd: CreateBooking,
    *,
    uow: UnitOfWork,
    payments: PaymentGateway,
    clock: Clock,
    idempotency: IdempotencyStore | None = None,
    new_id: Callable[[], UUID] = uuid4,
    limits: HoldLimits = DEFAULT_HOLD_LIMITS,
) -> BookingReceipt:
    """Hold the slot as a pending booking and open its payment; replay a retried request.

    Flow: claim the idempotency key → check the rules against the professional's calendar and
    the client's unpaid holds against ``limits`` → store the pending booking → create the
    payment intent → attach it → store the receipt.

    Without ``idempotency`` the caller keeps the answers itself (the API does, for every
    unsafe request: ``entrypoints.api.idempotency``); the key still goes with the booking, so
    a retry finds the hold it made (``_resumed``) instead of making another.
    """
    key = cmd.idempotency_key
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("the idempotency key must be 1-255 printable characters")
    if idempotency is None:
        return _hold_and_open_payment(cmd, uow, payments, clock, new_id(), limits)
    scope = f"client:{cmd.client_id}"
    stored = idempotency.claim(scope, key, cmd.fingerprint())
    if stored is not None:
        return replay(stored)
    try:
        receipt = _hold_and_open_payment(cmd, uow, payments, clock, new_id(), limits)
    except _REPLAYABLE_ERRORS as error:
        idempotency.complete(scope, key, store_error(error))
        raise
    except BaseException:
        idempotency.release(scope, key)
        raise
    try:
        idempotency.complete(scope, key, store_receipt(receipt))
    except StorageUnavailable:
        # The booking stands and the client gets it now. A retry with this key, once the
        # claim's lease lapses, finds the held booking and answers with it (see _hold).
        logger.warning("idempotency record for booking %s not stored", receipt.booking_id)
    return receipt


def _hold_and_open_payment(
    cmd: CreateBooking,
    uow: UnitOfWork,
    payments: PaymentGateway,
    clock: Clock,
    booking_id: UUID,
    limits: HoldLimits,
) -> BookingReceipt:
    slot = Slot.starting(cmd.start, cmd.duration)
    for attempt in range(1, _HOLD_ATTEMPTS + 1):
        try:
            booking = _hold(cmd, slot, uow, clock.now(), booking_id, limits)
            break
        except ConcurrentUpdate:
            # A deadlock or serialization failure between overlapping inserts: the loser's
            # transaction was rolled back whole, and a fresh check will see the winner.
            if attempt == _HOLD_ATTEMPTS:
                raise
    if booking.status is BookingStatus.CONFIRMED:
        return BookingReceipt.of(booking, client_secret=None)
    return _open_payment(booking, uow, payments, clock)


def _hold(
    cmd: CreateBooking,
    slot: Slot,
    uow: UnitOfWork,
    now: datetime,
    booking_id: UUID,
    limits: HoldLimits,
) -> Booking:
    with uow:
        calendar = uow.bookings.lock_calendar(cmd.professional_id, slot)
        if calendar is None:
            raise ProfessionalNotFound("no such professional")
        earlier = _made_with_key(calendar, cmd)
        if earlier is not None:
            return _resumed(earlier, cmd, slot)
        booking = calendar.book(
            booking_id=booking_id,
            client_id=cmd.client_id,
            slot=slot,
            now=now,
            idempotency_key=cmd.idempotency_key,
        )
        if booking.total_price_cents == 0:
            booking.confirm(now)  # nothing to pay: a free booking is confirmed at once
        else:  # an unpaid hold: within the client's caps, counted under the client's lock
            held = uow.bookings.lock_client_holds(cmd.client_id, limits.per_client)
            if any(b.idempotency_key == cmd.idempotency_key for b in held):  # as storage would
                raise IdempotencyKeyReused("a booking was already made with this idempotency key")
            limits.check(held, client_id=cmd.client_id, professional_id=cmd.professional_id)
        # Storage refuses an unknown client (ClientNotFound) and a key that already made
        # another live booking (IdempotencyKeyReused): checking first would cost reads that
        # almost never find anything.
        uow.bookings.add(booking)
        uow.commit()
    return booking


def _made_with_key(calendar: Calendar, cmd: CreateBooking) -> Booking | None:
    """The hold an earlier attempt with this key made for the same time, if the calendar has
    it: one for another time or professional is refused by storage's unique key instead."""
    for booking in calendar.bookings:
        if booking.client_id == cmd.client_id and booking.idempotency_key == cmd.idempotency_key:
            return booking
    return None


def _resumed(earlier: Booking, cmd: CreateBooking, slot: Slot) -> Booking:
    """The hold an earlier attempt with this key made before it failed half-way (its payment
    was never attached, or its answer never stored): finish that one, book nothing new."""
    if earlier.professional_id != cmd.professional_id or earlier.slot != slot:
        raise IdempotencyKeyReused("a booking was already made with this idempotency key")
    if earlier.status is not BookingStatus.PENDING:
        # Confirmed: that request finished long ago and its record has expired.
        raise SlotUnavailable("this idempotency key already made a confirmed booking")
    return earlier


def _open_payment(
    booking: Booking, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> BookingReceipt:
    try:
        intent = payments.create_intent(
            booking_id=booking.id,
            amount_cents=booking.total_price_cents,
            currency=booking.currency,
            idempotency_key=f"booking-{booking.id}-intent",
        )
    except BaseException:
        _cancel_quietly(booking.id, CancellationReason.PAYMENT_ERROR, uow, clock)
        raise
    with uow:
        try:  # the booking as held: one write, no read
            booking.attach_payment(intent.id, clock.now())
            uow.bookings.update(booking)
        except ConcurrentUpdate:  # changed since the hold (an early webhook, an expiry)
            booking = _get(uow, booking.id)
            booking.attach_payment(intent.id, clock.now())
            uow.bookings.update(booking)
        uow.commit()
    if booking.status is not BookingStatus.PENDING:
        # The hold ended while the intent was being made: make sure it is never charged.
        _release_payment_now(booking, uow, payments, clock)
        raise IllegalTransition("the hold ended before its payment could be opened")
    return BookingReceipt.of(booking, client_secret=intent.client_secret)


def record_payment_succeeded(
    cmd: RecordPaymentSucceeded, *, uow: UnitOfWork, clock: Clock
) -> Booking:
    """Confirm the booking the payment was for; owe back a payment that came too late.

    Only the booking's own intent, for exactly its price in its currency, pays for it.
    Anything else (an intent it did not open, found through ``booking_id`` alone; another
    amount or currency) leaves the booking as it was, is recorded as a stray payment owed
    back in full, and raises :class:`PaymentNotAccepted` once that record is stored.

    A success for a booking that was already cancelled (its hold expired, or the client gave
    up) is owed back in full rather than re-confirmed: the slot may have been given to someone
    else, and money must never stay with us for a booking that does not exist. So is one for a
    booking whose money was refunded before the success was reported. A booking paid before
    takes nothing more. The refund is paid by ``settle_refund``, outside this transaction: the
    worker's ``settle_refunds``, or the caller right after. No call to the provider is made here.
    """
    now = clock.now()
    with uow:
        booking = _own_booking(uow, cmd.payment_intent_id)
        if booking is None and cmd.booking_id is not None:
            booking = uow.bookings.get(cmd.booking_id)  # named in metadata only: never its own
        if booking is None:
            raise BookingNotFound(f"no booking for payment {cmd.payment_intent_id}")
        if booking.payment_intent_id == cmd.payment_intent_id and booking.paid_cents:
            # Paid before: a repeated report takes nothing more, and nothing is committed, so
            # the webhook reports it as no change.
            return booking
        stray = _stray_kind(uow, booking, cmd)
        if stray is not None:
            _record_stray_payment(uow, booking, cmd, stray, now)
            raise PaymentNotAccepted(
                f"payment {cmd.payment_intent_id} ({cmd.amount_received_cents} {cmd.currency})"
                f" not accepted for booking {booking.id}: {stray}"
            )
        booking.take_payment(cmd.amount_received_cents, now)
        uow.bookings.update(booking)
        uow.commit()
    return booking


def _stray_kind(
    uow: UnitOfWork, booking: Booking, cmd: RecordPaymentSucceeded
) -> IncidentKind | None:
    if booking.payment_intent_id != cmd.payment_intent_id:
        return IncidentKind.FOREIGN_INTENT
    recorded = uow.incidents.get_by_payment_intent(cmd.payment_intent_id)
    if recorded is not None:  # stray once, stray for good: its money is being given back
        return recorded.kind
    if (cmd.amount_received_cents, cmd.currency) != (booking.total_price_cents, booking.currency):
        return IncidentKind.WRONG_AMOUNT
    return None


def _record_stray_payment(
    uow: UnitOfWork,
    booking: Booking,
    cmd: RecordPaymentSucceeded,
    kind: IncidentKind,
    now: datetime,
) -> None:
    """Store the stray payment once per intent (a redelivery or a second report adds nothing)."""
    logger.warning(
        "payment mismatch (%s): intent %s took in %s %s for booking %s, whose own intent is %s"
        " at %s %s; the booking is left as it was and the payment is owed back",
        kind, cmd.payment_intent_id, cmd.amount_received_cents, cmd.currency, booking.id,
        booking.payment_intent_id, booking.total_price_cents, booking.currency,
    )
    if uow.incidents.get(cmd.payment_intent_id) is None:  # else recorded before: only commit
        stray = PaymentIncident.stray_payment(
            kind=kind,
            payment_intent_id=cmd.payment_intent_id,
            booking_id=booking.id,
            amount_cents=cmd.amount_received_cents,
            currency=cmd.currency,
            detail=f"expected {booking.total_price_cents} {booking.currency}"
            f" through {booking.payment_intent_id or 'no intent yet'}",
            now=now,
        )
        if booking.payment_intent_id == cmd.payment_intent_id and not booking.paid_cents:
            # Refunds of this intent reported before its success were taken onto the booking
            # (the provider's totals): they gave back part of this money already.
            stray.take_in_refunded_total(min(booking.refunded_cents, stray.amount_cents), now)
        uow.incidents.add(stray)
    uow.commit()


def record_payment_failed(cmd: RecordPaymentFailed, *, uow: UnitOfWork, clock: Clock) -> Booking:
    """A declined payment ends a pending hold and frees its slot; later, it changes nothing.

    Only the booking's own intent counts: a decline of an intent it did not open (named in
    ``booking_id`` alone) changes nothing. The intent is cancelled afterwards by
    ``release_payment_after`` (the worker runs it for the booking's ``BookingCancelled`` event);
    no call to the provider is made here.
    """
    with uow:
        booking = _own_booking(uow, cmd.payment_intent_id)
        if booking is None:
            raise BookingNotFound(f"no booking for payment {cmd.payment_intent_id}")
        if booking.status is not BookingStatus.PENDING:
            return booking
        booking.cancel(CancellationReason.PAYMENT_FAILED, clock.now())
        uow.bookings.update(booking)
        uow.commit()
    return booking


def record_payment_refunded(
    cmd: RecordPaymentRefunded, *, uow: UnitOfWork, clock: Clock
) -> Booking | PaymentIncident:
    """Take in the provider's total refunded for a payment, so that a refund made outside
    hourbook (in the provider's dashboard) shows on the booking; ours are already recorded.

    The refunds of a stray payment are taken into its incident, never into the booking, which
    that money never paid for."""
    with uow:
        stray = uow.incidents.get_by_payment_intent(cmd.payment_intent_id)
        if stray is not None:
            if cmd.refunded_cents > stray.refunded_cents:
                stray.take_in_refunded_total(cmd.refunded_cents, clock.now())
                uow.incidents.update(stray)
                uow.commit()
            return stray
        booking = _own_booking(uow, cmd.payment_intent_id)
        if booking is None:
            raise BookingNotFound(f"no booking for payment {cmd.payment_intent_id}")
        if cmd.refunded_cents <= booking.refunded_cents:
            return booking
        booking.take_in_refunded_total(cmd.refunded_cents, clock.now())
        uow.bookings.update(booking)
        uow.commit()
    return booking


def record_payment_disputed(
    cmd: RecordPaymentDisputed, *, uow: UnitOfWork, clock: Clock
) -> PaymentIncident:
    """Record a dispute (opened, updated or closed) for a person to answer; refund nothing.

    The bank takes the disputed money back itself, so a refund of ours would pay twice.
    """
    now = clock.now()
    detail = f"{cmd.status} ({cmd.reason})" if cmd.reason else cmd.status
    with uow:
        booking = _own_booking(uow, cmd.payment_intent_id)
        booking_id = booking.id if booking is not None else None
        logger.error(
            "payment dispute %s on intent %s (booking %s): %s %s, %s",
            cmd.dispute_id, cmd.payment_intent_id, booking_id, cmd.amount_cents, cmd.currency,
            detail,
        )
        incident = uow.incidents.get(cmd.dispute_id)
        if incident is None:
            incident = PaymentIncident.dispute(
                dispute_id=cmd.dispute_id, payment_intent_id=cmd.payment_intent_id,
                booking_id=booking_id, amount_cents=cmd.amount_cents, currency=cmd.currency,
                detail=detail, now=now,
            )
            uow.incidents.add(incident)
        else:
            incident.update_detail(detail, now)
            uow.incidents.update(incident)
        uow.commit()
    return incident


def settle_incident_refund(
    reference: str, *, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> PaymentIncident:
    """Pay back what is still owed on a stray payment. Safe to run any number of times."""
    with uow:
        incident = _incident(uow, reference)
    outstanding = incident.refund_outstanding_cents
    if outstanding <= 0:
        return incident
    payments.refund(
        incident.payment_intent_id,
        amount_cents=outstanding,
        idempotency_key=f"stray-{incident.payment_intent_id}-refund-"
        f"{incident.refunded_cents}-{outstanding}",
    )
    with uow:
        incident = _incident(uow, reference)
        if incident.refund_outstanding_cents >= outstanding:
            incident.record_refund(outstanding, clock.now())
            uow.incidents.update(incident)
            uow.commit()
    return incident


def release_payment(
    booking_id: UUID, *, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> Booking:
    """Make sure a booking cancelled before it was paid can no longer be paid.

    Cancels its intent. If the provider answers that the intent has already succeeded (its
    webhook is late, or was lost for good), that success is recorded as the webhook would have
    recorded it: the booking has ended, so the payment is refunded in full. Raises
    PaymentUnavailable when the provider cannot be reached; running it again is safe. Never
    for a booking cancelled after it was confirmed: ``cancel_booking`` refunds those.
    """
    with uow:
        booking = _get(uow, booking_id)
    if booking.status is not BookingStatus.CANCELLED or booking.payment_intent_id is None:
        return booking
    try:
        payments.cancel_intent(
            booking.payment_intent_id, idempotency_key=f"booking-{booking.id}-cancel"
        )
    except PaymentAlreadySucceeded as found:
        # The provider says what was taken in; an adapter that cannot say took the price,
        # since the intent was opened for exactly that.
        succeeded = RecordPaymentSucceeded(
            payment_intent_id=booking.payment_intent_id,
            amount_received_cents=(
                booking.total_price_cents
                if found.amount_received_cents is None
                else found.amount_received_cents
            ),
            currency=booking.currency if found.currency is None else found.currency,
            booking_id=booking.id,
        )
        try:
            record_payment_succeeded(succeeded, uow=uow, clock=clock)
        except PaymentNotAccepted:
            return booking  # a stray payment: refunded from its incident, not the booking
        return settle_refund(booking.id, uow=uow, payments=payments, clock=clock)
    return booking


def release_payment_after(
    event: Event, *, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> None:
    """What the payment provider must be told after ``event``: a hold that ended unpaid
    releases its payment. The worker runs this for every stored event, and retries it while the
    provider is unreachable, so the release is never lost and no webhook waits on it."""
    if isinstance(event, BookingCancelled) and not event.was_confirmed:
        release_payment(event.booking_id, uow=uow, payments=payments, clock=clock)


def cancel_booking(
    cmd: CancelBooking, *, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> Booking:
    """Cancel and free the slot; refund a paid booking per the terms it was booked under.

    If the refund cannot be made now, the booking stays cancelled with the refund owed, and
    ``settle_refund`` (run again by the worker) pays it later.
    """
    now = clock.now()
    with uow:
        booking = _get(uow, cmd.booking_id)
        # A pending booking's payment, if it came, is already owed back in full.
        paid = booking.paid_cents if booking.status is BookingStatus.CONFIRMED else 0
        refund = refund_due_cents(
            paid_cents=paid,
            start=booking.start,
            now=now,
            reason=cmd.reason,
            terms=booking.terms,  # as agreed at the hold, whatever the policy says now
        )
        booking.cancel(cmd.reason, now, refund_cents=refund)
        uow.bookings.update(booking)
        uow.commit()
    if paid == 0:
        return _release_payment_now(booking, uow, payments, clock)
    if booking.refund_outstanding_cents:
        try:
            return settle_refund(booking.id, uow=uow, payments=payments, clock=clock)
        except PaymentUnavailable:
            return booking  # owed, and settled later by the worker
    return booking


def settle_refund(
    booking_id: UUID, *, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> Booking:
    """Pay back whatever the client is still owed on a booking. Safe to run any number of times."""
    with uow:
        booking = _get(uow, booking_id)
    outstanding = booking.refund_outstanding_cents
    if outstanding <= 0 or booking.payment_intent_id is None:
        return booking
    payments.refund(
        booking.payment_intent_id,
        amount_cents=outstanding,
        idempotency_key=f"booking-{booking.id}-refund-{booking.refunded_cents}-{outstanding}",
    )
    with uow:
        booking = _get(uow, booking_id)
        if booking.refund_outstanding_cents >= outstanding:
            booking.record_refund(outstanding, clock.now())
            uow.bookings.update(booking)
            uow.commit()
    return booking


def expire_holds(
    *,
    uow: UnitOfWork,
    payments: PaymentGateway,
    clock: Clock,
    hold_time: timedelta = timedelta(minutes=15),
    batch_size: int = 200,
) -> list[UUID]:
    """Cancel pending bookings older than ``hold_time`` and their unpaid intents.

    An intent that turns out to have succeeded (its webhook lost) is refunded in full.
    """
    cutoff = clock.now() - hold_time
    with uow:
        stale = [b.id for b in uow.bookings.pending_created_before(cutoff, batch_size)]
    expired = []
    for booking_id in stale:
        try:
            with uow:
                booking = _get(uow, booking_id)
                if booking.status is not BookingStatus.PENDING:
                    continue
                booking.cancel(CancellationReason.HOLD_EXPIRED, clock.now())
                uow.bookings.update(booking)
                uow.commit()
        except ConcurrentUpdate:
            continue  # the payment landed at the same moment; that outcome stands
        _release_payment_now(booking, uow, payments, clock)
        expired.append(booking_id)
    return expired


def reschedule_booking(
    cmd: RescheduleBooking,
    *,
    uow: UnitOfWork,
    clock: Clock,
    hold_time: timedelta = timedelta(minutes=15),
    policy: ReschedulePolicy = DEFAULT_RESCHEDULE_POLICY,
) -> Booking:
    """Move a booking to another start in one transaction: the new slot is checked against
    every rule and taken, and the old one freed, together or not at all.

    Under the professional's calendar lock, the booking is read again (a payment or a cancel
    may have changed it meanwhile), ``policy`` says whether ``cmd.by`` may move it now, and the
    calendar whether the new slot is bookable. The price, the payment and the agreed terms stay;
    no call to the payment provider is made. Moving a booking to the start it already has
    changes nothing. Retried on a collision with a concurrent change, like a hold.
    """
    attempt = 1
    while True:
        try:
            return _move(cmd, uow, clock, hold_time, policy)
        except ConcurrentUpdate:
            # A payment, cancel or expiry changed the booking between our read and our write
            # (they do not take the calendar lock): its transaction lost whole; read again.
            if attempt == _HOLD_ATTEMPTS:
                raise
            attempt += 1


def _move(
    cmd: RescheduleBooking,
    uow: UnitOfWork,
    clock: Clock,
    hold_time: timedelta,
    policy: ReschedulePolicy,
) -> Booking:
    now = clock.now()
    with uow:
        booking = _get(uow, cmd.booking_id)
        slot = booking.moved_slot(cmd.start, cmd.duration)
        calendar = uow.bookings.lock_calendar(booking.professional_id, slot)
        if calendar is None:
            raise ProfessionalNotFound("no such professional")
        booking = _get(uow, cmd.booking_id)  # as it is now that no other move can interleave
        ensure_movable(booking)
        if slot == booking.slot:
            return booking  # already there: a repeated request changes nothing
        policy.check(booking, by=cmd.by, now=now, hold_time=hold_time)
        calendar.move(booking, slot, now, by=cmd.by)
        uow.bookings.update(booking)
        uow.commit()
    return booking


def get_booking(booking_id: UUID, *, uow: UnitOfWork) -> Booking:
    with uow:
        return _get(uow, booking_id)


def _get(uow: UnitOfWork, booking_id: UUID) -> Booking:
    booking = uow.bookings.get(booking_id)
    if booking is None:
        raise BookingNotFound("no such booking")
    return booking


def _own_booking(uow: UnitOfWork, payment_intent_id: str) -> Booking | None:
    """The booking this intent was opened for and attached to, if any."""
    return uow.bookings.get_by_payment_intent(payment_intent_id)


def _incident(uow: UnitOfWork, reference: str) -> PaymentIncident:
    incident = uow.incidents.get(reference)
    if incident is None:
        raise NotFound(f"no payment incident {reference}")
    return incident


def _cancel_quietly(
    booking_id: UUID, reason: CancellationReason, uow: UnitOfWork, clock: Clock
) -> None:
    with uow:
        booking = _get(uow, booking_id)
        if booking.is_active:
            booking.cancel(reason, clock.now())
            uow.bookings.update(booking)
            uow.commit()


def _release_payment_now(
    booking: Booking, uow: UnitOfWork, payments: PaymentGateway, clock: Clock
) -> Booking:
    # At once, as far as the provider lets us: what fails here is done again by the worker,
    # which runs release_payment_after for the booking's BookingCancelled event.
    try:
        return release_payment(booking.id, uow=uow, payments=payments, clock=clock)
    except (PaymentUnavailable, ConcurrentUpdate):
        return booking
