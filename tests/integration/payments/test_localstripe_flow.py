"""The real payment flow against localstripe: its signed webhooks reach the served app."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from uuid import uuid4

import pytest
import requests
import stripe

from adapters.payments.stripe_gateway import StripeGateway
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from booking import services
from booking.commands import CancelBooking
from booking.errors import PaymentAlreadySucceeded, PaymentUnavailable
from booking.model import BookingStatus, CancellationReason
from tests.integration.payments.conftest import (
    PROCESS_ID,
    WEBHOOK_SECRET,
    Shop,
    wait_until,
)

pytestmark = pytest.mark.stripe


def pay(client: stripe.StripeClient, intent_id: str, card: str) -> None:
    """What Stripe.js does for the client: attach the card, then confirm."""
    client.v1.payment_intents.update(intent_id, params={"payment_method": card})
    with suppress(stripe.CardError):  # a decline: the failure webhook tells the app
        client.v1.payment_intents.confirm(intent_id)


def test_an_intent_is_opened_for_the_booking_price_with_its_id_in_the_metadata(
    served_shop: Shop, stripe_client: stripe.StripeClient
) -> None:
    receipt = served_shop.book()

    intent = stripe_client.v1.payment_intents.retrieve(str(receipt.payment_intent_id))

    assert intent.amount == receipt.total_price_cents == 6000
    assert intent.currency == "usd"
    assert intent.metadata["booking_id"] == str(receipt.booking_id)
    assert receipt.client_secret == intent.client_secret


def test_a_paid_intent_confirms_its_booking_through_the_signed_webhook(
    served_shop: Shop, stripe_client: stripe.StripeClient
) -> None:
    receipt = served_shop.book()
    assert receipt.status == "pending"

    pay(stripe_client, str(receipt.payment_intent_id), "pm_card_visa")

    assert wait_until(
        lambda: served_shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED
    )


def test_a_declined_card_cancels_the_booking_and_frees_the_slot(
    served_shop: Shop, stripe_client: stripe.StripeClient
) -> None:
    receipt = served_shop.book(hour=11)

    pay(stripe_client, str(receipt.payment_intent_id), "pm_card_chargeCustomerFail")

    assert wait_until(
        lambda: served_shop.booking(receipt.booking_id).status is BookingStatus.CANCELLED
    )
    booking = served_shop.booking(receipt.booking_id)
    assert booking.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert served_shop.book(hour=11).status == "pending"  # the same slot, free again


def test_cancelling_a_paid_booking_refunds_it_at_the_provider(
    served_shop: Shop, stripe_client: stripe.StripeClient
) -> None:
    receipt = served_shop.book(days_ahead=3, hour=12)
    pay(stripe_client, str(receipt.payment_intent_id), "pm_card_visa")
    assert wait_until(
        lambda: served_shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED
    )

    booking = services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=served_shop.uow, payments=served_shop.payments, clock=served_shop.clock,
    )

    assert booking.refunded_cents == booking.refund_due_cents == 6000  # ≥ 24 h ahead: in full
    refunds = stripe_client.v1.refunds.list(
        params={"payment_intent": str(receipt.payment_intent_id)}
    )
    assert [refund.amount for refund in refunds.data] == [6000]


def test_cancelling_a_pending_booking_cancels_its_intent(
    served_shop: Shop, stripe_client: stripe.StripeClient
) -> None:
    receipt = served_shop.book(hour=13)

    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=served_shop.uow, payments=served_shop.payments, clock=served_shop.clock,
    )

    intent = stripe_client.v1.payment_intents.retrieve(str(receipt.payment_intent_id))
    assert intent.status == "canceled"


def test_cancelling_a_paid_intent_says_it_has_already_succeeded(
    gateway: StripeGateway, stripe_client: stripe.StripeClient
) -> None:
    intent = gateway.create_intent(
        booking_id=uuid4(), amount_cents=100, currency="usd", idempotency_key=f"k-{uuid4()}"
    )
    pay(stripe_client, intent.id, "pm_card_visa")

    with pytest.raises(PaymentAlreadySucceeded):
        gateway.cancel_intent(intent.id, idempotency_key=f"c-{uuid4()}")
    assert gateway.status(intent.id) == "succeeded"


def test_a_hold_whose_success_webhook_was_lost_is_refunded_at_the_provider_when_it_expires(
    sqlite_url: str, gateway: StripeGateway, stripe_client: stripe.StripeClient, localstripe: str
) -> None:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    shop = Shop(engine, gateway)
    requests.post(  # this process's events now go nowhere: the success webhook is lost
        f"{localstripe}/_config/webhooks/hourbook-{PROCESS_ID}",
        data={"url": "http://127.0.0.1:9/stripe/webhook", "secret": WEBHOOK_SECRET}, timeout=5,
    ).raise_for_status()
    receipt = shop.book(days_ahead=4)
    pay(stripe_client, str(receipt.payment_intent_id), "pm_card_visa")
    shop.clock.advance(timedelta(minutes=16))

    services.expire_holds(uow=shop.uow, payments=gateway, clock=shop.clock)

    booking = shop.booking(receipt.booking_id)
    assert booking.cancellation_reason is CancellationReason.HOLD_EXPIRED
    assert booking.refunded_cents == booking.refund_due_cents == 6000
    refunds = stripe_client.v1.refunds.list(
        params={"payment_intent": str(receipt.payment_intent_id)}
    )
    assert [refund.amount for refund in refunds.data] == [6000]
    engine.dispose()


def test_cancelling_an_intent_twice_is_not_an_error(gateway: StripeGateway) -> None:
    intent = gateway.create_intent(
        booking_id=uuid4(), amount_cents=100, currency="usd",
        idempotency_key="k1",
    )

    gateway.cancel_intent(intent.id, idempotency_key="c1")
    gateway.cancel_intent(intent.id, idempotency_key="c2")

    assert gateway.status(intent.id) == "canceled"


def test_an_unreachable_provider_is_a_payment_unavailable_error() -> None:
    gateway = StripeGateway("sk_test_x", api_base="http://127.0.0.1:9", max_network_retries=0)

    with pytest.raises(PaymentUnavailable, match="unavailable"):
        gateway.refund("pi_missing", amount_cents=100, idempotency_key="r1")


def test_a_refused_request_is_a_payment_unavailable_error_naming_the_refusal(
    gateway: StripeGateway,
) -> None:
    with pytest.raises(PaymentUnavailable, match="refused"):
        gateway.refund("pi_does_not_exist", amount_cents=100, idempotency_key="r2")
