"""Property: whatever order creates, payments, declines, cancels, expiries, webhook
(re)deliveries, lost webhooks, provider outages and worker runs come in, every succeeded payment
ends in a confirmed booking or a refund, no cancelled booking's intent can still be paid, and no
professional is ever double-booked."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid4

from hypothesis import event, given, settings
from hypothesis import strategies as st

from adapters.memory import (
    InMemoryIdempotencyStore,
    InMemoryPayments,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from adapters.stripe_events import apply_event
from adapters.stripe_payments import StripeEvent
from adapters.webhook_inbox import InMemoryWebhookInbox
from booking import catalogue, services
from booking.commands import CancelBooking, CreateBooking
from booking.errors import BookingError, PaymentUnavailable
from booking.model import BookingStatus, CancellationReason
from tests.factories import MONDAY, FixedClock, at, make_client, make_professional, new_key

STARTS = [at(MONDAY, 10), at(MONDAY, 10, 30), at(MONDAY, 11), at(MONDAY, 13)]


@dataclass
class Shop:
    clock: FixedClock = field(default_factory=FixedClock)
    store: InMemoryStore = field(default_factory=InMemoryStore)
    payments: InMemoryPayments = field(default_factory=InMemoryPayments)
    intents: list[str] = field(default_factory=list)
    in_flight: list[StripeEvent] = field(default_factory=list)  # sent, not yet delivered
    delivered: list[StripeEvent] = field(default_factory=list)
    worked: int = 0  # outbox events the worker has followed up

    def __post_init__(self) -> None:
        self.inbox = InMemoryWebhookInbox(self.store)
        self.idempotency = InMemoryIdempotencyStore(self.clock)
        self.professional = catalogue.register_professional(make_professional(), uow=self.uow())
        self.client = catalogue.register_client(make_client(), uow=self.uow())

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def create(self, slot: int) -> None:
        cmd = CreateBooking(
            client_id=self.client.id, professional_id=self.professional.id,
            start=STARTS[slot], duration=timedelta(hours=1), idempotency_key=new_key(),
        )
        receipt = services.create_booking(
            cmd, uow=self.uow(), payments=self.payments, idempotency=self.idempotency,
            clock=self.clock,
        )
        self.intents.append(str(receipt.payment_intent_id))

    def pay(self, which: int, *, succeed: bool) -> None:
        intent = self.payments.intents[self.intents[which % len(self.intents)]]
        if intent.status != "requires_payment_method":
            return  # Stripe only takes a payment for an open intent
        if succeed:
            self.payments.succeed(intent.id)
        kind = "payment_intent.succeeded" if succeed else "payment_intent.payment_failed"
        self.in_flight.append(_event(kind, intent.id))

    def cancel(self, which: int, reason: CancellationReason) -> None:
        booking = self._booking(self.intents[which % len(self.intents)])
        services.cancel_booking(
            CancelBooking(booking_id=booking.id, reason=reason),
            uow=self.uow(), payments=self.payments, clock=self.clock,
        )

    def expire(self) -> None:
        self.clock.advance(timedelta(minutes=16))
        services.expire_holds(uow=self.uow(), payments=self.payments, clock=self.clock)

    def deliver(self, which: int) -> None:
        event = self.in_flight.pop(which % len(self.in_flight))
        self._apply(event)
        self.delivered.append(event)

    def redeliver(self, which: int) -> None:
        self._apply(self.delivered[which % len(self.delivered)])

    def lose(self, which: int) -> None:
        """The provider gave up on a webhook (its retries ran out): it never arrives."""
        self.in_flight.pop(which % len(self.in_flight))

    def provider_down(self, down: bool) -> None:
        self.payments.unavailable = down

    def work(self) -> None:
        """One run of the worker: each new event's follow-up in order (a failed job stays for the
        next run), then every refund still owed (``settle_refunds``)."""
        while self.worked < len(self.store.outbox):
            event_ = self.store.outbox[self.worked]
            services.release_payment_after(
                event_, uow=self.uow(), payments=self.payments, clock=self.clock
            )
            self.worked += 1
        for booking in list(self.store.bookings.values()):
            if booking.refund_outstanding_cents:
                with suppress(PaymentUnavailable):
                    services.settle_refund(
                        booking.id, uow=self.uow(), payments=self.payments, clock=self.clock
                    )

    def _apply(self, event: StripeEvent) -> None:
        apply_event(event, inbox=self.inbox, clock=self.clock)

    def _booking(self, intent_id: str):  # type: ignore[no-untyped-def]
        return next(b for b in self.store.bookings.values() if b.payment_intent_id == intent_id)

    def check_no_double_booking(self) -> None:
        active = [b for b in self.store.bookings.values() if b.is_active]
        for i, first in enumerate(active):
            for second in active[i + 1 :]:
                assert not first.blocked.overlaps(second.blocked), (first, second)


def _event(kind: str, intent_id: str) -> StripeEvent:
    return StripeEvent(
        id=f"evt_{uuid4().hex}", type=kind, created=0, object_id=intent_id,
        payment_intent_id=intent_id, booking_id=None, amount=None, amount_refunded=None,
    )


step = st.one_of(
    st.tuples(st.just("create"), st.integers(0, len(STARTS) - 1)),
    st.tuples(st.just("pay"), st.integers(0, 9)),
    st.tuples(st.just("decline"), st.integers(0, 9)),
    st.tuples(st.just("cancel"), st.integers(0, 9), st.sampled_from(list(CancellationReason))),
    st.tuples(st.just("expire")),
    st.tuples(st.just("deliver"), st.integers(0, 9)),
    st.tuples(st.just("redeliver"), st.integers(0, 9)),
    st.tuples(st.just("lose"), st.integers(0, 9)),
    st.tuples(st.just("provider_down"), st.booleans()),
    st.tuples(st.just("work")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=30))
def test_every_succeeded_payment_ends_confirmed_or_refunded_and_nothing_overlaps(
    steps: list[tuple[object, ...]],
) -> None:
    shop = Shop()
    shop.create(0)
    for name, *args in steps:
        needs = {"pay": shop.intents, "decline": shop.intents, "cancel": shop.intents,
                 "deliver": shop.in_flight, "redeliver": shop.delivered,
                 "lose": shop.in_flight}.get(str(name), [1])
        if not needs:
            continue
        try:
            match name:
                case "create":
                    shop.create(*args)  # type: ignore[arg-type]
                case "pay" | "decline":
                    shop.pay(*args, succeed=name == "pay")  # type: ignore[arg-type]
                case "cancel":
                    shop.cancel(*args)  # type: ignore[arg-type]
                case "expire":
                    shop.expire()
                case "deliver":
                    shop.deliver(*args)  # type: ignore[arg-type]
                case "redeliver":
                    shop.redeliver(*args)  # type: ignore[arg-type]
                case "lose":
                    shop.lose(*args)  # type: ignore[arg-type]
                case "provider_down":
                    shop.provider_down(*args)  # type: ignore[arg-type]
                case "work":
                    shop.work()
        except BookingError:
            pass  # refused (slot taken, illegal transition) or the provider is down
        shop.check_no_double_booking()

    shop.provider_down(False)  # in the end the provider is back,
    while shop.in_flight:  # every webhook not lost arrives,
        shop.deliver(0)
    shop.expire()  # holds whose success was never told end,
    shop.work()  # and the worker catches up


    for intent in shop.payments.intents.values():
        booking = shop._booking(intent.id)
        if intent.status != "succeeded":
            assert booking.refunded_cents == 0
            assert booking.is_active or intent.status == "canceled", (booking, intent)
            continue
        assert booking.status is BookingStatus.CONFIRMED or (
            booking.status is BookingStatus.CANCELLED
            and booking.refunded_cents == booking.refund_due_cents
            and (booking.refund_due_cents > 0
                 or booking.cancellation_reason is CancellationReason.CLIENT)
        ), booking
        assert intent.refunded_cents == booking.refunded_cents
        event(f"paid booking ends {booking.status.value}, refunded: {booking.refunded_cents > 0}")
    shop.check_no_double_booking()
