"""What a booking request answers, and how that answer is stored for idempotent replay."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from uuid import UUID

from booking.errors import BookingError, error_codes
from booking.model import Booking
from booking.ports import StoredResponse


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingReceipt:
    booking_id: UUID
    professional_id: UUID
    client_id: UUID
    status: str
    start: datetime
    end: datetime
    total_price_cents: int
    currency: str
    payment_intent_id: str | None
    client_secret: str | None
    replayed: bool = False

    @classmethod
    def of(cls, booking: Booking, client_secret: str | None) -> BookingReceipt:
        return cls(
            booking_id=booking.id,
            professional_id=booking.professional_id,
            client_id=booking.client_id,
            status=booking.status.value,
            start=booking.start,
            end=booking.end,
            total_price_cents=booking.total_price_cents,
            currency=booking.currency,
            payment_intent_id=booking.payment_intent_id,
            client_secret=client_secret,
        )


def store_receipt(receipt: BookingReceipt) -> StoredResponse:
    fields = asdict(receipt)
    del fields["replayed"]
    return StoredResponse(json.dumps({"receipt": fields}, default=str, sort_keys=True))


def store_error(error: BookingError) -> StoredResponse:
    return StoredResponse(json.dumps({"error": {"code": error.code, "message": error.message}}))


def replay(stored: StoredResponse) -> BookingReceipt:
    """The stored receipt marked as replayed, or the stored error raised again."""
    document = json.loads(stored.body)
    if "error" in document:
        error_class = error_codes().get(document["error"]["code"], BookingError)
        raise error_class(document["error"]["message"], replayed=True)
    fields = document["receipt"]
    receipt = BookingReceipt(
        booking_id=UUID(fields["booking_id"]),
        professional_id=UUID(fields["professional_id"]),
        client_id=UUID(fields["client_id"]),
        status=fields["status"],
        start=datetime.fromisoformat(fields["start"]),
        end=datetime.fromisoformat(fields["end"]),
        total_price_cents=fields["total_price_cents"],
        currency=fields["currency"],
        payment_intent_id=fields["payment_intent_id"],
        client_secret=fields["client_secret"],
    )
    return replace(receipt, replayed=True)
