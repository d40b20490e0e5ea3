"""The booking use cases, through the unit of work, with in-memory adapters."""

from datetime import timedelta

import pytest

from booking import catalogue, services
from booking.commands import (
    CancelBooking,
    RecordPaymentFailed,
    RecordPaymentRefunded,
    RecordPaymentSucceeded,
)
from booking.errors import (
    ClientNotFound,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    IllegalTransition,
    OutsideAvailability,
    PaymentUnavailable,
    RequestInProgress,
    SlotUnavailable,
    StorageUnavailable,
)
from booking.events import BookingCancelled, BookingConfirmed, BookingRequested, RefundIssued
from booking.model import BookingStatus, CancellationReason
from booking.ports import IDEMPOTENCY_LEASE
from tests.factories import make_client
from tests.unit.conftest import World


def pay(world: World, booking_id: object) -> None:
    intent_id = world.stored(booking_id).payment_intent_id  # type: ignore[arg-type]
    assert intent_id is not None
    world.payments.succeed(intent_id)
    stored = world.stored(booking_id)  # type: ignore[arg-type]
    services.record_payment_succeeded(
        RecordPaymentSucceeded(
            payment_intent_id=intent_id, amount_received_cents=stored.total_price_cents,
            currency=stored.currency,
        ),
        uow=world.uow, clock=world.clock,
    )


def test_booking_stores_a_pending_hold_with_its_payment_intent(world: World) -> None:
    receipt = world.book(10)

    stored = world.stored(receipt.booking_id)
    assert stored.status is BookingStatus.PENDING
    assert stored.payment_intent_id == receipt.payment_intent_id
    assert receipt.client_secret is not None
    intent = world.payments.intents[receipt.payment_intent_id or ""]
    assert intent.amount_cents == stored.total_price_cents == 6000
    assert [type(e) for e in world.store.outbox] == [BookingRequested]


def test_a_rule_violation_commits_nothing(world: World) -> None:
    commits_before = world.uow.commits

    with pytest.raises(OutsideAvailability):
        world.book(20)

    assert world.uow.commits == commits_before
    assert world.store.bookings == {}
    assert world.payments.intents == {}


def test_leaving_the_unit_of_work_without_commit_rolls_back(world: World) -> None:
    receipt = world.book(10)

    with world.uow:
        booking = world.uow.bookings.get(receipt.booking_id)
        assert booking is not None
        booking.cancel(CancellationReason.CLIENT, world.clock.now())
        world.uow.bookings.update(booking)

    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING


def test_a_second_booking_of_the_same_time_conflicts(world: World) -> None:
    world.book(10)

    with pytest.raises(SlotUnavailable):
        world.book(10)


def test_a_retried_request_is_replayed_and_creates_nothing(world: World) -> None:
    first = world.book(10, key="same")

    again = world.book(10, key="same")

    assert again.replayed and not first.replayed
    assert again.booking_id == first.booking_id
    assert again.client_secret == first.client_secret
    assert len(world.store.bookings) == 1
    assert len(world.payments.intents) == 1


def test_a_retried_request_that_failed_fails_again_as_a_replay(world: World) -> None:
    with pytest.raises(OutsideAvailability):
        world.book(20, key="k")

    with pytest.raises(OutsideAvailability) as replayed:
        world.book(20, key="k")

    assert replayed.value.replayed


def test_a_key_reused_for_another_request_is_refused(world: World) -> None:
    world.book(10, key="same")

    with pytest.raises(IdempotencyKeyReused):
        world.book(12, key="same")
    assert len(world.store.bookings) == 1


def test_keys_belong_to_one_client(world: World) -> None:
    from booking import catalogue
    from tests.factories import make_client

    other = catalogue.register_client(make_client(email="o@example.com"), uow=world.uow)
    world.book(10, key="same")

    receipt = world.book(12, key="same", client_id=other.id)

    assert not receipt.replayed


def test_a_key_still_in_flight_is_refused(world: World) -> None:
    request = world.request(10, key="busy")
    world.idempotency.claim(f"client:{world.client.id}", "busy", request.fingerprint())

    with pytest.raises(RequestInProgress):
        world.book(10, key="busy")


def test_an_in_flight_key_abandoned_by_a_crash_lapses_after_its_lease(world: World) -> None:
    request = world.request(10, key="crashed")
    world.idempotency.claim(f"client:{world.client.id}", "crashed", request.fingerprint())

    world.clock.advance(IDEMPOTENCY_LEASE)
    receipt = world.book(10, key="crashed")

    assert not receipt.replayed


