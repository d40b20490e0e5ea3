"""Random sequences of create / pay / fail / cancel / expire / retry across several
professionals and clients never double-book, never make an illegal transition, and a retried
request is answered from its first outcome without creating anything. Payments whose webhook is
lost, provider outages and worker runs mixed in, every succeeded payment still ends confirmed or
refunded once the provider is back and the worker has run."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adapters.memory import (
    InMemoryIdempotencyStore,
    InMemoryPayments,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from booking import catalogue, services
from booking.commands import (
    CancelBooking,
    CreateBooking,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
)
from booking.errors import BookingError, PaymentUnavailable, TooManyHolds
from booking.model import Booking, BookingPolicy, BookingStatus, CancellationReason
from booking.receipts import BookingReceipt
from tests.factories import MONDAY, FixedClock, at, make_client, make_professional

LEGAL = {
    (BookingStatus.PENDING, BookingStatus.PENDING),
    (BookingStatus.PENDING, BookingStatus.CONFIRMED),
    (BookingStatus.PENDING, BookingStatus.CANCELLED),
    (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED),
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED),
    (BookingStatus.CANCELLED, BookingStatus.CANCELLED),
}


@dataclass(frozen=True)
class Outcome:
    request: CreateBooking
    receipt: BookingReceipt | None
    error: type[BookingError] | None


class BookingMachine(RuleBasedStateMachine):
    @initialize()
    def open_the_business(self) -> None:
        self.clock = FixedClock(MONDAY)
        self.store = InMemoryStore()
        self.payments = InMemoryPayments()
        self.idempotency = InMemoryIdempotencyStore(self.clock, lease=timedelta(days=30))
        self.uow = InMemoryUnitOfWork(self.store)
        policy = BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=30))
        self.professionals = [
            catalogue.register_professional(
                make_professional(time_zone=zone, policy=policy), uow=self.uow
            ).id
            for zone in ("Europe/Berlin", "America/New_York")
        ]
        self.clients = [catalogue.register_client(make_client(), uow=self.uow).id for _ in range(2)]
        self.outcomes: dict[str, Outcome] = {}
        self.seen_status: dict[UUID, BookingStatus] = {}
        self.keys = 0
        self.worked = 0  # outbox events the worker has followed up

    @precondition(lambda self: not self.payments.unavailable)  # nobody can book meanwhile
    @rule(
        pro=st.integers(0, 1),
        client=st.integers(0, 1),
        day=st.integers(1, 3),
        hour=st.integers(0, 23),
        half=st.booleans(),
        hours=st.integers(1, 3),
    )
    def create(self, pro: int, client: int, day: int, hour: int, half: bool, hours: int) -> None:
        self.keys += 1
        request = CreateBooking(
            client_id=self.clients[client],
            professional_id=self.professionals[pro],
            start=at(MONDAY, hour, 30 if half else 0) + timedelta(days=day),
            duration=timedelta(hours=hours),
            idempotency_key=f"k{self.keys}",
        )
        self.outcomes[request.idempotency_key] = self._attempt(request)

    @precondition(lambda self: bool(self.outcomes) and not self.payments.unavailable)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.outcomes)))
        first = self.outcomes[key]
        bookings_before = len(self.store.bookings)

        again = self._attempt(first.request)

        if first.error is TooManyHolds:
            # Refused for the client's other unpaid holds, it did nothing and stored no answer
            # (a 409 a retry may cure, like a rate limit): once a hold is paid or ends, the same
            # request may book, once.
            assert len(self.store.bookings) <= bookings_before + 1
            self.outcomes[key] = again
            return
        assert len(self.store.bookings) == bookings_before
        if first.receipt is not None:
            assert again.receipt is not None and again.receipt.replayed
            assert again.receipt.booking_id == first.receipt.booking_id
        else:
            assert again.error is first.error

    @precondition(lambda self: bool(self.store.bookings))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        booking = self._pick(data)
        if not self._paid_at_the_provider(booking):
            return
        services.record_payment_succeeded(
            RecordPaymentSucceeded(
                payment_intent_id=str(booking.payment_intent_id),
                amount_received_cents=booking.total_price_cents, currency=booking.currency,
            ),
            uow=self.uow,
            clock=self.clock,
        )

    @precondition(lambda self: bool(self.store.bookings))
    @rule(data=st.data())
    def pay_and_the_webhook_is_lost(self, data: st.DataObject) -> None:
        self._paid_at_the_provider(self._pick(data))

    @rule(down=st.booleans())
    def the_provider_goes_down_or_comes_back(self, down: bool) -> None:
        self.payments.unavailable = down

    @rule()
    def the_worker_runs(self) -> None:
        """Each new event's follow-up in order (a failed job waits for the next run), then the
        refunds still owed."""
        with suppress(PaymentUnavailable):
            while self.worked < len(self.store.outbox):
                services.release_payment_after(
                    self.store.outbox[self.worked],
                    uow=self.uow, payments=self.payments, clock=self.clock,
                )
                self.worked += 1
        for booking_id, booking in list(self.store.bookings.items()):
            if booking.refund_outstanding_cents:
                with suppress(PaymentUnavailable):
                    services.settle_refund(
                        booking_id, uow=self.uow, payments=self.payments, clock=self.clock
                    )

    @precondition(lambda self: bool(self.store.bookings))
    @rule(data=st.data())
    def decline(self, data: st.DataObject) -> None:
        booking = self._pick(data)
        if booking.payment_intent_id is None:
            return
        services.record_payment_failed(
            RecordPaymentFailed(payment_intent_id=booking.payment_intent_id),
            uow=self.uow,
            clock=self.clock,
        )

    @precondition(lambda self: bool(self.store.bookings))
    @rule(data=st.data(), reason=st.sampled_from(list(CancellationReason)))
    def cancel(self, data: st.DataObject, reason: CancellationReason) -> None:
        booking = self._pick(data)
        try:
            services.cancel_booking(
                CancelBooking(booking_id=booking.id, reason=reason),
                uow=self.uow,
                payments=self.payments,
                clock=self.clock,
            )
        except BookingError as refused:
            assert not booking.is_active, refused

    @rule(minutes=st.integers(1, 40))
    def time_passes_and_holds_expire(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        services.expire_holds(uow=self.uow, payments=self.payments, clock=self.clock)

    @invariant()
    def no_professional_is_double_booked(self) -> None:
        active = [b for b in self.store.bookings.values() if b.is_active]
        for i, a in enumerate(active):
            for b in active[i + 1 :]:
                if a.professional_id == b.professional_id:
                    assert not a.blocked.overlaps(b.blocked), (a, b)

    @invariant()
    def every_status_change_is_legal(self) -> None:
        for booking in self.store.bookings.values():
            before = self.seen_status.get(booking.id, BookingStatus.PENDING)
            assert (before, booking.status) in LEGAL
            self.seen_status[booking.id] = booking.status

    @invariant()
    def money_only_goes_back_when_it_was_taken(self) -> None:
        for booking in self.store.bookings.values():
            assert 0 <= booking.refunded_cents <= booking.refund_due_cents
            assert booking.refund_due_cents <= booking.total_price_cents
            if booking.refunded_cents:
                assert booking.payment_intent_id is not None

    @invariant()
    def each_booking_came_from_one_successful_request(self) -> None:
        made = {o.receipt.booking_id for o in self.outcomes.values() if o.receipt}
        assert made == set(self.store.bookings)

    def teardown(self) -> None:
        if not hasattr(self, "payments"):
            return  # the run stopped before the business opened
        self.payments.unavailable = False
        self.clock.advance(timedelta(hours=1))
        services.expire_holds(uow=self.uow, payments=self.payments, clock=self.clock)
        self.the_worker_runs()
        for booking in self.store.bookings.values():
            intent = self.payments.intents.get(str(booking.payment_intent_id))
            if intent is None or intent.status != "succeeded":
                continue
            assert booking.status is BookingStatus.CONFIRMED or (
                booking.refunded_cents == booking.refund_due_cents
                and (booking.refund_due_cents > 0
                     or booking.cancellation_reason is CancellationReason.CLIENT)
            ), booking
            assert intent.refunded_cents == booking.refunded_cents

    def _paid_at_the_provider(self, booking: Booking) -> bool:
        """The client pays the booking's intent, if it still takes a payment."""
        intent = self.payments.intents.get(str(booking.payment_intent_id))
        if intent is None or intent.status not in ("requires_payment_method", "succeeded"):
            return False
        self.payments.succeed(intent.id)
        return True

    def _attempt(self, request: CreateBooking) -> Outcome:
        try:
            receipt = services.create_booking(
                request,
                uow=self.uow,
                payments=self.payments,
                idempotency=self.idempotency,
                clock=self.clock,
            )
        except BookingError as error:
            return Outcome(request, None, type(error))
        return Outcome(request, receipt, None)

    def _pick(self, data: st.DataObject) -> Booking:
        # In the order they were made: ids are random, so sorting them would make Hypothesis's
        # replays pick other bookings (FlakyStrategyDefinition).
        booking_id = data.draw(st.sampled_from(list(self.store.bookings)))
        return self.store.bookings[booking_id]


BookingMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_booking_state_machine = BookingMachine.TestCase
