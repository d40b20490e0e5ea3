"""My bookings: the list (upcoming and past), one booking's status (turning "confirmed" by
itself when the webhook lands), cancelling with the refund shown first, and an .ics file."""

from __future__ import annotations

from uuid import UUID

from flask import Response, jsonify, redirect, render_template, request, url_for

from booking import catalogue, services
from booking.commands import CancelBooking
from booking.errors import BookingError
from booking.ics import client_entry, render_calendar
from booking.model import Booking, BookingStatus, CancellationReason, Professional
from booking.ports import BookingQuery
from booking.pricing import refund_due_cents
from entrypoints.api import outcomes
from entrypoints.api.context import container
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.ownership import own_booking
from entrypoints.web.sessions import client_required, signed_in
from entrypoints.web.zones import visitor_zone

LISTED = 200
_OUTCOMES = {
    CancellationReason.PAYMENT_FAILED: text.STATUS_PAYMENT_FAILED,
    CancellationReason.HOLD_EXPIRED: text.STATUS_HOLD_EXPIRED,
    CancellationReason.PAYMENT_ERROR: text.STATUS_PAYMENT_ERROR,
}

Page = str | tuple[str, int] | Response


def status_sentence(booking: Booking) -> str:
    if booking.status is BookingStatus.PENDING:
        return text.STATUS_PENDING
    if booking.status is BookingStatus.CONFIRMED:
        return text.STATUS_CONFIRMED
    reason = booking.cancellation_reason
    return _OUTCOMES.get(reason, text.STATUS_CANCELLED) if reason else text.STATUS_CANCELLED


@web.get("/my/bookings", endpoint="my_bookings")
@client_required
def my_bookings() -> str:
    visitor = signed_in()
    app = container()
    with app.reader() as uow:
        found = uow.bookings.list(BookingQuery(client_id=visitor.user_id, limit=LISTED))
    now = app.clock.now()
    upcoming = sorted((b for b in found if b.is_active and b.end > now), key=lambda b: b.start)
    past = sorted((b for b in found if b not in upcoming), key=lambda b: b.start, reverse=True)
    return render_template(
        "web/my_bookings.html",
        upcoming=upcoming,
        past=past,
        pros=_professionals(found),
        zone=visitor_zone("UTC"),
        status_sentence=status_sentence,
        now=now,
    )


@web.get("/my/bookings/<uuid:booking_id>", endpoint="booking")
@client_required
def booking_page(booking_id: UUID) -> str:
    booking = own_booking(booking_id)
    pro = _professional(booking.professional_id)
    return render_template(
        "web/booking.html",
        booking=booking,
        pro=pro,
        zone=visitor_zone(pro.time_zone),
        sentence=status_sentence(booking),
        may_cancel=_may_cancel(booking),
    )


@web.get("/my/bookings/<uuid:booking_id>/status.json", endpoint="booking_status")
@client_required
def booking_status(booking_id: UUID) -> Response:
    booking = own_booking(booking_id)
    reason = booking.cancellation_reason
    return jsonify(status=booking.status.value, reason=reason.value if reason else None,
                   message=status_sentence(booking))  # fmt: skip


@web.route("/my/bookings/<uuid:booking_id>/cancel", methods=["GET", "POST"], endpoint="cancel")
@client_required
def cancel(booking_id: UUID) -> Page:
    booking = own_booking(booking_id)
    if not _may_cancel(booking):
        return redirect(url_for("web.booking", booking_id=booking.id), code=303)
    app = container()
    if request.method == "POST":
        try:
            services.cancel_booking(
                CancelBooking(booking_id=booking.id, reason=CancellationReason.CLIENT),
                uow=app.uow(), payments=app.payments, clock=app.clock,
            )  # fmt: skip
        except BookingError as error:
            return _cancel_page(booking, error=text.sentence(error.code)), 409
        outcomes.booking_cancelled(CancellationReason.CLIENT)
        return redirect(url_for("web.booking", booking_id=booking.id), code=303)
    return _cancel_page(booking)


def _cancel_page(booking: Booking, error: str | None = None) -> str:
    app = container()
    paid = booking.paid_cents if booking.status is BookingStatus.CONFIRMED else 0
    refund = refund_due_cents(paid_cents=paid, start=booking.start, now=app.clock.now(),
                              reason=CancellationReason.CLIENT, terms=booking.terms)  # fmt: skip
    pro = _professional(booking.professional_id)
    return render_template("web/cancel.html", booking=booking, pro=pro, paid=paid,
                           refund=refund, zone=visitor_zone(pro.time_zone),
                           error=error)  # fmt: skip


@web.get("/my/bookings/<uuid:booking_id>.ics", endpoint="booking_ics")
@client_required
def booking_ics(booking_id: UUID) -> Response:
    booking = own_booking(booking_id)
    pro = _professional(booking.professional_id)
    body = render_calendar([client_entry(booking, pro, stamp=container().clock.now())])
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"',
    })  # fmt: skip


def _may_cancel(booking: Booking) -> bool:
    return booking.is_active and booking.start > container().clock.now()


def _professional(professional_id: UUID) -> Professional:
    return catalogue.get_professional(professional_id, uow=container().reader())


def _professionals(bookings: list[Booking]) -> dict[UUID, Professional]:
    return {pid: _professional(pid) for pid in {b.professional_id for b in bookings}}
