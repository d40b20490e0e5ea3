"""Signed events built in the test, for what localstripe never sends: each is applied once."""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import uuid4

import sqlalchemy as sa

from adapters.jobs import tasks
from adapters.jobs.tasks import JobContext
from adapters.memory import InMemoryPayments, ListNotifier, RecordedIntent
from adapters.notifications.sent_log import InMemorySentLog
from adapters.sql.tables import bookings, outbox, payment_incidents, processed_webhook_events
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.commands import CancelBooking
from booking.model import BookingStatus, CancellationReason
from tests.integration.payments.conftest import WEBHOOK_SECRET, Shop
from tests.integration.payments.signing import dispute_event, intent_event, refund_event, sign
from tests.integration.support import all_at_once, count_rows


def deliver(shop: Shop, payload: bytes) -> tuple[int, dict[str, object]]:
    return shop.post(payload, sign(payload, WEBHOOK_SECRET))


def outbox_types(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(outbox.c.event_type).order_by(outbox.c.id)))


def payments_of(shop: Shop) -> InMemoryPayments:
    assert isinstance(shop.payments, InMemoryPayments)
    return shop.payments


def job_context(shop: Shop) -> JobContext:
    return JobContext(
        engine=shop.engine, uow=lambda: SqlUnitOfWork(shop.engine), payments=shop.payments,
        notifier=ListNotifier(), clock=shop.clock, sent_log=InMemorySentLog(),
    )


def incidents(shop: Shop) -> list[tuple[object, ...]]:
    """(reference, kind, amount, currency, owed back, refunded) of every incident."""
    t = payment_incidents.c
    with shop.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            sa.select(t.reference, t.kind, t.amount_cents, t.currency, t.refund_due_cents,
                      t.refunded_cents).order_by(t.reference)
        )]


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


def test_the_same_success_under_two_event_ids_confirms_once_and_says_the_second_changed_nothing(
    shop: Shop,
) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)

    first = deliver(shop, intent_event("payment_intent.succeeded", intent))
    second = deliver(shop, intent_event("payment_intent.succeeded", intent))

    assert [body["outcome"] for _, body in (first, second)] == ["applied", "no_change"]
    assert outbox_types(shop.engine).count("BookingConfirmed") == 1


def test_a_late_success_under_a_second_event_id_is_owed_back_once(shop: Shop) -> None:
    receipt = shop.book()
    shop.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=shop.uow, payments=shop.payments, clock=shop.clock)
    intent = str(receipt.payment_intent_id)

    first = deliver(shop, intent_event("payment_intent.succeeded", intent))
    second = deliver(shop, intent_event("payment_intent.succeeded", intent))

    assert [body["outcome"] for _, body in (first, second)] == ["applied", "no_change"]
    assert shop.booking(receipt.booking_id).refund_outstanding_cents == 6000


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

    assert (status, body["outcome"]) == (200, "no_change")
    assert shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED


def test_a_success_after_the_hold_expired_is_owed_back_and_refunded_by_the_worker(
    shop: Shop,
) -> None:
    receipt = shop.book()
    shop.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=shop.uow, payments=shop.payments, clock=shop.clock)

    status, body = deliver(
        shop, intent_event("payment_intent.succeeded", str(receipt.payment_intent_id))
    )
    assert (status, body["outcome"]) == (200, "applied")
    assert shop.booking(receipt.booking_id).refund_outstanding_cents == 6000
    assert tasks.settle_refunds(job_context(shop)) == 1

    booking = shop.booking(receipt.booking_id)
    assert booking.status is BookingStatus.CANCELLED
    assert booking.refunded_cents == booking.total_price_cents == 6000
    assert payments_of(shop).refunds == [(receipt.payment_intent_id, 6000)]


def test_the_webhook_records_a_decline_and_a_late_success_without_calling_the_provider(
    shop: Shop,
) -> None:
    late = shop.book(hour=12)
    shop.clock.advance(timedelta(minutes=16))
    services.expire_holds(uow=shop.uow, payments=shop.payments, clock=shop.clock)
    declined = shop.book(hour=14)
    payments_of(shop).unavailable = True  # any call to the provider would fail now

    answers = [
        deliver(shop, intent_event("payment_intent.payment_failed",
                                   str(declined.payment_intent_id))),
        deliver(shop, intent_event("payment_intent.succeeded", str(late.payment_intent_id))),
    ]

    assert [(status, body["outcome"]) for status, body in answers] == [(200, "applied")] * 2
    assert shop.booking(declined.booking_id).status is BookingStatus.CANCELLED
    intent = payments_of(shop).intents[str(declined.payment_intent_id)]
    assert intent.status == "requires_payment_method"  # the worker cancels it
    assert shop.booking(late.booking_id).refund_outstanding_cents == 6000  # the worker pays it


