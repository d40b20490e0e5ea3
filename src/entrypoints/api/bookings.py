"""Bookings: hold a slot (idempotently), read your bookings, cancel one."""

from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from marshmallow import RAISE

from booking import services
from booking.commands import CancelBooking, CreateBooking
from booking.errors import BookingNotFound, PaymentUnavailable
from booking.model import Booking, CancellationReason
from booking.ports import BookingQuery, UnitOfWork
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.api import outcomes
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import REPLAYED_HEADER, ApiError
from entrypoints.api.presenters import Body, booking_body, receipt_body
from entrypoints.api.reads import reader
from entrypoints.api.schemas.bookings import (
    BookingFilter,
    BookingListArgsSchema,
    BookingPageSchema,
    BookingRequest,
    BookingSchema,
    IdempotencyKeySchema,
    NewBookingSchema,
)
from entrypoints.api.security import Principal, current_principal, protected

blp = Blueprint("bookings", __name__, url_prefix="/bookings", description="Book and cancel")

_REPLAYED_DOC = {
    REPLAYED_HEADER: {
        "description": '"true" when this is the stored answer to an earlier request',
        "schema": {"type": "string"},
    }
}
_CANCELLED_BY = {
    Role.CLIENT: CancellationReason.CLIENT,
    Role.PROFESSIONAL: CancellationReason.PROFESSIONAL,
    Role.ADMIN: CancellationReason.ADMIN,
}


@blp.route("")
class Bookings(MethodView):
    @protected(Role.CLIENT)
    @blp.arguments(IdempotencyKeySchema, location="headers")
    @blp.arguments(NewBookingSchema)
    @blp.response(201, BookingSchema, headers=_REPLAYED_DOC)
    def post(self, key: str, body: BookingRequest) -> tuple[Body, int, dict[str, str]]:
        """Hold a slot: a pending booking and the payment to complete it.

        Requires an ``Idempotency-Key``: a retry with the same key and body answers the first
        result again (``Idempotent-Replayed: true``) and books nothing more.

        The slot must be one ``GET /professionals/{professional_id}/slots`` offers: within the
        professional's availability, on their granularity grid, with their notice and no further
        ahead than they allow, ``duration_minutes`` a multiple of their granularity within their
        minimum and maximum duration. Otherwise 422 with the rule's code (``too_soon``,
        ``outside_availability``, ``misaligned``, ...); a slot taken since answers 409.
        """
        app = container()
        if not accounts.may_book(app, current_principal().user_id):
            raise ApiError(
                403, "email_unverified",
                "verify your e-mail address first: open the link we mailed"
                " (POST /auth/verification sends it again)",
            )
        cmd = CreateBooking(
            client_id=current_principal().user_id,
            professional_id=body.professional_id,
            start=body.start,
            duration=body.duration,
            idempotency_key=key,
        )
        try:
            receipt = services.create_booking(
                cmd, uow=app.uow(), payments=app.payments, idempotency=app.idempotency,
                clock=app.clock, limits=app.settings.hold_limits,
            )
        except PaymentUnavailable:  # the hold was cancelled: its payment could not be opened
            outcomes.booking_cancelled(CancellationReason.PAYMENT_ERROR)
            raise
        outcomes.booking_answered(receipt)
        headers = {REPLAYED_HEADER: "true"} if receipt.replayed else {}
        return receipt_body(receipt), 201, headers

    @protected()
    @blp.arguments(BookingListArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, BookingPageSchema)
    def get(self, wanted: BookingFilter) -> Body:
        """Your bookings (a client's own, a professional's appointments, everything for admins)."""
        principal = current_principal()
        query = BookingQuery(
            client_id=principal.user_id if principal.role is Role.CLIENT else None,
            professional_id=principal.user_id if principal.role is Role.PROFESSIONAL else None,
            status=wanted.status,
            starts_from=wanted.starts_from,
            starts_before=wanted.starts_before,
            limit=wanted.limit,
            offset=wanted.offset,
        )
        uow = reader()
        with uow:
            found = uow.bookings.list(query)
        items = [booking_body(booking) for booking in found]
        return {"items": items, "limit": query.limit, "offset": query.offset}


@blp.route("/<uuid:booking_id>")
class OneBooking(MethodView):
    @protected()
    @blp.response(200, BookingSchema)
    def get(self, booking_id: UUID) -> Body:
        """One booking you may see; any other id answers 404."""
        return booking_body(_visible(booking_id, current_principal(), reader()))


@blp.route("/<uuid:booking_id>/cancel")
class CancelOne(MethodView):
    @protected()
    @blp.response(200, BookingSchema)
    def post(self, booking_id: UUID) -> Body:
        """Cancel and free the slot; a paid booking is refunded per the cancellation policy."""
        principal = current_principal()
        app = container()
        _visible(booking_id, principal, app.uow())
        cancelled = services.cancel_booking(
            CancelBooking(booking_id=booking_id, reason=_CANCELLED_BY[principal.role]),
            uow=app.uow(),
            payments=app.payments,
            clock=app.clock,
        )
        outcomes.booking_cancelled(_CANCELLED_BY[principal.role])
        return booking_body(cancelled)


def _visible(booking_id: UUID, principal: Principal, uow: UnitOfWork) -> Booking:
    """The booking if the caller may see it; otherwise the same 404 as for a missing id."""
    booking = services.get_booking(booking_id, uow=uow)
    if principal.is_admin or principal.user_id in (booking.client_id, booking.professional_id):
        return booking
    raise BookingNotFound("no such booking")