def test_keys_expire_after_a_day(world: World) -> None:
    first = world.book(10, key="old", days_ahead=3)
    pay(world, first.booking_id)
    world.clock.advance(timedelta(hours=24))

    with pytest.raises(SlotUnavailable):  # executed afresh, not replayed
        world.book(10, key="old", days_ahead=3)


def test_an_infrastructure_failure_releases_the_key_so_a_retry_can_succeed(world: World) -> None:
    world.payments.unavailable = True
    with pytest.raises(PaymentUnavailable):
        world.book(10, key="retry-me")
    [failed] = world.store.bookings.values()
    assert failed.status is BookingStatus.CANCELLED
    assert failed.cancellation_reason is CancellationReason.PAYMENT_ERROR

    world.payments.unavailable = False
    receipt = world.book(10, key="retry-me")

    assert not receipt.replayed
    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING


def test_an_unknown_client_cannot_book(world: World) -> None:
    from uuid import uuid4

    with pytest.raises(ClientNotFound):
        world.book(10, client_id=uuid4())


def test_a_successful_payment_confirms_the_booking_once(world: World) -> None:
    receipt = world.book(10)

    pay(world, receipt.booking_id)
    pay(world, receipt.booking_id)  # the provider redelivers

    assert world.stored(receipt.booking_id).status is BookingStatus.CONFIRMED
    assert [type(e) for e in world.store.outbox].count(BookingConfirmed) == 1


def test_a_declined_payment_cancels_the_hold_and_frees_the_slot(world: World) -> None:
    receipt = world.book(10)
    intent_id = receipt.payment_intent_id or ""

    services.record_payment_failed(
        RecordPaymentFailed(payment_intent_id=intent_id), uow=world.uow, clock=world.clock
    )

    assert world.stored(receipt.booking_id).cancellation_reason is CancellationReason.PAYMENT_FAILED
    world.book(10)  # the slot is free again


def test_a_declined_payment_leaves_cancelling_its_intent_to_the_worker(world: World) -> None:
    receipt = world.book(10)
    intent_id = receipt.payment_intent_id or ""
    world.payments.unavailable = True  # recording the decline must not need the provider

    services.record_payment_failed(
        RecordPaymentFailed(payment_intent_id=intent_id), uow=world.uow, clock=world.clock
    )
    assert world.payments.intents[intent_id].status == "requires_payment_method"
    world.payments.unavailable = False
    world.run_worker()

    assert world.payments.intents[intent_id].status == "canceled"


def test_a_failure_after_a_success_changes_nothing(world: World) -> None:
    receipt = world.book(10)
    pay(world, receipt.booking_id)

    services.record_payment_failed(
        RecordPaymentFailed(payment_intent_id=receipt.payment_intent_id or ""),
        uow=world.uow,
        clock=world.clock,
    )
    world.run_worker()

    assert world.stored(receipt.booking_id).status is BookingStatus.CONFIRMED
    assert world.payments.refunds == []


def test_unpaid_holds_expire_and_free_their_slots(world: World) -> None:
    receipt = world.book(10)
    world.clock.advance(timedelta(minutes=14))
    assert services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock) == []

    world.clock.advance(timedelta(minutes=2))
    expired = services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)

    assert expired == [receipt.booking_id]
    assert world.stored(receipt.booking_id).cancellation_reason is CancellationReason.HOLD_EXPIRED
    assert world.payments.intents[receipt.payment_intent_id or ""].status == "canceled"


def test_a_payment_arriving_after_the_hold_expired_is_owed_back_then_refunded_in_full(
    world: World,
) -> None:
    receipt = world.book(10)
    world.clock.advance(timedelta(minutes=20))
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)

    pay(world, receipt.booking_id)  # what the late webhook records, with no call to the provider
    assert world.stored(receipt.booking_id).refund_outstanding_cents == 6000
    assert world.payments.refunds == []
    world.run_worker()

    stored = world.stored(receipt.booking_id)
    assert stored.status is BookingStatus.CANCELLED
    assert stored.refunded_cents == stored.total_price_cents
    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]
    assert RefundIssued in [type(e) for e in world.store.outbox]


