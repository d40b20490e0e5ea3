"""Bookings: hold a slot (idempotently), read your bookings, move or cancel one."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from flask.views import MethodView
from marshmallow import RAISE

from booking import services
from booking.commands import CancelBooking, CreateBooking, RescheduleBooking
from booking.errors import BookingNotFound, PaymentUnavailable
from booking.model import Booking, CancellationReason, Party
from booking.ports import BookingQuery, UnitOfWork
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.api import outcomes
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.idempotency import current_key, idempotent
from entrypoints.api.presenters import Body, booking_body, receipt_body
from entrypoints.api.reads import reader
from entrypoints.api.schemas.bookings import (
    BookingFilter,
    BookingListArgsSchema,
    BookingPageSchema,
    BookingRequest,
    BookingSchema,
    NewBookingSchema,
    RescheduleRequest,
    RescheduleSchema,
)
from entrypoints.api.security import Principal, current_principal, protected

blp = Blueprint(
    "bookings", __name__, url_prefix="/bookings", description="Book, move and cancel"
)

_CANCELLED_BY = {
    Role.CLIENT: CancellationReason.CLIENT,
    Role.PROFESSIONAL: CancellationReason.PROFESSIONAL,
    Role.ADMIN: CancellationReason.ADMIN,
}
_PARTY = {Role.CLIENT: Party.CLIENT, Role.PROFESSIONAL: Party.PROFESSIONAL, Role.ADMIN: Party.ADMIN}


@blp.route("")
class Bookings(MethodView):
    @protected(Role.CLIENT)
    @idempotent(required=True)
    @blp.arguments(NewBookingSchema)
    @blp.response(201, BookingSchema)
    def post(self, body: BookingRequest) -> tuple[Body, int]:
        """Hold a slot: a pending booking and the payment to complete it.

        Requires an ``Idempotency-Key``: a retry with the same key and body answers the first
        result again (``Idempotent-Replayed: true``) and books nothing more. The key also
        stays with the booking, so a retry whose first answer was never stored finds the hold
        it made instead of making another.

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
            idempotency_key=current_key() or "",
        )
        try:
            receipt = services.create_booking(
                cmd, uow=app.uow(), payments=app.payments, clock=app.clock,
                limits=app.settings.hold_limits,
            )
        except PaymentUnavailable:  # the hold was cancelled: its payment could not be opened
            outcomes.booking_cancelled(CancellationReason.PAYMENT_ERROR)
            raise
        outcomes.booking_answered(receipt)
        return receipt_body(receipt), 201

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
    @idempotent()
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


@blp.route("/<uuid:booking_id>/reschedule")
class RescheduleOne(MethodView):
    @protected()
    @idempotent()
    @blp.arguments(RescheduleSchema)
    @blp.response(200, BookingSchema)
    def post(self, body: RescheduleRequest, booking_id: UUID) -> Body:
        """Move the booking to another start, keeping its length, price and payment.

        For its client, its professional or an admin. The new start is checked as a new
        booking's would be (422 with the rule's code, 409 ``slot_unavailable`` if taken) and
        taken, and the old time freed, in one change. A pending booking moves while its hold
        lasts (the hold keeps its expiry); a confirmed one by its client until the
        free-cancellation limit agreed at the hold, by the professional or an admin until it
        starts. Otherwise 409 with the reason: ``booking_not_active``, ``booking_started``,
        ``hold_expired``, ``reschedule_deadline_passed``, ``too_many_reschedules``. A
        ``duration_minutes`` other than the booking's is 422 ``duration_change_refused``: a
        price change is a new booking. Moving it to the start it has changes nothing.
        """
        principal = current_principal()
        app = container()
        _visible(booking_id, principal, app.uow())
        moved = services.reschedule_booking(
            RescheduleBooking(
                booking_id=booking_id, start=body.start, duration=body.duration,
                by=_PARTY[principal.role],
            ),
            uow=app.uow(), clock=app.clock,
            hold_time=timedelta(minutes=app.settings.hold_minutes),
            policy=app.settings.reschedule_policy,
        )  # fmt: skip
        return booking_body(moved)


def _visible(booking_id: UUID, principal: Principal, uow: UnitOfWork) -> Booking:
    """The booking if the caller may see it; otherwise the same 404 as for a missing id."""
    booking = services.get_booking(booking_id, uow=uow)
    if principal.is_admin or principal.user_id in (booking.client_id, booking.professional_id):
        return booking
    raise BookingNotFound("no such booking")
