"""Domain errors: every rule the domain enforces fails with one of these, never a bare ValueError.

Each error carries a stable machine-readable ``code``; the edges (HTTP, jobs) map the families
below to their own status codes in one place.
"""

from __future__ import annotations


class BookingError(Exception):
    """Base of every domain error."""

    code = "booking_error"

    def __init__(self, message: str, *, replayed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.replayed = replayed  # True when answered from an idempotency record


# -- Invalid input: the request itself is malformed (HTTP 400/422) ----------------------------


class InvalidInput(BookingError):
    code = "invalid_input"


class NaiveDateTime(InvalidInput):
    code = "naive_datetime"


class InvalidTimeZone(InvalidInput):
    code = "invalid_time_zone"


class OverlappingWindows(InvalidInput):
    """Two weekly availability windows on the same day share time (touching is fine)."""

    code = "overlapping_windows"


# -- Not found (HTTP 404) -------------------------------------------------------------------


class NotFound(BookingError):
    code = "not_found"


class ProfessionalNotFound(NotFound):
    code = "professional_not_found"


class ClientNotFound(NotFound):
    code = "client_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


# -- A booking rule is not met (HTTP 422) ---------------------------------------------------


class RuleViolation(BookingError):
    code = "rule_violation"


class OutsideAvailability(RuleViolation):
    code = "outside_availability"


class Misaligned(RuleViolation):
    code = "misaligned"


class DurationOutOfRange(RuleViolation):
    code = "duration_out_of_range"


class InThePast(RuleViolation):
    code = "in_the_past"


class TooSoon(RuleViolation):
    code = "too_soon"


class TooFarAhead(RuleViolation):
    code = "too_far_ahead"


class DurationChangeRefused(RuleViolation):
    """A reschedule asked for another length: the price would change, so it is a new booking."""

    code = "duration_change_refused"


class IdempotencyKeyReused(RuleViolation):
    """The key was already used for a request with a different body."""

    code = "idempotency_key_reused"


# -- Conflicts with the current state (HTTP 409) --------------------------------------------


class Conflict(BookingError):
    code = "conflict"


class SlotUnavailable(Conflict):
    """The requested time overlaps an active booking (or its buffer) of the professional."""

    code = "slot_unavailable"


class TooManyHolds(Conflict):
    """The client already holds as many unpaid bookings as allowed (in all, or with this
    professional); the message says the cap."""

    code = "too_many_holds"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class CannotReschedule(Conflict):
    """The booking may not be moved now, or not by this caller; the subclass says why."""

    code = "cannot_reschedule"


class BookingNotActive(CannotReschedule):
    """Cancelled (by someone, or because its hold expired or its payment failed)."""

    code = "booking_not_active"


class BookingStarted(CannotReschedule):
    code = "booking_started"


class HoldExpired(CannotReschedule):
    """A pending booking whose hold has run out, even before the worker has cancelled it."""

    code = "hold_expired"


class RescheduleDeadlinePassed(CannotReschedule):
    """A client moves a confirmed booking only until its free-cancellation limit."""

    code = "reschedule_deadline_passed"


class TooManyReschedules(CannotReschedule):
    code = "too_many_reschedules"


class ConcurrentUpdate(Conflict):
    """Someone else changed the aggregate since it was read (optimistic locking)."""

    code = "concurrent_update"


class RequestInProgress(Conflict):
    """A request with the same idempotency key is still being processed."""

    code = "request_in_progress"


class PaymentAlreadySucceeded(Conflict):
    """The provider refused to cancel a payment because it has already succeeded.

    The success is a fact to record (``record_payment_succeeded``), even when its webhook
    never came: the booking is confirmed if still held, or refunded if it has ended.
    """

    code = "payment_already_succeeded"

    def __init__(
        self,
        message: str,
        *,
        amount_received_cents: int | None = None,
        currency: str | None = None,
    ) -> None:
        super().__init__(message)
        # What the provider says the payment took in, when it says (None: not told).
        self.amount_received_cents = amount_received_cents
        self.currency = currency


class PaymentNotAccepted(Conflict):
    """A payment succeeded that cannot pay for its booking: not the intent the booking opened,
    or not its price in its currency. The booking is left as it was; the payment is recorded
    as a stray payment (``booking.incidents``), owed back in full, for a person to look at."""

    code = "payment_not_accepted"


# -- A collaborator outside the domain failed (HTTP 502/503) --------------------------------


class PaymentUnavailable(BookingError):
    code = "payment_unavailable"


class StorageUnavailable(BookingError):
    """The database or another store cannot be reached; retrying later may succeed."""

    code = "storage_unavailable"


def error_codes() -> dict[str, type[BookingError]]:
    """Every concrete error class by its code (used to replay stored idempotent outcomes)."""
    found: dict[str, type[BookingError]] = {}
    pending: list[type[BookingError]] = [BookingError]
    while pending:
        cls = pending.pop()
        found[cls.code] = cls
        pending.extend(cls.__subclasses__())
    return found
