"""The simulator signs exactly as Stripe does; parse_event verifies and reads what it needs."""

from __future__ import annotations

import json
import time
from uuid import uuid4

import pytest
import stripe

from adapters.payments.simulator import SimulatedPayments, signature_header
from adapters.payments.stripe_gateway import InvalidWebhook, parse_event
from adapters.sql.event_codec import BadEventPayload, decode_event
from booking.errors import PaymentUnavailable
from booking.events import BookingConfirmed

SECRET = "whsec_unit"  # noqa: S105 - a test secret


class Inbox:
    def __init__(self) -> None:
        self.delivered: list[tuple[bytes, str]] = []

    def __call__(self, payload: bytes, signature: str) -> None:
        self.delivered.append((payload, signature))


def test_the_simulators_signature_verifies_with_the_stripe_sdk() -> None:
    payload = b'{"id": "evt_1"}'

    header = signature_header(payload, SECRET, int(time.time()))

    assert stripe.WebhookSignature.verify_header(payload.decode(), header, SECRET, 300)


def test_paying_delivers_a_signed_success_event_naming_the_booking() -> None:
    inbox = Inbox()
    payments = SimulatedPayments(SECRET, inbox)
    booking_id = uuid4()
    intent = payments.create_intent(
        booking_id=booking_id, amount_cents=4500, currency="eur", idempotency_key="k"
    )

    assert payments.pay(intent.id) == "succeeded"

    [(payload, header)] = inbox.delivered
    event = parse_event(payload, header, SECRET)
    assert (event.type, event.payment_intent_id, event.booking_id, event.amount) == (
        "payment_intent.succeeded", intent.id, booking_id, 4500,
    )


def test_a_declining_card_delivers_a_failure_event() -> None:
    inbox = Inbox()
    payments = SimulatedPayments(SECRET, inbox)
    intent = payments.create_intent(
        booking_id=uuid4(), amount_cents=100, currency="usd", idempotency_key="k"
    )

    payments.pay(intent.id, "pm_card_chargeCustomerFail")

    event = parse_event(*inbox.delivered[0], SECRET)
    assert event.type == "payment_intent.payment_failed"


def test_the_simulator_honours_idempotency_keys_and_refuses_over_refunds() -> None:
    payments = SimulatedPayments(SECRET)
    first = payments.create_intent(booking_id=uuid4(), amount_cents=100, currency="usd",
                                   idempotency_key="same")
    again = payments.create_intent(booking_id=uuid4(), amount_cents=100, currency="usd",
                                   idempotency_key="same")
    payments.pay(first.id)

    assert first == again
    assert payments.refund(first.id, amount_cents=60, idempotency_key="r") == payments.refund(
        first.id, amount_cents=60, idempotency_key="r"
    )
    with pytest.raises(PaymentUnavailable, match="exceeds"):
        payments.refund(first.id, amount_cents=60, idempotency_key="r2")


def test_an_unsigned_or_stale_event_is_invalid() -> None:
    payload = b'{"id": "evt_1", "type": "x", "created": 1, "data": {"object": {"id": "pi"}}}'

    with pytest.raises(InvalidWebhook):
        parse_event(payload, None, SECRET)
    with pytest.raises(InvalidWebhook):
        parse_event(payload, signature_header(payload, SECRET, int(time.time()) - 301), SECRET)
    with pytest.raises(InvalidWebhook, match="missing or invalid Stripe-Signature") as unset:
        parse_event(payload, signature_header(payload, "", int(time.time())), "")
    assert unset.value.detail == "no webhook secret is configured"  # for the log only


def test_the_reason_for_a_bad_signature_is_ours_and_the_sdks_words_are_kept_for_the_log() -> None:
    payload = b'{"id": "evt_1", "type": "x", "created": 1, "data": {"object": {"id": "pi"}}}'

    with pytest.raises(InvalidWebhook) as missing:
        parse_event(payload, None, SECRET)

    assert str(missing.value) == "missing or invalid Stripe-Signature"
    assert "without_verification" not in str(missing.value)
    assert missing.value.detail.startswith("bad signature: ")


def test_an_outbox_payload_decodes_to_its_event() -> None:
    booking_id, pro, client = uuid4(), uuid4(), uuid4()
    payload = json.dumps({
        "booking_id": str(booking_id), "occurred_at": "2026-06-01T10:00:00+00:00",
        "professional_id": str(pro), "client_id": str(client),
        "start": "2026-06-01T10:00:00+00:00", "end": "2026-06-01T11:00:00+00:00",
    })

    event = decode_event("BookingConfirmed", payload)

    assert isinstance(event, BookingConfirmed) and event.booking_id == booking_id


@pytest.mark.parametrize(
    ("event_type", "payload", "complaint"),
    [
        ("Nope", "{}", "unknown event type"),
        ("RefundIssued", "[1]", "not a JSON object"),
        ("RefundIssued", "{", "not JSON"),
        ("RefundIssued", '{"booking_id": "x"}', "missing"),
    ],
)
def test_a_bad_outbox_payload_fails_clearly(event_type: str, payload: str, complaint: str) -> None:
    with pytest.raises(BadEventPayload, match=complaint):
        decode_event(event_type, payload)


def test_a_naive_time_in_an_outbox_payload_is_refused() -> None:
    payload = json.dumps({
        "booking_id": str(uuid4()), "occurred_at": "2026-06-01T10:00:00",
        "payment_intent_id": "pi", "amount_cents": 5, "currency": "usd",
    })

    with pytest.raises(BadEventPayload, match="occurred_at"):
        decode_event("RefundIssued", payload)