def test_a_hold_whose_success_webhook_was_lost_is_refunded_in_full_when_it_expires(
    world: World,
) -> None:
    receipt = world.book(10)
    world.payments.succeed(receipt.payment_intent_id or "")  # paid; the webhook never comes
    world.clock.advance(timedelta(minutes=16))

    expired = services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)

    stored = world.stored(receipt.booking_id)
    assert expired == [receipt.booking_id]
    assert stored.cancellation_reason is CancellationReason.HOLD_EXPIRED
    assert stored.refunded_cents == stored.refund_due_cents == 6000
    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]
    assert [type(e) for e in world.store.outbox].count(RefundIssued) == 1


def test_cancelling_a_hold_whose_payment_succeeded_unseen_refunds_it_in_full(
    world: World,
) -> None:
    receipt = world.book(10, days_ahead=0)  # late: a paid booking would get half back
    world.payments.succeed(receipt.payment_intent_id or "")

    cancelled = services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow,
        payments=world.payments,
        clock=world.clock,
    )

    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelled.refunded_cents == 6000
    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]


def test_a_release_the_provider_could_not_take_at_expiry_is_done_by_the_worker(
    world: World,
) -> None:
    other = catalogue.register_client(make_client(), uow=world.uow)  # one hold each
    paid, unpaid = world.book(10), world.book(13, client_id=other.id)
    world.payments.succeed(paid.payment_intent_id or "")  # its webhook is lost
    world.clock.advance(timedelta(minutes=16))
    world.payments.unavailable = True
    services.expire_holds(uow=world.uow, payments=world.payments, clock=world.clock)
    assert world.payments.refunds == []
    with pytest.raises(PaymentUnavailable):  # the job fails, and is retried later
        world.run_worker()

    world.payments.unavailable = False
    world.run_worker()
    world.run_worker()  # a retried job changes nothing more

    assert world.payments.refunds == [(paid.payment_intent_id, 6000)]
    assert world.stored(paid.booking_id).refunded_cents == 6000
    assert world.payments.intents[unpaid.payment_intent_id or ""].status == "canceled"


def test_a_refund_made_at_the_provider_is_recorded_once_and_never_lowered(world: World) -> None:
    receipt = world.book(10)
    pay(world, receipt.booking_id)
    intent_id = receipt.payment_intent_id or ""

    for total in (2000, 2000, 6000, 2000):  # a redelivery, then a second refund, then a stale one
        services.record_payment_refunded(
            RecordPaymentRefunded(payment_intent_id=intent_id, refunded_cents=total),
            uow=world.uow,
            clock=world.clock,
        )

    stored = world.stored(receipt.booking_id)
    assert (stored.refund_due_cents, stored.refunded_cents) == (6000, 6000)
    refunds = [e.amount_cents for e in world.store.outbox if isinstance(e, RefundIssued)]
    assert refunds == [2000, 4000]
    assert stored.status is BookingStatus.CONFIRMED  # a refund alone does not cancel


def test_the_provider_reporting_our_own_refund_records_nothing_twice(world: World) -> None:
    receipt = world.book(10)
    pay(world, receipt.booking_id)
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.PROFESSIONAL),
        uow=world.uow,
        payments=world.payments,
        clock=world.clock,
    )

    services.record_payment_refunded(
        RecordPaymentRefunded(payment_intent_id=receipt.payment_intent_id or "",
                              refunded_cents=6000),
        uow=world.uow,
        clock=world.clock,
    )

    assert world.stored(receipt.booking_id).refunded_cents == 6000
    assert [type(e) for e in world.store.outbox].count(RefundIssued) == 1


def test_a_reported_refund_above_the_price_is_refused(world: World) -> None:
    receipt = world.book(10)
    pay(world, receipt.booking_id)

    with pytest.raises(IllegalTransition):
        services.record_payment_refunded(
            RecordPaymentRefunded(payment_intent_id=receipt.payment_intent_id or "",
                                  refunded_cents=6001),
            uow=world.uow,
            clock=world.clock,
        )
    assert world.stored(receipt.booking_id).refunded_cents == 0


@pytest.mark.parametrize(("days_ahead", "refund"), [(1, 6000), (0, 3000)])
def test_a_client_cancelling_a_paid_booking_is_refunded_per_the_policy(
    world: World, days_ahead: int, refund: int
) -> None:
    receipt = world.book(10, days_ahead=days_ahead)  # 34 h or 10 h before the start
    pay(world, receipt.booking_id)

    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow,
        payments=world.payments,
        clock=world.clock,
    )

    assert world.payments.refunds == [(receipt.payment_intent_id, refund)]
    cancelled = [e for e in world.store.outbox if isinstance(e, BookingCancelled)]
    assert cancelled[0].was_confirmed


