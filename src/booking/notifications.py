"""The emails each domain event causes, rendered as plain text (pure: no sending here).

- BookingConfirmed: client and professional, with an .ics attachment;
- BookingCancelled: the client always; the professional only if the booking was confirmed
  (a hold that expired or was declined never reached their calendar), also with an .ics that
  cancels the entry;
- RefundIssued: the client;
- reminders: both, before the start (``reminder_emails``, sent by the worker's schedule).

Times are shown in the professional's time zone, where the appointment happens.
"""

from __future__ import annotations

from datetime import datetime

from booking import ics
from booking.events import BookingCancelled, BookingConfirmed, Event, RefundIssued
from booking.model import Booking, Client, Professional
from booking.ports import Email, UnitOfWork

CALENDAR_MIME = "text/calendar"
_REASONS = {
    "client": "the client cancelled it",
    "professional": "the professional cancelled it",
    "admin": "it was cancelled by the hourbook team",
    "payment_failed": "the payment did not go through",
    "payment_error": "the payment could not be started",
    "hold_expired": "it was not paid in time",
}


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
    if isinstance(event, RefundIssued):
        return [refund_email(event, booking, professional, client)]
    return []


def confirmation_emails(
    booking: Booking, professional: Professional, client: Client, stamp: datetime
) -> list[Email]:
    when = describe_time(booking, professional)
    return [
        Email(
            to=client.email,
            subject=f"Booking confirmed: {professional.name}, {when}",
            body=_lines(
                f"Hello {client.name},",
                f"your booking with {professional.name} is confirmed for {when}.",
                f"Paid: {money(booking.total_price_cents, booking.currency)}.",
                f"Booking reference: {booking.id}",
            ),
            attachments=[_invite(ics.client_entry(booking, professional, stamp=stamp))],
        ),
        Email(
            to=professional.email,
            subject=f"New booking: {client.name}, {when}",
            body=_lines(
                f"Hello {professional.name},",
                f"{client.name} booked you for {when}.",
                f"Contact: {client.email} {client.phone}".rstrip(),
                f"Booking reference: {booking.id}",
            ),
            attachments=[_invite(ics.professional_entry(booking, client, stamp=stamp))],
        ),
    ]


def cancellation_emails(
    event: BookingCancelled, booking: Booking, professional: Professional, client: Client
) -> list[Email]:
    when = describe_time(booking, professional)
    why = _REASONS.get(event.reason, "it was cancelled")
    refund = (
        f"You will get {money(booking.refund_due_cents, booking.currency)} back."
        if booking.refund_due_cents
        else ""
    )
    emails = [
        Email(
            to=client.email,
            subject=f"Booking cancelled: {professional.name}, {when}",
            body=_lines(
                f"Hello {client.name},",
                f"your booking with {professional.name} for {when} is cancelled: {why}.",
                refund,
                f"Booking reference: {booking.id}",
            ),
            attachments=_cancelled_invite(event, booking, professional, client, for_client=True),
        )
    ]
    if event.was_confirmed:
        emails.append(
            Email(
                to=professional.email,
                subject=f"Booking cancelled: {client.name}, {when}",
                body=_lines(
                    f"Hello {professional.name},",
                    f"the booking with {client.name} for {when} is cancelled: {why}.",
                    "The time is free again.",
                    f"Booking reference: {booking.id}",
                ),
                attachments=_cancelled_invite(
                    event, booking, professional, client, for_client=False
                ),
            )
        )
    return emails


def refund_email(
    event: RefundIssued, booking: Booking, professional: Professional, client: Client
) -> Email:
    return Email(
        to=client.email,
        subject=f"Refund issued: {money(event.amount_cents, event.currency)}",
        body=_lines(
            f"Hello {client.name},",
            f"we refunded {money(event.amount_cents, event.currency)} for your booking with"
            f" {professional.name} ({describe_time(booking, professional)}).",
            "It reaches your card within 5-10 business days.",
            f"Booking reference: {booking.id}",
        ),
    )


def reminder_emails(booking: Booking, professional: Professional, client: Client) -> list[Email]:
    when = describe_time(booking, professional)
    return [
        Email(
            to=client.email,
            subject=f"Reminder: {professional.name}, {when}",
            body=_lines(
                f"Hello {client.name},",
                f"a reminder of your booking with {professional.name} on {when}.",
                f"Booking reference: {booking.id}",
            ),
        ),
        Email(
            to=professional.email,
            subject=f"Reminder: {client.name}, {when}",
            body=_lines(
                f"Hello {professional.name},",
                f"a reminder of your booking with {client.name} on {when}.",
                f"Booking reference: {booking.id}",
            ),
        ),
    ]


def describe_time(booking: Booking, professional: Professional) -> str:
    """``Monday 1 June 2026, 10:00-11:00 (Europe/Berlin)``, in the professional's zone."""
    start = booking.start.astimezone(professional.zone)
    end = booking.end.astimezone(professional.zone)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    return f"{day}, {start:%H:%M}-{end:%H:%M} ({professional.time_zone})"


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
