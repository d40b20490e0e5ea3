"""iCalendar (RFC 5545) text for bookings: one VEVENT per booking, pure string building.

Rules followed: CRLF line endings (3.1); lines folded at 75 octets, continuation lines starting
with one space, never inside a UTF-8 character (3.1); TEXT values escaped (3.3.11); instants in
UTC with the ``Z`` suffix (3.3.5). The UID is the booking id, so a calendar that imported the
confirmation replaces it when a move (new times) or the cancellation (``STATUS:CANCELLED``),
each with a higher ``SEQUENCE``, arrives by mail or through the feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from booking.model import Booking, BookingStatus, Client, Professional

PRODID = "-//hourbook//hourbook booking engine//EN"
_MAX_OCTETS = 75
_CRLF = "\r\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarEntry:
    uid: str
    start: datetime
    end: datetime
    summary: str
    status: str  # CONFIRMED or CANCELLED
    sequence: int
    stamp: datetime
    description: str = ""


def entry_for(
    booking: Booking, *, summary: str, description: str, stamp: datetime
) -> CalendarEntry:
    """The calendar entry of a booking: every move and the cancellation raise its sequence
    (``Booking.calendar_sequence``), under the same UID."""
    cancelled = booking.status is BookingStatus.CANCELLED
    return CalendarEntry(
        uid=str(booking.id),
        start=booking.start,
        end=booking.end,
        summary=summary,
        status="CANCELLED" if cancelled else "CONFIRMED",
        sequence=booking.calendar_sequence,
        stamp=stamp,
        description=description,
    )


def professional_entry(
    booking: Booking, client: Client | None, *, stamp: datetime
) -> CalendarEntry:
    """How a booking appears in the professional's own calendar."""
    who = client.name if client is not None else "a client"
    contact = f"{client.email} {client.phone}".strip() if client is not None else ""
    return entry_for(
        booking,
        summary=f"Booking with {who}",
        description=f"hourbook booking {booking.id}\n{contact}".strip(),
        stamp=stamp,
    )


def client_entry(booking: Booking, professional: Professional, *, stamp: datetime) -> CalendarEntry:
    """How a booking appears in the client's calendar."""
    return entry_for(
        booking,
        summary=f"{professional.name} ({professional.category})",
        description=f"hourbook booking {booking.id}\n{professional.email}",
        stamp=stamp,
    )


def render_calendar(entries: Iterable[CalendarEntry], *, name: str = "hourbook") -> str:
    """A whole VCALENDAR document (``text/calendar``)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for entry in entries:
        lines.extend(_event_lines(entry))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + _CRLF for line in lines)


def _event_lines(entry: CalendarEntry) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(entry.uid)}",
        f"DTSTAMP:{utc_stamp(entry.stamp)}",
        f"DTSTART:{utc_stamp(entry.start)}",
        f"DTEND:{utc_stamp(entry.end)}",
        f"SUMMARY:{escape_text(entry.summary)}",
    ]
    if entry.description:
        lines.append(f"DESCRIPTION:{escape_text(entry.description)}")
    lines += [f"STATUS:{entry.status}", f"SEQUENCE:{entry.sequence}", "END:VEVENT"]
    return lines


def utc_stamp(instant: datetime) -> str:
    """``20260601T100000Z``: a UTC DATE-TIME (aware datetimes only)."""
    if instant.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, joined by CRLF + space."""
    pieces: list[str] = []
    current = ""
    limit = _MAX_OCTETS
    for char in line:
        if len((current + char).encode()) > limit:
            pieces.append(current)
            current = ""
            limit = _MAX_OCTETS - 1  # continuation lines spend one octet on the leading space
        current += char
    pieces.append(current)
    return (_CRLF + " ").join(pieces)
