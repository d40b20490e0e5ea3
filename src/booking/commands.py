"""Commands: requests to change the system, named in the imperative."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from booking.model import CancellationReason, Party


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateBooking:
    client_id: UUID
    professional_id: UUID
    start: datetime
    duration: timedelta
    idempotency_key: str

    def fingerprint(self) -> str:
        """Identifies what was asked, so a key reused for another request is caught.

        The start is taken as an instant, so the same time written with another offset is the
        same request.
        """
        start = self.start.timestamp() if self.start.tzinfo else self.start.isoformat()
        canonical = f"{self.client_id}|{self.professional_id}|{start}|{self.duration}"
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelBooking:
    booking_id: UUID
    reason: CancellationReason


@dataclass(frozen=True, slots=True, kw_only=True)
class RescheduleBooking:
    """Move a booking to ``start``; ``duration``, if given, must be the booking's own."""

    booking_id: UUID
    start: datetime
    by: Party
    duration: timedelta | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPaymentSucceeded:
    """The provider reports a payment succeeded, with what it took in."""

    payment_intent_id: str
    amount_received_cents: int
    currency: str  # lower case, as the provider writes it
    booking_id: UUID | None = None  # from the intent's metadata, when the provider sends it


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPaymentFailed:
    payment_intent_id: str
    booking_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPaymentRefunded:
    """The provider reports how much of a payment has been refunded in all (``charge.refunded``)."""

    payment_intent_id: str
    refunded_cents: int
    booking_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPaymentDisputed:
    """The provider reports a dispute opened, changed or closed on a payment's charge."""

    dispute_id: str
    payment_intent_id: str
    amount_cents: int
    currency: str
    status: str  # the provider's word: needs_response, won, lost, ...
    reason: str = ""
