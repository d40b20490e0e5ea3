"""Which change is which webhook event, and the versioned envelope every event is sent in.

A booking's domain events map to event types in ``BOOKING_EVENT_TYPES``: a new domain event
(``BookingRescheduled``, say) becomes a webhook event with one line there. Profiles have no
domain events; the unit of work reports the profiles it wrote (``professional.created`` /
``professional.updated``).

The envelope: ``{"id", "type", "created", "api_version", "sequence", "data"}``. ``data`` is the
resource as the REST API returns it (``GET /bookings/{id}``, ``GET /professionals/{id}``) at
the moment of the change, rendered by the API's own schemas, which the composition root hands
in as :class:`Renderers` (adapters import no entrypoint).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from booking.events import (
    BookingCancelled,
    BookingConfirmed,
    BookingRequested,
    BookingRescheduled,
    Event,
    RefundIssued,
)
from booking.model import Booking, Professional

API_VERSION = "2026-11-30"  # of the envelope and of ``data``; bumped on a breaking change
PING = "ping"
PROFESSIONAL_CREATED = "professional.created"
PROFESSIONAL_UPDATED = "professional.updated"

BOOKING_EVENT_TYPES: Mapping[type[Event], str] = {
    BookingRequested: "booking.created",  # a hold: status "pending" until paid
    BookingConfirmed: "booking.confirmed",
    BookingCancelled: "booking.cancelled",  # data.cancellation_reason says why
    BookingRescheduled: "booking.rescheduled",  # data has the new times
    RefundIssued: "booking.refunded",
}
EVENT_TYPES: tuple[str, ...] = (
    *BOOKING_EVENT_TYPES.values(), PROFESSIONAL_CREATED, PROFESSIONAL_UPDATED
)

Resource = dict[str, object]  # JSON-ready


@dataclass(frozen=True, slots=True)
class Renderers:
    """The REST API's representation of each resource, as JSON-ready dicts."""

    booking: Callable[[Booking], Resource]
    professional: Callable[[Professional], Resource]


@dataclass(frozen=True, slots=True)
class Change:
    """One event to publish: its type, the resource it is about, and when it happened."""

    type: str
    subject_id: str
    occurred_at: datetime
    data: Resource


def new_event_id() -> str:
    return "evt_" + uuid4().hex


def envelope(
    *, event_id: str, kind: str, created: datetime, sequence: int, data: str
) -> bytes:
    """The body sent to receivers, from the stored event (``data`` is its JSON text): the same
    bytes for every endpoint and every retry."""
    document = {
        "id": event_id,
        "type": kind,
        "created": created.isoformat(),
        "api_version": API_VERSION,
        "sequence": sequence,
        "data": json.loads(data),
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")