def test_a_refund_made_in_the_dashboard_shows_on_the_booking_once(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    deliver(shop, intent_event("payment_intent.succeeded", intent))
    payload = refund_event(intent, amount=6000, refunded=2000)

    first = deliver(shop, payload)
    again = deliver(shop, payload)
    stale = deliver(shop, refund_event(intent, amount=6000, refunded=1000))

    assert [body["outcome"] for _, body in (first, again, stale)] == [
        "applied", "duplicate", "no_change"]
    booking = shop.booking(receipt.booking_id)
    assert (booking.refunded_cents, booking.refund_due_cents) == (2000, 2000)
    assert booking.status is BookingStatus.CONFIRMED
    assert outbox_types(shop.engine).count("RefundIssued") == 1


def test_a_refund_event_for_our_own_refund_records_nothing_more(shop: Shop) -> None:
    receipt = shop.book(days_ahead=3)
    intent = str(receipt.payment_intent_id)
    deliver(shop, intent_event("payment_intent.succeeded", intent))
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=shop.uow, payments=shop.payments, clock=shop.clock,
    )

    status, body = deliver(shop, refund_event(intent, amount=6000))

    assert (status, body["outcome"]) == (200, "no_change")
    assert shop.booking(receipt.booking_id).refunded_cents == 6000
    assert outbox_types(shop.engine).count("RefundIssued") == 1


