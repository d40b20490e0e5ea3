"""Every email gives the appointment's time in its recipient's zone, with the other party's
beside it when theirs differs; a client without a zone reads the professional's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta

import pytest

from booking import catalogue, services
from booking.commands import CancelBooking, RecordPaymentSucceeded
from booking.events import BookingCancelled, BookingConfirmed, RefundIssued
from booking.model import CancellationReason, Client, Professional
from booking.notifications import emails_for, reminder_emails
from booking.ports import Email
from booking.receipts import BookingReceipt
from tests.factories import every_day, make_client, make_professional
from tests.unit.conftest import World

# The booking: Monday 1 June 2026, 16:00-17:00 UTC.
CLIENT_READS = "Monday 1 June 2026, 06:00\u201307:00 (Pacific/Honolulu, UTC\u221210)"
PROFESSIONAL_READS = "Tuesday 2 June 2026, 02:00\u201303:00 (Australia/Sydney, UTC+10)"
CLIENT_FULL = (
    f"{CLIENT_READS} \u2014 Tuesday 2 June 2026, 02:00\u201303:00"
    " for the professional in Australia/Sydney (UTC+10)"
)
PROFESSIONAL_FULL = (
    f"{PROFESSIONAL_READS} \u2014 Monday 1 June 2026, 06:00\u201307:00"
    " for the client in Pacific/Honolulu (UTC\u221210)"
)


class Parties:
    """A professional in Sydney, open around the clock, and a client (Honolulu, or no zone)."""

    def __init__(self, world: World, client_zone: str | None) -> None:
        self.world = world
        self.professional: Professional = catalogue.register_professional(
            make_professional(
                time_zone="Australia/Sydney", availability=every_day(time(0), time(0))
            ),
            uow=world.uow,
        )
        self.client: Client = catalogue.register_client(
            make_client(time_zone=client_zone, email="hilo@example.com"), uow=world.uow
        )

    def book(self) -> BookingReceipt:
        return self.world.book(16, professional_id=self.professional.id, client_id=self.client.id)

    def confirm(self) -> BookingReceipt:
        receipt = self.book()
        services.record_payment_succeeded(
            RecordPaymentSucceeded(
                payment_intent_id=str(receipt.payment_intent_id),
                amount_received_cents=receipt.total_price_cents, currency=receipt.currency,
            ),
            uow=self.world.uow, clock=self.world.clock,
        )  # fmt: skip
        return receipt

    def cancel(self, receipt: BookingReceipt, reason: CancellationReason) -> None:
        services.cancel_booking(
            CancelBooking(booking_id=receipt.booking_id, reason=reason),
            uow=self.world.uow, payments=self.world.payments, clock=self.world.clock,
        )  # fmt: skip

    def emails_of(self, kind: type) -> list[Email]:
        event = next(e for e in self.world.store.outbox if isinstance(e, kind))
        return emails_for(event, self.world.uow)

    def to(self, emails: list[Email], who: str) -> Email:
        address = self.client.email if who == "client" else self.professional.email
        [email] = [e for e in emails if e.to == address]
        return email


Telling = Callable[[Parties], list[Email]]  # what happens, and the emails it causes


@pytest.fixture
def apart(world: World) -> Parties:
    return Parties(world, "Pacific/Honolulu")


def confirmed(parties: Parties) -> list[Email]:
    parties.confirm()
    return parties.emails_of(BookingConfirmed)


def cancelled_by_the_professional(parties: Parties) -> list[Email]:
    parties.cancel(parties.confirm(), CancellationReason.PROFESSIONAL)
    return parties.emails_of(BookingCancelled)


def reminded(parties: Parties) -> list[Email]:
    receipt = parties.confirm()
    booking = parties.world.stored(receipt.booking_id)
    return reminder_emails(booking, parties.professional, parties.client)


@pytest.mark.parametrize("emails", [confirmed, cancelled_by_the_professional, reminded])
def test_each_party_reads_their_own_time_first_and_the_others_beside_it(
    apart: Parties, emails: Telling
) -> None:
    sent = emails(apart)

    to_client, to_professional = apart.to(sent, "client"), apart.to(sent, "professional")

    assert to_client.subject.endswith(CLIENT_READS)
    assert CLIENT_FULL in to_client.body
    assert to_professional.subject.endswith(PROFESSIONAL_READS)
    assert PROFESSIONAL_FULL in to_professional.body
    assert "\u2014" not in to_client.subject + to_professional.subject  # own time only


def test_a_refund_is_told_on_the_clients_clock(apart: Parties) -> None:
    apart.cancel(apart.confirm(), CancellationReason.CLIENT)

    [refund] = apart.emails_of(RefundIssued)

    assert CLIENT_FULL in refund.body


def test_an_expired_hold_is_told_on_the_clients_clock(apart: Parties) -> None:
    apart.book()
    apart.world.clock.advance(timedelta(minutes=16))
    services.expire_holds(
        uow=apart.world.uow, payments=apart.world.payments, clock=apart.world.clock
    )

    [expired] = apart.emails_of(BookingCancelled)

    assert expired.subject.endswith(CLIENT_READS)
    assert CLIENT_FULL in expired.body and "not paid in time" in expired.body


def test_a_hold_paid_too_late_is_told_on_the_clients_clock(apart: Parties) -> None:
    receipt = apart.book()
    apart.world.payments.succeed(str(receipt.payment_intent_id))  # the webhook never comes
    apart.world.clock.advance(timedelta(minutes=16))
    services.expire_holds(
        uow=apart.world.uow, payments=apart.world.payments, clock=apart.world.clock
    )

    [late] = apart.emails_of(BookingCancelled)

    assert late.subject == f"Payment refunded: Ada Plumber, {CLIENT_READS}"
    assert CLIENT_FULL in late.body


@pytest.mark.parametrize("emails", [confirmed, cancelled_by_the_professional, reminded])
def test_a_client_without_a_zone_and_the_professional_both_read_the_professionals_zone(
    world: World, emails: Telling
) -> None:
    parties = Parties(world, None)

    sent = emails(parties)

    for email in sent:
        assert email.subject.endswith(PROFESSIONAL_READS)
        assert PROFESSIONAL_READS in email.body
        assert "\u2014" not in email.body  # no second zone
