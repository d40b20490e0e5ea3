"""Who may move a booking to another start, and until when (docs/api.md, "Reschedule").

- A pending booking moves while its hold lasts; the move keeps the hold's expiry.
- A confirmed one moves by its client until the free-cancellation limit agreed at the hold,
  by the professional and admins at any time before it starts.
- A cancelled booking, or one that has started, never moves.
- ``ReschedulePolicy.max_per_booking`` caps the moves of one booking (None: no cap).

Whether the new slot is free and bookable is the calendar's to say (``Calendar.move``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.calendar import describe_length
from booking.errors import (
    BookingNotActive,
    BookingStarted,
    HoldExpired,
    InvalidInput,
    RescheduleDeadlinePassed,
    TooManyReschedules,
)
from booking.model import Booking, BookingStatus, Party

MAX_RESCHEDULES = 1000  # the highest cap a setting may give: above it, leave it unset


@dataclass(frozen=True, slots=True, kw_only=True)
class ReschedulePolicy:
    """How often a booking may be moved; the default is as often as the rules allow."""

    max_per_booking: int | None = None

    def __post_init__(self) -> None:
        cap = self.max_per_booking
        if cap is not None and (
            not isinstance(cap, int) or isinstance(cap, bool) or not 0 <= cap <= MAX_RESCHEDULES
        ):
            raise InvalidInput(f"max_per_booking must be 0-{MAX_RESCHEDULES}, or None for no cap")

    def check(self, booking: Booking, *, by: Party, now: datetime, hold_time: timedelta) -> None:
        """Raise the :class:`~booking.errors.CannotReschedule` that forbids ``by`` moving
        ``booking`` now, if any. ``hold_time`` is how long a pending hold lasts."""
        ensure_movable(booking)
        if booking.start <= now:
            raise BookingStarted("the booking has already started (or ended): it cannot move")
        if booking.status is BookingStatus.PENDING and now >= booking.created_at + hold_time:
            raise HoldExpired("the hold on this booking has expired: book again")
        if (
            booking.status is BookingStatus.CONFIRMED
            and by is Party.CLIENT
            and booking.start - now < booking.terms.free_cancellation
        ):
            raise RescheduleDeadlinePassed(
                "clients can move a booking until"
                f" {describe_length(booking.terms.free_cancellation)} before it starts; after that,"
                " only the professional can"
            )
        cap = self.max_per_booking
        if cap is not None and booking.reschedule_count >= cap:
            raise TooManyReschedules(
                f"this booking has been moved {booking.reschedule_count} time(s), the most"
                f" allowed is {cap}"
            )


def ensure_movable(booking: Booking) -> None:
    """Raise BookingNotActive, saying why, if ``booking`` is cancelled."""
    if booking.is_active:
        return
    why = booking.cancellation_reason.value if booking.cancellation_reason else "cancelled"
    raise BookingNotActive(f"the booking is cancelled ({why}): it cannot move")


DEFAULT_RESCHEDULE_POLICY = ReschedulePolicy()
