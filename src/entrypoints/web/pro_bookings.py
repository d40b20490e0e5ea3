"""The professional's appointments (``/pro/bookings``): the upcoming ones, cancelling one with
the refund shown first (the client gets all they paid: the professional cancels), and the
private calendar feed's link to copy (``/pro/calendar``), made anew by each rotation.

Cancelling calls ``services.cancel_booking`` with the professional's reason, as ``POST
/bookings/{id}/cancel`` does for a professional; the feed's token is rotated by the container's
``feed_tokens`` as ``POST /professionals/{id}/calendar-feed/rotate`` does.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from flask import flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from booking import services
from booking.commands import CancelBooking
from booking.errors import BookingError, BookingNotFound
from booking.model import Booking, BookingStatus, CancellationReason, Professional
from booking.ports import BookingQuery
from booking.pricing import refund_due_cents
from entrypoints.api import outcomes
from entrypoints.api.calendar_feed import feed_path
from entrypoints.api.context import container
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.format import money
from entrypoints.web.pro_account import profile_required

Page = str | tuple[str, int] | Response
LISTED = 200
# Bookings that started up to a day ago may still be running; the list keeps those not ended.
_RUNNING = timedelta(days=1)


@web.get("/pro/bookings", endpoint="pro_bookings")
@profile_required
def bookings(pro: Professional) -> str:
    app = container()
    now = app.clock.now()
    query = BookingQuery(professional_id=pro.id, starts_from=now - _RUNNING, limit=LISTED)
    with app.reader() as uow:
        found = [b for b in uow.bookings.list(query) if b.is_active and b.end > now]
        clients = uow.clients.get_many({b.client_id for b in found})
    return render_template(
        "web/pro/bookings.html",
        pro=pro,
        zone=pro.zone,
        upcoming=sorted(found, key=lambda b: b.start),
        clients=clients,
        now=now,
    )


@web.route("/pro/bookings/<uuid:booking_id>/cancel", methods=["GET", "POST"],
           endpoint="pro_cancel")  # fmt: skip
@profile_required
def cancel(pro: Professional, booking_id: UUID) -> Page:
    app = container()
    booking = services.get_booking(booking_id, uow=app.reader())
    if booking.professional_id != pro.id:
        raise BookingNotFound("no such booking")  # another's booking is "not found", as in the API
    if not (booking.is_active and booking.start > app.clock.now()):
        return redirect(url_for("web.pro_bookings"), code=303)
    refund = _refund(booking)
    if request.method == "POST":
        try:
            services.cancel_booking(
                CancelBooking(booking_id=booking.id, reason=CancellationReason.PROFESSIONAL),
                uow=app.uow(), payments=app.payments, clock=app.clock,
            )  # fmt: skip
        except BookingError as error:
            return _cancel_page(pro, booking, refund, error=text.sentence(error.code)), 409
        outcomes.booking_cancelled(CancellationReason.PROFESSIONAL)
        amount = money(refund, booking.currency)
        flash(text.PRO_CANCELLED_REFUND % {"refund": amount} if refund else text.PRO_CANCELLED)
        return redirect(url_for("web.pro_bookings"), code=303)
    return _cancel_page(pro, booking, refund)


def _refund(booking: Booking) -> int:
    paid = booking.paid_cents if booking.status is BookingStatus.CONFIRMED else 0
    return refund_due_cents(paid_cents=paid, start=booking.start, now=container().clock.now(),
                            reason=CancellationReason.PROFESSIONAL,
                            terms=booking.terms)  # fmt: skip


def _cancel_page(pro: Professional, booking: Booking, refund: int,
                 error: str | None = None) -> str:  # fmt: skip
    with container().reader() as uow:
        client = uow.clients.get_many({booking.client_id}).get(booking.client_id)
    paid = booking.paid_cents if booking.status is BookingStatus.CONFIRMED else 0
    return render_template("web/pro/cancel.html", pro=pro, booking=booking, client=client,
                           paid=paid, refund=refund, zone=pro.zone, error=error)  # fmt: skip


@web.route("/pro/calendar", methods=["GET", "POST"], endpoint="pro_calendar")
@profile_required
def calendar_link(pro: Professional) -> Page:
    url = None
    if request.method == "POST":
        app = container()
        token = app.feed_tokens.rotate(pro.id, app.clock.now())
        url = app.settings.public_url.rstrip("/") + feed_path(pro.id, token)
    response = make_response(render_template("web/pro/calendar.html", pro=pro, feed_url=url))
    response.headers["Cache-Control"] = "no-store"  # the link is a credential: never cached
    return response
