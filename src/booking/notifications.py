"""The emails each domain event causes, rendered as plain text (pure: no sending here).

- BookingConfirmed: client and professional, with an .ics attachment;
- BookingCancelled: the client always; the professional only if the booking was confirmed
  (a hold that expired or was declined never reached their calendar), also with an .ics that
  cancels the entry;
- BookingRescheduled: with the old and the new time, the client always; the professional,
  and an .ics that moves the entry (same UID, higher SEQUENCE), only if the booking was
  confirmed (a pending hold never reached their calendar: its confirmation gives the new time);
- RefundIssued: the client;
- reminders: both, before the start (``reminder_emails``, sent by the worker's schedule).

Each email gives the time in its recipient's zone, and the other party's beside it when
theirs differs (``booking.local_time``): the professional reads in their own zone; the client in
theirs, or in the professional's if they gave none. Subjects carry the recipient's time only.

Stored values (names, addresses) reach mail headers, so each is made one clean line of bounded
length first (``one_line``): building an email from whatever the database holds never raises.
A payment that arrived after its hold had ended is told as such, not as an unpaid hold.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from booking import ics
from booking.events import (
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
    Event,
    RefundIssued,
)
from booking.local_time import Viewpoint, describe, for_client, for_professional, headline
from booking.model import Booking, CancellationReason, Client, Professional
from booking.ports import Email, UnitOfWork
from booking.slot import Slot

CALENDAR_MIME = "text/calendar"
_REASONS = {
    "client": "the client cancelled it",
    "professional": "the professional cancelled it",
    "admin": "it was cancelled by the hourbook team",
    "payment_failed": "the payment did not go through",
    "payment_error": "the payment could not be started",
    "hold_expired": "it was not paid in time",
}
# Reasons that end a booking before it was paid: a refund after one of them is for a payment
# that arrived too late.
_UNPAID_REASONS = frozenset(
    {CancellationReason.HOLD_EXPIRED, CancellationReason.PAYMENT_FAILED,
     CancellationReason.PAYMENT_ERROR}
)  # fmt: skip
NAME_LIMIT = 100  # characters of a name or address shown in a subject or a greeting
SUBJECT_LIMIT = 200


def one_line(value: str, limit: int = NAME_LIMIT) -> str:
    """``value`` as one line fit for a mail header: line breaks and control characters become
    spaces, runs of spaces one, and more than ``limit`` characters end in an ellipsis."""
    kept = "".join(" " if unicodedata.category(c) in _BREAKING else c for c in value)
    text = " ".join(kept.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


_BREAKING = frozenset({"Cc", "Zl", "Zp"})  # controls (CR, LF, tab, ...), line/paragraph separators


def emails_for(event: Event, uow: UnitOfWork) -> list[Email]:
    """Every email ``event`` should cause; none if its booking or people no longer exist."""
    with uow:
        booking = uow.bookings.get(event.booking_id)
        if booking is None:
            return []
        professional = uow.professionals.get(booking.professional_id)
        client = uow.clients.get(booking.client_id)
    if professional is None or client is None:
        return []
    if isinstance(event, BookingConfirmed):
        return confirmation_emails(booking, professional, client, event.occurred_at)
    if isinstance(event, BookingCancelled):
        return cancellation_emails(event, booking, professional, client)
    if isinstance(event, BookingRescheduled):
        return rescheduled_emails(event, booking, professional, client)
    if isinstance(event, RefundIssued):
        return [refund_email(event, booking, professional, client)]
    return []


def confirmation_emails(
    booking: Booking, professional: Professional, client: Client, stamp: datetime
) -> list[Email]:
    mine, theirs = _times(booking, professional, client)
    pro, who = one_line(professional.name), one_line(client.name)
    return [
        _email(
            client.email,
            f"Booking confirmed: {pro}, {mine.short}",
            _lines(
                f"Hello {who},",
                f"your booking with {pro} is confirmed for {mine.full}.",
                f"Paid: {money(booking.total_price_cents, booking.currency)}.",
                f"Booking reference: {booking.id}",
            ),
            [_invite(ics.client_entry(booking, professional, stamp=stamp))],
        ),
        _email(
            professional.email,
            f"New booking: {who}, {theirs.short}",
            _lines(
                f"Hello {pro},",
                f"{who} booked you for {theirs.full}.",
                f"Contact: {one_line(client.email)} {one_line(client.phone)}".rstrip(),
                f"Booking reference: {booking.id}",
            ),
            [_invite(ics.professional_entry(booking, client, stamp=stamp))],
        ),
    ]


def cancellation_emails(
    event: BookingCancelled, booking: Booking, professional: Professional, client: Client
) -> list[Email]:
    mine, theirs = _times(booking, professional, client)
    pro, who = one_line(professional.name), one_line(client.name)
    if not event.was_confirmed and booking.refund_due_cents:
        return [_paid_too_late_email(booking, pro, who, client.email, mine)]
    why = _REASONS.get(event.reason, "it was cancelled")
    refund = (
        f"You will get {money(booking.refund_due_cents, booking.currency)} back."
        if booking.refund_due_cents
        else ""
    )
    emails = [
        _email(
            client.email,
            f"Booking cancelled: {pro}, {mine.short}",
            _lines(
                f"Hello {who},",
                f"your booking with {pro} for {mine.full} is cancelled: {why}.",
                refund,
                f"Booking reference: {booking.id}",
            ),
            _cancelled_invite(event, booking, professional, client, for_client=True),
        )
    ]
    if event.was_confirmed:
        emails.append(
            _email(
                professional.email,
                f"Booking cancelled: {who}, {theirs.short}",
                _lines(
                    f"Hello {pro},",
                    f"the booking with {who} for {theirs.full} is cancelled: {why}.",
                    "The time is free again.",
                    f"Booking reference: {booking.id}",
                ),
                _cancelled_invite(event, booking, professional, client, for_client=False),
            )
        )
    return emails


def rescheduled_emails(
    event: BookingRescheduled, booking: Booking, professional: Professional, client: Client
) -> list[Email]:
    """The move as it was made: the times and the SEQUENCE come from the event, so a booking
    moved twice before the mail went out is told twice, each time right."""
    before = replace(booking, slot=Slot(event.previous_start, event.previous_end), events=[])
    after = replace(booking, slot=Slot(event.start, event.end), events=[])
    view_c, view_p = for_client(professional, client), for_professional(professional, client)
    was, now = describe(before.slot, view_c), describe(after.slot, view_c)
    was_p, now_p = describe(before.slot, view_p), describe(after.slot, view_p)
    pro, who = one_line(professional.name), one_line(client.name)
    emails = [
        _email(
            client.email,
            f"Booking moved: {pro}, {headline(after.slot, view_c)}",
            _lines(
                f"Hello {who},",
                f"your booking with {pro} has moved from {was} to {now}.",
                "The price and your payment stay as they were.",
                f"Booking reference: {booking.id}",
            ),
            _moved_invite(event, after, professional, client, for_client=True),
        )
    ]
    if event.was_confirmed:
        emails.append(
            _email(
                professional.email,
                f"Booking moved: {who}, {headline(after.slot, view_p)}",
                _lines(
                    f"Hello {pro},",
                    f"the booking with {who} has moved from {was_p} to {now_p}.",
                    "The earlier time is free again.",
                    f"Booking reference: {booking.id}",
                ),
                _moved_invite(event, after, professional, client, for_client=False),
            )
        )
    return emails


def _moved_invite(
    event: BookingRescheduled,
    after: Booking,
    professional: Professional,
    client: Client,
    *,
    for_client: bool,
) -> list[tuple[str, str, str]]:
    if not event.was_confirmed:
        return []  # no entry was sent yet: the confirmation will carry the new time
    entry = (
        ics.client_entry(after, professional, stamp=event.occurred_at)
        if for_client
        else ics.professional_entry(after, client, stamp=event.occurred_at)
    )
    # The entry as of this move, even if the booking has changed again since.
    return [_invite(replace(entry, status="CONFIRMED", sequence=event.sequence))]


def _paid_too_late_email(booking: Booking, pro: str, who: str, to: str, when: _Times) -> Email:
    # The hold ended (expired, or was given up) before its payment was recorded, then the
    # payment turned out to have succeeded: the client paid, so "not paid in time" is untrue.
    paid = money(booking.refund_due_cents, booking.currency)
    return _email(
        to,
        f"Payment refunded: {pro}, {when.short}",
        _lines(
            f"Hello {who},",
            f"your payment of {paid} for the booking with {pro} on {when.full} arrived after the"
            " hold on that time had ended, so the booking could not be made.",
            f"Your payment is refunded in full: you will get {paid} back.",
            f"Booking reference: {booking.id}",
        ),
    )


def refund_email(
    event: RefundIssued, booking: Booking, professional: Professional, client: Client
) -> Email:
    amount = money(event.amount_cents, event.currency)
    pro = one_line(professional.name)
    when = describe(booking.slot, for_client(professional, client))
    if booking.cancellation_reason in _UNPAID_REASONS:
        what = (
            f"we refunded {amount} in full: your payment for the booking with {pro} ({when})"
            " arrived after the hold on that time had ended, so the booking was not made."
        )
    else:
        what = f"we refunded {amount} for your booking with {pro} ({when})."
    return _email(
        client.email,
        f"Refund issued: {amount}",
        _lines(
            f"Hello {one_line(client.name)},",
            what,
            "It reaches your card within 5-10 business days.",
            f"Booking reference: {booking.id}",
        ),
    )


def reminder_emails(booking: Booking, professional: Professional, client: Client) -> list[Email]:
    mine, theirs = _times(booking, professional, client)
    pro, who = one_line(professional.name), one_line(client.name)
    return [
        _email(
            client.email,
            f"Reminder: {pro}, {mine.short}",
            _lines(
                f"Hello {who},",
                f"a reminder of your booking with {pro} on {mine.full}.",
                f"Booking reference: {booking.id}",
            ),
        ),
        _email(
            professional.email,
            f"Reminder: {who}, {theirs.short}",
            _lines(
                f"Hello {pro},",
                f"a reminder of your booking with {who} on {theirs.full}.",
                f"Booking reference: {booking.id}",
            ),
        ),
    ]


def _email(
    to: str, subject: str, body: str, attachments: list[tuple[str, str, str]] | None = None
) -> Email:
    """Header fields cleaned here, whatever the caller put in them."""
    return Email(
        to=one_line(to, SUBJECT_LIMIT),
        subject=one_line(subject, SUBJECT_LIMIT),
        body=body,
        attachments=attachments or [],
    )


@dataclass(frozen=True, slots=True)
class _Times:
    """A booking's time for one reader: ``short`` for a subject, ``full`` for the body."""

    short: str
    full: str


