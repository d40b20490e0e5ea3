"""Every email gives the appointment's time in its recipient's zone, with the other party's
beside it when theirs differs; a client without a zone reads the professional's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking import catalogue, services
from booking.commands import CancelBooking, RecordPaymentSucceeded
from booking.events import BookingCancelled, BookingConfirmed, RefundIssued
from booking.model import Booking, CancellationReason, Client, Professional
from booking.notifications import confirmation_emails, emails_for, reminder_emails
from booking.ports import Email
from booking.receipts import BookingReceipt
from booking.slot import Slot
from tests.factories import every_day, make_client, make_professional
from tests.unit.conftest import World
from tests.unit.reading_times import read_in

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


ZONES = sorted(available_timezones())


def booking_at(start: datetime, length: timedelta, pro: Professional, client: Client) -> Booking:
    return Booking(
        id=uuid4(), professional_id=pro.id, client_id=client.id, slot=Slot(start, start + length),
        buffer=timedelta(0), total_price_cents=6000, currency="usd", created_at=start,
        updated_at=start,
    )  # fmt: skip


@given(
    pro_zone=st.sampled_from(ZONES),
    client_zone=st.none() | st.sampled_from(ZONES),
    start=st.integers(0, 200 * 365 * 24 * 4).map(
        lambda quarters: datetime(1975, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * quarters)
    ),
    length=st.integers(1, 96).map(lambda quarters: timedelta(minutes=15 * quarters)),
)
def test_for_any_two_zones_each_email_reads_back_to_the_booking_in_the_right_zones(
    pro_zone: str, client_zone: str | None, start: datetime, length: timedelta
) -> None:
    pro = make_professional(time_zone=pro_zone)
    client = make_client(time_zone=client_zone)
    booking = booking_at(start, length, pro, client)
    sent = confirmation_emails(booking, pro, client, start) + reminder_emails(booking, pro, client)
    apart = client_zone not in (None, pro_zone)

    for email in sent:
        to_client = email.to == client.email
        own, other = read_in(email.body)
        assert (own.start, own.end) == (booking.start, booking.end)
        assert own.zone == (client_zone or pro_zone if to_client else pro_zone)
        if not apart:
            assert other is None
            continue
        assert other is not None and (other.start, other.end) == (booking.start, booking.end)
        assert (other.zone, other.party) == (
            (pro_zone, "professional") if to_client else (client_zone, "client")
        )
