"""Resources as the REST API returns them, as JSON-ready dicts: the response schemas dumping the
presenters' bodies. Outgoing webhooks carry these as their ``data`` (the composition root hands
them to ``adapters.webhooks_out`` as its ``Renderers``), so an event's payload is, field for
field, what ``GET /bookings/{id}`` or ``GET /professionals/{id}`` answered at that moment.
"""

from __future__ import annotations

from booking.model import Booking, Professional
from entrypoints.api.presenters import booking_body, professional_body
from entrypoints.api.schemas.bookings import BookingSchema
from entrypoints.api.schemas.professionals import ProfessionalSchema

_BOOKING = BookingSchema()
_PROFESSIONAL = ProfessionalSchema()


def booking_resource(booking: Booking) -> dict[str, object]:
    return dict(_BOOKING.dump(booking_body(booking)))


def professional_resource(professional: Professional) -> dict[str, object]:
    return dict(_PROFESSIONAL.dump(professional_body(professional)))
