"""What a move tells each party: the old and the new time, and a calendar entry with the same
UID and a higher SEQUENCE."""

from __future__ import annotations

from datetime import timedelta

from adapters.sql.event_codec import decode_event
from adapters.sql.rows import outbox_values
from booking import ics, services
from booking.commands import CancelBooking, RescheduleBooking
from booking.events import BookingRescheduled
from booking.model import CancellationReason, Party
from booking.notifications import emails_for
from tests.factories import MONDAY, at
from tests.unit.conftest import World
from tests.unit.test_reschedule import confirmed

THURSDAY = MONDAY + timedelta(days=3)
OLD = "Thursday 4 June 2026, 10:00\u201311:00 (UTC, UTC+0)"
NEW = "Thursday 4 June 2026, 14:00\u201315:00 (UTC, UTC+0)"


def move(world: World, booking_id: object, hour: int, by: Party = Party.CLIENT) -> None:
    services.reschedule_booking(
        RescheduleBooking(booking_id=booking_id, start=at(THURSDAY, hour), by=by),  # type: ignore[arg-type]
        uow=world.uow, clock=world.clock,
    )


def moves(world: World) -> list[BookingRescheduled]:
    return [e for e in world.store.outbox if isinstance(e, BookingRescheduled)]


def test_moving_a_confirmed_booking_mails_both_parties_the_old_and_the_new_time(
    world: World,
) -> None:
    receipt = confirmed(world, 10)
    move(world, receipt.booking_id, 14)

    emails = emails_for(moves(world)[0], world.uow)

    assert [e.to for e in emails] == [world.client.email, world.professional.email]
    for email in emails:
        assert email.subject.startswith("Booking moved:") and NEW in email.subject
        assert f"from {OLD} to {NEW}" in email.body
    assert "your payment stay as they were" in emails[0].body
    assert "The earlier time is free again." in emails[1].body


def test_the_moved_invite_keeps_the_uid_and_raises_the_sequence(world: World) -> None:
    receipt = confirmed(world, 10)
    move(world, receipt.booking_id, 14)

    emails = emails_for(moves(world)[0], world.uow)

    for email in emails:
        [(filename, mime, text)] = email.attachments
        assert (filename, mime) == ("booking.ics", "text/calendar")
        assert f"UID:{receipt.booking_id}\r\n" in text
        assert "DTSTART:20260604T140000Z\r\n" in text and "SEQUENCE:1\r\n" in text
        assert "STATUS:CONFIRMED\r\n" in text


def test_a_booking_moved_twice_before_the_mail_is_sent_is_told_each_move_as_it_was(
    world: World,
) -> None:
    receipt = confirmed(world, 10)
    move(world, receipt.booking_id, 14)
    move(world, receipt.booking_id, 15)

    first, second = (emails_for(event, world.uow)[0] for event in moves(world))

    assert f"from {OLD} to {NEW}" in first.body and "SEQUENCE:1" in first.attachments[0][2]
    assert "to Thursday 4 June 2026, 15:00\u201316:00 (UTC, UTC+0)" in second.body
    assert "SEQUENCE:2" in second.attachments[0][2]


def test_moving_a_pending_hold_mails_only_the_client_and_sends_no_invite(world: World) -> None:
    receipt = world.book(10, days_ahead=3)
    move(world, receipt.booking_id, 14, by=Party.PROFESSIONAL)

    [email] = emails_for(moves(world)[0], world.uow)

    assert email.to == world.client.email and f"from {OLD} to {NEW}" in email.body
    assert list(email.attachments) == []


def test_a_cancellation_after_a_move_raises_the_sequence_again(world: World) -> None:
    receipt = confirmed(world, 10)
    move(world, receipt.booking_id, 14)
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.PROFESSIONAL),
        uow=world.uow, payments=world.payments, clock=world.clock,
    )
    booking = world.stored(receipt.booking_id)

    text = ics.render_calendar([ics.client_entry(booking, world.professional, stamp=MONDAY)])

    assert "STATUS:CANCELLED\r\n" in text and "SEQUENCE:2\r\n" in text
    assert f"UID:{receipt.booking_id}\r\n" in text


def test_a_move_comes_back_from_the_outbox_as_it_was_recorded(world: World) -> None:
    receipt = confirmed(world, 10)
    move(world, receipt.booking_id, 14, by=Party.ADMIN)
    [event] = moves(world)

    row = outbox_values(event, MONDAY)

    assert decode_event(row["event_type"], row["payload"]) == event
