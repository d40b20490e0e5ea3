"""The signed-in client's own bookings: any other id is "not found", as in the API."""

from __future__ import annotations

from uuid import UUID

from booking import services
from booking.errors import BookingNotFound
from booking.model import Booking
from entrypoints.api.context import container
from entrypoints.web.sessions import current_visitor


def own_booking(booking_id: UUID) -> Booking:
    visitor = current_visitor()
    booking = services.get_booking(booking_id, uow=container().uow())
    if visitor is None or booking.client_id != visitor.user_id:
        raise BookingNotFound("no such booking")
    return booking
