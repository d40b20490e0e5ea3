"""``GET /professionals/<id>/calendar.ics?token=…``: a professional's private calendar feed.

Calendar apps subscribe to a URL and cannot send credentials, so the URL carries its own: a
random token made by ``POST /professionals/{id}/calendar-feed/rotate`` (shown once, stored as
its hash, see ``adapters.sql.feed_tokens``); rotating it again revokes the URL before. The
clients of the bookings are read in one query, however many bookings. The feed lists confirmed
bookings from 30 days back onwards, and those cancelled in that window (except holds that were
never paid) as ``STATUS:CANCELLED`` so that a subscribed calendar removes them. From the
container it uses ``feed_tokens``, ``uow()`` and ``clock``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from flask import Blueprint, Response, abort, current_app, request

from booking.ics import professional_entry, render_calendar
from booking.model import Booking, BookingStatus, CancellationReason
from booking.ports import BookingQuery, UnitOfWork

calendar_feed = Blueprint("calendar_feed", __name__)

PAST = timedelta(days=30)
PAGE = 100
MAX_ENTRIES = 5000
# Holds that ended unpaid never reached the calendar; there is nothing to cancel there.
NEVER_CONFIRMED = frozenset(
    {
        CancellationReason.PAYMENT_FAILED,
        CancellationReason.PAYMENT_ERROR,
        CancellationReason.HOLD_EXPIRED,
    }
)


def feed_path(professional_id: UUID, token: str) -> str:
    """The path (and token) to give the professional when their token is made."""
    return f"/professionals/{professional_id}/calendar.ics?token={token}"


@calendar_feed.get("/professionals/<uuid:professional_id>/calendar.ics")
def professional_calendar(professional_id: UUID) -> Response:
    container = current_app.extensions["hourbook"]
    if not container.feed_tokens.matches(professional_id, request.args.get("token", "")):
        abort(404)  # the same answer as for an unknown professional: nothing to probe
    since = container.clock.now() - PAST
    uow: UnitOfWork = container.uow()
    with uow:
        professional = uow.professionals.get(professional_id)
        if professional is None:
            abort(404)
        bookings = [
            booking
            for status in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)
            for booking in _every(uow, professional_id, status, since)
            if booking.cancellation_reason not in NEVER_CONFIRMED
        ]
        clients = uow.clients.get_many({b.client_id for b in bookings})
    entries = [
        professional_entry(b, clients.get(b.client_id), stamp=b.updated_at) for b in bookings
    ]
    body = render_calendar(sorted(entries, key=lambda e: e.start), name=professional.name)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _every(
    uow: UnitOfWork, professional_id: UUID, status: BookingStatus, since: datetime
) -> list[Booking]:
    query = BookingQuery(professional_id=professional_id, status=status, starts_from=since,
                         limit=PAGE)
    found: list[Booking] = []
    while len(found) < MAX_ENTRIES:
        page = uow.bookings.list(query)
        found += page
        if len(page) < PAGE:
            break
        query = replace(query, offset=query.offset + PAGE)
    return found
