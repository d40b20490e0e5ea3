"""Which emails each event causes, to whom, and what they say."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from booking import services
from booking.commands import CancelBooking, RecordPaymentSucceeded
from booking.events import BookingCancelled, BookingConfirmed, Event, RefundIssued
from booking.model import CancellationReason
from booking.notifications import describe_time, emails_for, money, one_line
from booking.receipts import BookingReceipt
from tests.unit.conftest import World


def events_of(world: World) -> list[Event]:
    return list(world.store.outbox)


def confirm(world: World, hour: int = 10) -> BookingReceipt:
    receipt = world.book(hour)
    services.record_payment_succeeded(
        RecordPaymentSucceeded(
            payment_intent_id=str(receipt.payment_intent_id),
            amount_received_cents=receipt.total_price_cents, currency=receipt.currency,
        ),
        uow=world.uow, clock=world.clock,
    )
    return receipt


def test_a_confirmation_mails_client_and_professional_with_a_calendar_invite(world: World) -> None:
    confirm(world)
    confirmed = next(e for e in events_of(world) if isinstance(e, BookingConfirmed))

    emails = emails_for(confirmed, world.uow)

    assert [e.to for e in emails] == [world.client.email, world.professional.email]
    assert emails[0].subject.startswith("Booking confirmed: Ada Plumber")
    assert "60.00 USD" in emails[0].body
    for email in emails:
        [(filename, mime, text)] = email.attachments
        assert (filename, mime) == ("booking.ics", "text/calendar")
        assert "STATUS:CONFIRMED" in text


def test_cancelling_a_confirmed_booking_mails_both_and_cancels_the_invite(world: World) -> None:
    receipt = confirm(world)
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.PROFESSIONAL),
        uow=world.uow, payments=world.payments, clock=world.clock,
    )
    cancelled = next(e for e in events_of(world) if isinstance(e, BookingCancelled))

    emails = emails_for(cancelled, world.uow)

    assert [e.to for e in emails] == [world.client.email, world.professional.email]
    assert "the professional cancelled it" in emails[0].body
    assert "You will get 60.00 USD back." in emails[0].body
    assert all("STATUS:CANCELLED" in e.attachments[0][2] for e in emails)


def test_an_expired_hold_mails_only_the_client_and_sends_no_invite(world: World) -> None:
    world.book(10)
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    cancelled = next(e for e in events_of(world) if isinstance(e, BookingCancelled))

    emails = emails_for(cancelled, world.uow)

    assert [e.to for e in emails] == [world.client.email]
    assert "it was not paid in time" in emails[0].body and not emails[0].attachments


def test_a_refund_mails_the_client(world: World) -> None:
    receipt = confirm(world)
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow, payments=world.payments, clock=world.clock,
    )
    refund = next(e for e in events_of(world) if isinstance(e, RefundIssued))

    [email] = emails_for(refund, world.uow)

    assert email.to == world.client.email
    assert email.subject == "Refund issued: 30.00 USD"  # less than 24 h ahead: half back


def test_a_requested_booking_sends_nothing(world: World) -> None:
    world.book(10)

    assert emails_for(events_of(world)[0], world.uow) == []


def test_describe_time_gives_the_professionals_zone_and_its_offset(world: World) -> None:
    booking = world.stored(world.book(10).booking_id)

    assert describe_time(booking, world.professional) == (
        "Monday 1 June 2026, 10:00\u201311:00 (UTC, UTC+0)"
    )


def test_money_is_written_with_two_decimals_and_the_currency() -> None:
    assert money(6005, "eur") == "60.05 EUR"


def test_a_stored_name_with_line_breaks_makes_one_line_subjects_and_greetings(
    world: World,
) -> None:
    hostile = "Mallory\r\nBcc: victim@example.com\u2028\x07 " + "x" * 160  # 200 at most
    world.store.clients[world.client.id] = replace(world.client, name=hostile)
    confirm(world)
    confirmed = next(e for e in events_of(world) if isinstance(e, BookingConfirmed))

    emails = emails_for(confirmed, world.uow)

    for email in emails:
        assert email.subject == one_line(email.subject, 200)  # already one clean line
        assert all(c not in email.subject for c in "\r\n\u2028\x07")
        assert len(email.subject) <= 200
    professional_email = emails[1]
    assert professional_email.subject.startswith("New booking: Mallory Bcc: victim@example.com x")
    assert "Mallory Bcc: victim@example.com xxx" in professional_email.body.splitlines()[1]


def test_one_line_replaces_breaks_and_controls_and_cuts_with_an_ellipsis() -> None:
    assert one_line("a\r\nb\tc\x00d\u2029e") == "a b c d e"
    assert one_line("  spaced   out  ") == "spaced out"
    assert one_line("x" * 10, limit=5) == "xxxx\u2026"
    assert one_line("short", limit=5) == "short"


def test_a_hold_paid_after_it_expired_is_told_as_a_late_payment_refunded_in_full(
    world: World,
) -> None:
    receipt = world.book(10)
    world.payments.succeed(str(receipt.payment_intent_id))  # paid; the webhook never comes
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    world.run_worker()
    cancelled = next(e for e in events_of(world) if isinstance(e, BookingCancelled))
    refunded = next(e for e in events_of(world) if isinstance(e, RefundIssued))

    [cancel_email] = emails_for(cancelled, world.uow)
    [refund_email] = emails_for(refunded, world.uow)

    assert cancel_email.subject.startswith("Payment refunded: Ada Plumber")
    assert "arrived after the hold on that time had ended" in cancel_email.body
    assert "refunded in full: you will get 60.00 USD back" in cancel_email.body
    assert "not paid in time" not in cancel_email.body
    assert "we refunded 60.00 USD in full" in refund_email.body
    assert "arrived after the hold on that time had ended" in refund_email.body
