"""Emails built from what the database holds: a stored value cannot stop an email, and a
payment that arrived after its hold had ended is told as such."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from adapters.jobs import tasks
from adapters.notifications.mail import FolderNotifier
from adapters.sql.tables import clients, outbox
from booking import services
from tests.integration.jobs.conftest import World


def run_every_outbox_job(world: World) -> None:
    with world.engine.connect() as connection:
        ids = list(connection.scalars(sa.select(outbox.c.id).order_by(outbox.c.id)))
    for outbox_id in ids:
        tasks.send_notifications(world.context, outbox_id)


def mails_in(folder: Path) -> list[email.message.Message]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_a_client_name_with_a_line_break_still_reaches_the_professional(
    world: World, tmp_path: Path
) -> None:
    hostile = "Mallory\r\nBcc: victim@example.com\x07\u2028" + "x" * 150  # 200 at most
    with world.engine.begin() as connection:  # the API refuses it; older rows may hold it
        connection.execute(sa.update(clients).values(name=hostile))
    world.notifier = FolderNotifier(tmp_path)  # type: ignore[assignment]
    world.confirm(world.book())

    run_every_outbox_job(world)

    sent = {str(mail["To"]): mail for mail in mails_in(tmp_path)}
    new_booking = sent[world.professional.email]
    subject = str(new_booking["Subject"])
    assert subject.startswith("New booking: Mallory Bcc: victim@example.com")
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 200
    assert new_booking["Bcc"] is None
    assert set(sent) == {world.professional.email, world.client.email}


def test_a_payment_whose_webhook_was_lost_is_told_as_late_and_refunded_in_full(
    world: World,
) -> None:
    receipt = world.book()
    world.payments.succeed(str(receipt.payment_intent_id))  # paid; the webhook never comes
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow(), payments=world.payments, clock=world.clock)

    run_every_outbox_job(world)  # the hold's cancellation, then the refund it caused
    run_every_outbox_job(world)

    bodies = [mail.body for mail in world.notifier.sent]
    subjects = [mail.subject.split(":")[0] for mail in world.notifier.sent]
    assert subjects == ["Payment refunded", "Refund issued"]
    assert all("arrived after the hold on that time had ended" in body for body in bodies)
    assert "in full" in bodies[1] and "60.00 USD" in bodies[1]
    assert not any("not paid in time" in body for body in bodies)
    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]


def test_an_unpaid_expired_hold_is_still_told_it_was_not_paid_in_time(world: World) -> None:
    world.book()
    world.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=world.uow(), payments=world.payments, clock=world.clock)

    run_every_outbox_job(world)

    [mail] = world.notifier.sent
    assert mail.subject.startswith("Booking cancelled")
    assert "it was not paid in time" in mail.body