def test_a_refund_event_above_the_price_is_rejected_and_changes_nothing(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    deliver(shop, intent_event("payment_intent.succeeded", intent))
    before = snapshot(shop.engine)

    status, body = deliver(shop, refund_event(intent, amount=9000))

    assert (status, body["outcome"]) == (200, "rejected")
    rows, outbox_rows, marks = snapshot(shop.engine)
    assert (rows, outbox_rows, marks) == (before[0], before[1], before[2] + 1)  # only the mark


def test_a_success_for_an_intent_named_only_in_metadata_is_not_attached_and_is_refunded(
    shop: Shop,
) -> None:
    receipt = shop.book()
    with shop.engine.begin() as connection:  # a booking whose own intent was never attached
        connection.execute(sa.update(bookings).values(payment_intent_id=None))
    payments_of(shop).intents["pi_foreign"] = RecordedIntent(
        "pi_foreign", receipt.booking_id, 6000, "usd", status="succeeded",
        amount_received_cents=6000, currency_received="usd",
    )  # another integration on the same account opened and was paid this one

    status, body = deliver(shop, intent_event("payment_intent.succeeded", "pi_foreign",
                                              booking_id=receipt.booking_id))

    assert (status, body["outcome"]) == (200, "mismatch")
    booking = shop.booking(receipt.booking_id)
    assert (booking.status, booking.payment_intent_id) == (BookingStatus.PENDING, None)
    assert incidents(shop) == [("pi_foreign", "foreign_intent", 6000, "usd", 6000, 0)]
    assert tasks.settle_refunds(job_context(shop)) == 1
    assert payments_of(shop).refunds == [("pi_foreign", 6000)]
    assert incidents(shop)[0][-1] == 6000


def test_a_success_for_one_dollar_does_not_confirm_a_booking_priced_otherwise(
    shop: Shop,
) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    payments_of(shop).succeed(intent, amount_cents=100)
    before = shop.booking(receipt.booking_id)

    answers = [deliver(shop, intent_event("payment_intent.succeeded", intent, amount=100))
               for _ in range(2)]  # and again under a new event id

    assert [body["outcome"] for _, body in answers] == ["mismatch", "mismatch"]
    after = shop.booking(receipt.booking_id)
    assert (after.status, after.paid_cents, after.version) == (
        BookingStatus.PENDING, 0, before.version)
    assert outbox_types(shop.engine).count("BookingConfirmed") == 0
    assert incidents(shop) == [(intent, "wrong_amount", 100, "usd", 100, 0)]
    assert tasks.settle_refunds(job_context(shop)) == 1
    assert tasks.settle_refunds(job_context(shop)) == 0
    assert payments_of(shop).refunds == [(intent, 100)]


def test_a_success_in_another_currency_does_not_confirm(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)

    status, body = deliver(shop, intent_event("payment_intent.succeeded", intent,
                                              currency="eur"))

    assert (status, body["outcome"]) == (200, "mismatch")
    assert shop.booking(receipt.booking_id).status is BookingStatus.PENDING
    assert incidents(shop) == [(intent, "wrong_amount", 6000, "eur", 6000, 0)]


def test_a_second_success_after_a_late_cancellation_owes_nothing_more(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    payments_of(shop).succeed(intent)
    deliver(shop, intent_event("payment_intent.succeeded", intent))
    shop.clock.advance(receipt.start - shop.clock.now() - timedelta(hours=1))  # late now
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=shop.uow, payments=shop.payments, clock=shop.clock,
    )

    status, body = deliver(shop, intent_event("payment_intent.succeeded", intent))
    tasks.settle_refunds(job_context(shop))

    assert (status, body["outcome"]) == (200, "no_change")  # paid before: nothing more taken
    booking = shop.booking(receipt.booking_id)
    assert (booking.paid_cents, booking.refund_due_cents, booking.refunded_cents) == (
        6000, 3000, 3000)
    assert payments_of(shop).refunds == [(intent, 3000)]


def test_a_full_refund_reported_before_the_success_keeps_the_booking_unconfirmed(
    shop: Shop,
) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    payments_of(shop).succeed(intent)
    deliver(shop, refund_event(intent, amount=6000))

    status, body = deliver(shop, intent_event("payment_intent.succeeded", intent))

    assert (status, body["outcome"]) == (200, "applied")
    booking = shop.booking(receipt.booking_id)
    assert booking.status is BookingStatus.PENDING
    assert (booking.paid_cents, booking.refund_due_cents, booking.refunded_cents) == (
        6000, 6000, 6000)
    assert outbox_types(shop.engine).count("BookingConfirmed") == 0
    assert tasks.settle_refunds(job_context(shop)) == 0


def test_a_dispute_is_recorded_and_followed_without_a_refund(shop: Shop) -> None:
    receipt = shop.book()
    intent = str(receipt.payment_intent_id)
    deliver(shop, intent_event("payment_intent.succeeded", intent))

    answers = [
        deliver(shop, dispute_event("charge.dispute.created", intent, dispute_id="du_1")),
        deliver(shop, dispute_event("charge.dispute.closed", intent, dispute_id="du_1",
                                    status="lost")),
    ]

    assert [body["outcome"] for _, body in answers] == ["applied", "applied"]
    assert incidents(shop) == [("du_1", "dispute", 6000, "usd", 0, 0)]
    with shop.engine.connect() as connection:
        detail, booking_id = connection.execute(
            sa.select(payment_incidents.c.detail, payment_incidents.c.booking_id)
        ).one()
    assert (detail, booking_id) == ("lost (fraudulent)", receipt.booking_id)
    assert tasks.settle_refunds(job_context(shop)) == 0
    assert shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED


def test_a_refund_event_for_an_unknown_payment_is_acknowledged_and_recorded_once(
    shop: Shop,
) -> None:
    payload = refund_event("pi_x", amount=3000)

    assert deliver(shop, payload)[1]["outcome"] == "unknown_payment"
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


def test_a_missing_signature_is_refused_with_our_reason_not_the_sdks_hint(shop: Shop) -> None:
    payload = intent_event("payment_intent.succeeded", "pi_x")

    status, body = shop.post(payload, None)

    assert status == 400
    assert body["error"] == {  # type: ignore[comparison-overlap]
        "code": "invalid_webhook", "message": "missing or invalid Stripe-Signature"}


def test_a_bad_signature_is_refused_with_the_same_fixed_reason(shop: Shop) -> None:
    payload = intent_event("payment_intent.succeeded", "pi_x")

    for signature in ("t=1,v1=bad", sign(payload, "whsec_wrong"), "nonsense"):
        status, body = shop.post(payload, signature)
        assert status == 400
        assert body["error"]["message"] == (  # type: ignore[index]
            "missing or invalid Stripe-Signature")


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
