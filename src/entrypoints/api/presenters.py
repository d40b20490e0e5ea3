"""Domain objects as the plain dictionaries the response schemas dump."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from booking.model import Booking, Client, Professional
from booking.receipts import BookingReceipt
from booking.slot import Slot
from entrypoints.api.schemas.professionals import policy_body

Body = dict[str, object]


def professional_body(pro: Professional, distance_km: float | None = None) -> Body:
    body: Body = {
        "id": pro.id,
        "name": pro.name,
        "email": pro.email,
        "category": pro.category,
        "hourly_rate_cents": pro.hourly_rate_cents,
        "currency": pro.currency,
        "time_zone": pro.time_zone,
        "location": {"lat": pro.location.lat, "lng": pro.location.lng},
        "travel_mode": pro.travel_mode.value,
        "travel_fee_cents": pro.travel_fee_cents,
        "policy": policy_body(pro.policy),
        "version": pro.version,
    }
    if distance_km is not None:
        body["distance_km"] = round(distance_km, 3)
    return body


def receipt_body(receipt: BookingReceipt) -> Body:
    return {
        "id": receipt.booking_id,
        "professional_id": receipt.professional_id,
        "client_id": receipt.client_id,
        "status": receipt.status,
        "start_time": receipt.start,
        "end_time": receipt.end,
        "total_price_cents": receipt.total_price_cents,
        "currency": receipt.currency,
        "payment": {
            "payment_intent_id": receipt.payment_intent_id,
            "client_secret": receipt.client_secret,
        },
    }


def booking_body(booking: Booking) -> Body:
    return {
        "id": booking.id,
        "professional_id": booking.professional_id,
        "client_id": booking.client_id,
        "status": booking.status.value,
        "start_time": booking.start,
        "end_time": booking.end,
        "total_price_cents": booking.total_price_cents,
        "currency": booking.currency,
        "payment": {"payment_intent_id": booking.payment_intent_id, "client_secret": None},
        "cancellation_reason": booking.cancellation_reason and booking.cancellation_reason.value,
        "refund_due_cents": booking.refund_due_cents,
        "refunded_cents": booking.refunded_cents,
        "reschedule_count": booking.reschedule_count,
        "created_at": booking.created_at,
    }


def slot_body(slot: Slot, zone: ZoneInfo | None) -> Body:
    """A slot's UTC instants, and their wall-clock times in ``zone`` when one was asked for."""
    body: Body = {"start_time": slot.start, "end_time": slot.end}
    if zone is not None:
        body["local_start"] = slot.start.astimezone(zone)
        body["local_end"] = slot.end.astimezone(zone)
    return body


def client_body(client: Client) -> Body:
    return {
        "id": client.id,
        "name": client.name,
        "email": client.email,
        "phone": client.phone,
        "time_zone": client.time_zone,
    }
