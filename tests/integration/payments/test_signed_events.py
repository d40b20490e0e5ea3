"""Signed events built in the test, for what localstripe never sends: each is applied once."""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import uuid4

import sqlalchemy as sa

from adapters.sql.tables import bookings, outbox, processed_webhook_events
from booking import services
from booking.model import BookingStatus, CancellationReason
from tests.integration.payments.conftest import WEBHOOK_SECRET, Shop
from tests.integration.payments.signing import intent_event, refund_event, sign
from tests.integration.support import all_at_once, count_rows


def deliver(shop: Shop, payload: bytes) -> tuple[int, dict[str, object]]:
    return shop.post(payload, sign(payload, WEBHOOK_SECRET))


def outbox_types(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(outbox.c.event_type).order_by(outbox.c.id)))


def snapshot(engine: sa.Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(bookings).order_by(bookings.c.id)).all()
    return (tuple(rows), count_rows(engine, outbox), count_rows(engine, processed_webhook_events))


def test_a_success_confirms_the_booking_and_a_redelivery_changes_nothing(shop: Shop) -> None:
    receipt = shop.book()
    payload = intent_event("payment_intent.succeeded", str(receipt.payment_intent_id))

    first = deliver(shop, payload)
    second = deliver(shop, payload)

    assert first == (200, {"received": True, "event_id": first[1]["event_id"],
                           "outcome": "applied"})
    assert second[0] == 200 and second[1]["outcome"] == "duplicate"
    assert shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED
    assert outbox_types(shop.engine).count("BookingConfirmed") == 1


def test_simultaneous_redeliveries_have_exactly_one_effect(shop: Shop) -> None:
    receipt = shop.book()
    payload = intent_event("payment_intent.succeeded", str(receipt.payment_intent_id))

    answers = all_at_once([lambda: deliver(shop, payload) for _ in range(4)])

    assert {status for status, _ in answers} == {200}
    assert sorted(str(body["outcome"]) for _, body in answers).count("applied") == 1
    assert outbox_types(shop.engine).count("BookingConfirmed") == 1


def test_the_same_success_under_two_event_ids_confirms_once(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)

    deliver(shop, intent_event("payment_intent.succeeded", intent))
    deliver(shop, intent_event("payment_intent.succeeded", intent))

    assert outbox_types(shop.engine).count("BookingConfirmed") == 1


def test_a_cancelled_intent_cancels_the_pending_booking_and_frees_the_slot(shop: Shop) -> None:
    receipt = shop.book(hour=11)

    status, body = deliver(shop, intent_event("payment_intent.canceled",
                                              str(receipt.payment_intent_id)))

    assert (status, body["outcome"]) == (200, "applied")
    booking = shop.booking(receipt.booking_id)
    assert booking.status is BookingStatus.CANCELLED
    assert booking.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert shop.book(hour=11).status == "pending"


def test_a_failure_after_a_success_changes_nothing(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    deliver(shop, intent_event("payment_intent.succeeded", intent))

    status, body = deliver(shop, intent_event("payment_intent.payment_failed", intent))

    assert (status, body["outcome"]) == (200, "applied")
    assert shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED


def test_a_success_after_the_hold_expired_is_refunded_in_full(shop: Shop) -> None:
    receipt = shop.book()
    shop.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=shop.uow, payments=shop.payments, clock=shop.clock)

    deliver(shop, intent_event("payment_intent.succeeded", str(receipt.payment_intent_id)))

    booking = shop.booking(receipt.booking_id)
    assert booking.status is BookingStatus.CANCELLED
    assert booking.refunded_cents == booking.total_price_cents == 6000
    assert shop.payments.refunds == [(receipt.payment_intent_id, 6000)]  # type: ignore[attr-defined]


def test_a_success_that_beats_the_attach_finds_its_booking_by_metadata(shop: Shop) -> None:
    receipt = shop.book()
    with shop.engine.begin() as connection:  # as if the webhook came before the attach
        connection.execute(sa.update(bookings).values(payment_intent_id=None))

    deliver(shop, intent_event("payment_intent.succeeded", "pi_early",
                               booking_id=receipt.booking_id))

    booking = shop.booking(receipt.booking_id)
    assert (booking.status, booking.payment_intent_id) == (BookingStatus.CONFIRMED, "pi_early")


def test_a_refund_event_is_acknowledged_and_recorded_once(shop: Shop) -> None:
    payload = refund_event("pi_x", amount=3000)

    assert deliver(shop, payload)[1]["outcome"] == "applied"
    assert deliver(shop, payload)[1]["outcome"] == "duplicate"
    assert count_rows(shop.engine, processed_webhook_events) == 1


def test_an_event_for_an_unknown_payment_is_acknowledged(shop: Shop) -> None:
    status, body = deliver(shop, intent_event("payment_intent.succeeded", "pi_nobody"))

    assert (status, body["outcome"]) == (200, "unknown_payment")


def test_an_unhandled_event_type_is_acknowledged_and_ignored(shop: Shop) -> None:
    payload = intent_event("payment_intent.created", "pi_whatever")

    assert deliver(shop, payload) [1]["outcome"] == "ignored"


def test_a_stale_signature_is_refused_and_changes_nothing(shop: Shop) -> None:
    receipt = shop.book()
    before = snapshot(shop.engine)
    payload = intent_event("payment_intent.succeeded", str(receipt.payment_intent_id))

    status, body = shop.post(payload, sign(payload, WEBHOOK_SECRET,
                                           timestamp=int(time.time()) - 301))

    assert status == 400 and body["error"]["code"] == "invalid_webhook"  # type: ignore[index]
    assert snapshot(shop.engine) == before


def test_a_signature_with_another_secret_is_refused(shop: Shop) -> None:
    receipt = shop.book()
    before = snapshot(shop.engine)
    payload = intent_event("payment_intent.succeeded", str(receipt.payment_intent_id))

    assert shop.post(payload, sign(payload, "whsec_wrong"))[0] == 400
    assert snapshot(shop.engine) == before


def test_a_missing_signature_is_refused(shop: Shop) -> None:
    payload = intent_event("payment_intent.succeeded", "pi_x")

    assert shop.post(payload, None)[0] == 400


def test_a_tampered_payload_is_refused(shop: Shop) -> None:
    receipt = shop.book()
    payload = intent_event("payment_intent.payment_failed", str(receipt.payment_intent_id))
    signature = sign(payload, WEBHOOK_SECRET)

    tampered = payload.replace(b"payment_failed", b"succeeded")

    assert shop.post(tampered, signature)[0] == 400
    assert shop.booking(receipt.booking_id).status is BookingStatus.PENDING


def test_a_signed_payload_that_is_not_an_event_is_refused(shop: Shop) -> None:
    for payload in (b"not json", b"[]", b'{"id": "evt_1"}',
                    b'{"id": "evt_1", "type": "x", "created": "soon", "data": {"object": {}}}'):
        status, body = shop.post(payload, sign(payload, WEBHOOK_SECRET))
        assert status == 400, payload
        assert body["error"]["code"] == "invalid_webhook"  # type: ignore[index]


def test_a_new_event_id_is_needed_for_each_effect(shop: Shop) -> None:
    receipt = shop.book()
    event_id = f"evt_{uuid4().hex}"
    deliver(shop, intent_event("payment_intent.succeeded", "pi_other", event_id=event_id))

    deliver(shop, intent_event("payment_intent.canceled", str(receipt.payment_intent_id),
                               event_id=event_id))

    assert shop.booking(receipt.booking_id).status is BookingStatus.PENDING
