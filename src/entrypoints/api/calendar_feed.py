"""``GET /professionals/<id>/calendar.ics?token=…``: a professional's private calendar feed.

Calendar apps subscribe to a URL and cannot send credentials, so the URL carries its own: the
token is an HMAC-SHA256 of the professional's id under the app's secret key, compared in
constant time. Changing the secret key revokes every feed URL. The feed lists confirmed
bookings from 30 days back onwards, and those cancelled in that window (except holds that were
never paid) as ``STATUS:CANCELLED`` so that a subscribed calendar removes them. From the
container it uses ``settings.secret_key``, ``uow()`` and ``clock``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from flask import Blueprint, Response, abort, current_app, request

from booking.ics import professional_entry, render_calendar
from booking.model import Booking, BookingStatus, CancellationReason
from booking.ports import BookingQuery, UnitOfWork
from entrypoints.keys import Purpose, derive_key

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


def feed_token(secret_key: str, professional_id: UUID) -> str:
    """HMAC of the id under the feed's own key, derived from the app's ``secret_key``."""
    key = derive_key(secret_key, Purpose.CALENDAR_FEED)
    message = f"calendar-feed:{professional_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def feed_path(secret_key: str, professional_id: UUID) -> str:
    """The path (and token) to give the professional, e.g. in their profile."""
    token = feed_token(secret_key, professional_id)
    return f"/professionals/{professional_id}/calendar.ics?token={token}"


@calendar_feed.get("/professionals/<uuid:professional_id>/calendar.ics")
def professional_calendar(professional_id: UUID) -> Response:
    container = current_app.extensions["hourbook"]
    given = request.args.get("token", "")
    expected = feed_token(container.settings.secret_key, professional_id)
    if not hmac.compare_digest(given.encode(), expected.encode()):
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
        clients = {b.client_id: uow.clients.get(b.client_id) for b in bookings}
    entries = [professional_entry(b, clients[b.client_id], stamp=b.updated_at) for b in bookings]
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