def test_a_refund_that_fails_stays_owed_and_is_settled_later_exactly_once(world: World) -> None:
    receipt = world.book(10)
    pay(world, receipt.booking_id)
    world.payments.unavailable = True

    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.PROFESSIONAL),
        uow=world.uow,
        payments=world.payments,
        clock=world.clock,
    )
    assert world.stored(receipt.booking_id).refund_outstanding_cents == 6000

    world.payments.unavailable = False
    for _ in range(2):
        services.settle_refund(
            receipt.booking_id, uow=world.uow, payments=world.payments, clock=world.clock
        )

    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]
    assert world.stored(receipt.booking_id).refund_outstanding_cents == 0


def test_cancelling_an_unpaid_hold_cancels_its_intent(world: World) -> None:
    receipt = world.book(10)

    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.CLIENT),
        uow=world.uow,
        payments=world.payments,
        clock=world.clock,
    )

    assert world.payments.intents[receipt.payment_intent_id or ""].status == "canceled"
    assert world.payments.refunds == []


def test_an_answer_that_could_not_be_stored_still_reaches_the_client(world: World) -> None:
    world.idempotency.complete = broken_store  # type: ignore[method-assign]

    receipt = world.book(10, key="blip")

    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING
    assert receipt.client_secret is not None


def test_a_retry_after_a_lost_answer_gets_the_same_hold_not_a_conflict(world: World) -> None:
    world.idempotency.complete = broken_store  # type: ignore[method-assign]
    first = world.book(10, key="blip")
    del world.idempotency.complete  # the store is back
    world.clock.advance(IDEMPOTENCY_LEASE)  # the first claim lapses: the retry executes

    again = world.book(10, key="blip")

    assert again.booking_id == first.booking_id
    assert again.payment_intent_id == first.payment_intent_id
    assert again.client_secret == first.client_secret
    assert len(world.store.bookings) == 1
    assert len(world.payments.intents) == 1


def test_a_retry_after_the_payment_could_not_be_attached_finishes_that_hold(world: World) -> None:
    world.uow.fail_next_commits(StorageUnavailable("restarting"), after=1)  # the attach fails
    with pytest.raises(StorageUnavailable):
        world.book(10, key="half")
    [held] = world.store.bookings.values()
    assert held.status is BookingStatus.PENDING and held.payment_intent_id is None

    receipt = world.book(10, key="half")

    assert receipt.booking_id == held.id
    assert world.stored(held.id).payment_intent_id == receipt.payment_intent_id
    assert len(world.store.bookings) == 1
    assert len(world.payments.intents) == 1


def test_a_key_whose_hold_is_for_another_time_is_refused(world: World) -> None:
    world.uow.fail_next_commits(StorageUnavailable("restarting"), after=1)
    with pytest.raises(StorageUnavailable):
        world.book(10, key="half")

    with pytest.raises(IdempotencyKeyReused):
        world.book(12, key="half")  # the failed first request released the key


def broken_store(*_: object) -> None:
    raise StorageUnavailable("Redis is restarting")


def test_a_hold_that_lost_a_deadlock_is_retried_and_books_once(world: World) -> None:
    world.uow.fail_next_commits(ConcurrentUpdate("deadlock"), ConcurrentUpdate("deadlock"))

    receipt = world.book(10, key="busy-db")

    assert world.stored(receipt.booking_id).status is BookingStatus.PENDING
    assert len(world.store.bookings) == 1


def test_a_hold_that_keeps_colliding_gives_up_and_frees_its_key(world: World) -> None:
    world.uow.fail_next_commits(*[ConcurrentUpdate("deadlock")] * 3)
    with pytest.raises(ConcurrentUpdate):
        world.book(10, key="busy-db")
    assert world.store.bookings == {}

    receipt = world.book(10, key="busy-db")  # the key was released: the retry executes

    assert not receipt.replayed


def test_a_booking_commits_its_hold_and_its_payment_once_each_and_a_replay_nothing(
    world: World,
) -> None:
    before = world.uow.commits

    world.book(10, key="once")
    after_booking = world.uow.commits
    world.book(10, key="once")

    assert after_booking - before == 2  # the hold, then the attached payment intent
    assert world.uow.commits == after_booking