def _times(booking: Booking, professional: Professional, client: Client) -> tuple[_Times, _Times]:
    """The booking's time as the client reads it, and as the professional does."""
    views = for_client(professional, client), for_professional(professional, client)
    client_view, professional_view = (
        _Times(headline(booking.slot, view), describe(booking.slot, view)) for view in views
    )
    return client_view, professional_view


def describe_time(booking: Booking, professional: Professional) -> str:
    """``Monday 1 June 2026, 10:00-11:00 (Europe/Berlin, UTC+2)`` (with an en dash), in the
    professional's zone only. A message to a client is written with ``local_time.for_client``
    instead."""
    return headline(booking.slot, Viewpoint(zone=professional.zone))


def money(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency.upper()}"


def _invite(entry: ics.CalendarEntry) -> tuple[str, str, str]:
    return ("booking.ics", CALENDAR_MIME, ics.render_calendar([entry]))


def _cancelled_invite(
    event: BookingCancelled,
    booking: Booking,
    professional: Professional,
    client: Client,
    *,
    for_client: bool,
) -> list[tuple[str, str, str]]:
    if not event.was_confirmed:
        return []  # the entry was never sent, so there is nothing to cancel
    entry = (
        ics.client_entry(booking, professional, stamp=event.occurred_at)
        if for_client
        else ics.professional_entry(booking, client, stamp=event.occurred_at)
    )
    return [_invite(entry)]


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line) + "\n"
