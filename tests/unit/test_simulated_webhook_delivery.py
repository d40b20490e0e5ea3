"""The simulator delivers its webhooks as Stripe does: a delivery that fails is retried in the
background, signed afresh, until the endpoint takes it or the retries run out."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest

from adapters.payments.simulator import SimulatedPayments
from adapters.payments.stripe_gateway import parse_event
from booking.errors import PaymentAlreadySucceeded

SECRET = "whsec_unit"  # noqa: S105 - a test secret


class FlakyEndpoint:
    """Refuses the first ``refusals`` deliveries (as an app that is restarting would)."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts: list[tuple[bytes, str]] = []
        self.taken = threading.Event()

    def __call__(self, payload: bytes, signature: str) -> None:
        self.attempts.append((payload, signature))
        if len(self.attempts) <= self.refusals:
            raise ConnectionRefusedError("the app is restarting")
        self.taken.set()


def paid_intent(payments: SimulatedPayments) -> str:
    intent = payments.create_intent(
        booking_id=uuid4(), amount_cents=4500, currency="eur", idempotency_key=f"k-{uuid4()}"
    )
    assert payments.pay(intent.id) == "succeeded"  # the payment stands, delivered or not
    return intent.id


def test_a_refused_delivery_is_retried_until_the_endpoint_takes_the_same_event() -> None:
    endpoint = FlakyEndpoint(refusals=2)
    payments = SimulatedPayments(SECRET, endpoint, retry_delays=(0.01, 0.01, 0.01))

    intent_id = paid_intent(payments)

    assert endpoint.taken.wait(5)
    events = [parse_event(payload, signature, SECRET) for payload, signature in endpoint.attempts]
    assert len(events) == 3
    assert {(e.id, e.type, e.payment_intent_id) for e in events} == {
        (events[0].id, "payment_intent.succeeded", intent_id)
    }
    assert payments.undelivered == []


def test_an_event_no_delivery_gets_through_is_given_up_and_named() -> None:
    endpoint = FlakyEndpoint(refusals=100)
    payments = SimulatedPayments(SECRET, endpoint, retry_delays=(0.01, 0.01))
    paid_intent(payments)

    for _ in range(500):
        if payments.undelivered:
            break
        threading.Event().wait(0.01)

    assert len(endpoint.attempts) == 3
    assert payments.undelivered == [parse_event(*endpoint.attempts[0], SECRET).id]


def test_a_delivery_taken_at_once_is_not_sent_again() -> None:
    endpoint = FlakyEndpoint(refusals=0)
    payments = SimulatedPayments(SECRET, endpoint, retry_delays=(0.01,))

    paid_intent(payments)
    threading.Event().wait(0.1)

    assert len(endpoint.attempts) == 1


def test_cancelling_a_paid_intent_says_it_has_succeeded() -> None:
    payments = SimulatedPayments(SECRET)
    intent_id = paid_intent(payments)

    with pytest.raises(PaymentAlreadySucceeded):
        payments.cancel_intent(intent_id, idempotency_key="c")
    assert payments.status(intent_id) == "succeeded"


def test_cancelling_an_intent_the_simulator_forgot_is_a_no_op() -> None:
    payments = SimulatedPayments(SECRET)  # as after a restart: it knows no intent

    payments.cancel_intent("pi_sim_from_before_the_restart", idempotency_key="c")
