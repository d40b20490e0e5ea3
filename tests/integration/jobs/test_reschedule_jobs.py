"""After a move, on SQLite and PostgreSQL: the notification job mails both parties the old
and the new time once, and reminders follow the new start."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.jobs import tasks
from adapters.jobs.outbox_relay import OutboxRelay
from booking import services
from booking.commands import RescheduleBooking
from booking.model import Party
from tests.factories import MONDAY, at
from tests.integration.jobs.conftest import World


def move(world: World, booking_id: object, start: datetime) -> None:
    services.reschedule_booking(
        RescheduleBooking(booking_id=booking_id, start=start, by=Party.PROFESSIONAL),  # type: ignore[arg-type]
        uow=world.uow(), clock=world.clock,
    )


def run_notifications(world: World) -> None:
    handed: list[int] = []
    OutboxRelay(world.engine).relay_once(lambda outbox_id, job_key: handed.append(outbox_id))
    for outbox_id in handed:
        tasks.send_notifications(world.context, outbox_id)


def test_the_notification_job_mails_a_move_to_both_parties_once(world: World) -> None:
    receipt = world.book(10)
    world.confirm(receipt)
    run_notifications(world)
    world.notifier.sent.clear()

    move(world, receipt.booking_id, at(MONDAY, 14))
    run_notifications(world)
    run_notifications(world)

    assert world.recipients() == ["ada@example.com", "cleo@example.com"]
    for email in world.notifier.sent:
        assert email.subject.startswith("Booking moved:")
        assert "from Monday 1 June 2026, 10:00\u201311:00 (UTC, UTC+0) to" in email.body
        assert "SEQUENCE:1" in email.attachments[0][2]


def test_reminders_follow_the_new_start(world: World) -> None:
    receipt = world.book(10)
    world.confirm(receipt)
    assert tasks.send_reminders(world.context) == 2  # Monday 10:00, within the day ahead
    world.notifier.sent.clear()

    move(world, receipt.booking_id, at(MONDAY, 14))
    reminded_again = tasks.send_reminders(world.context)
    move(world, receipt.booking_id, at(MONDAY, 10) + timedelta(days=3))
    beyond_the_lead = tasks.send_reminders(world.context)

    assert (reminded_again, beyond_the_lead) == (2, 0)
    assert all("14:00\u201315:00" in email.subject for email in world.notifier.sent)
