"""Property: whatever order bookings, reschedules (by the client, the professional or an admin),
payments, cancels, expiries and the passing of time come in, no two active bookings of a
professional ever overlap (buffer included), and no paid booking is ever lost: it stays
confirmed at its price unless someone cancelled it, in which case its refund is decided. A
reschedule changes the start alone (and the end with it), or nothing at all."""

from __future__ import annotations

import copy
from datetime import timedelta
from uuid import UUID

from hypothesis import event, settings
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
    RecordPaymentSucceeded,
    RescheduleBooking,
)
from booking.errors import BookingError
from booking.holds import HoldLimits
from booking.model import Booking, BookingPolicy, BookingStatus, CancellationReason, Party
from booking.rescheduling import ReschedulePolicy
from tests.factories import MONDAY, FixedClock, make_client, make_professional, new_key

TUESDAY = MONDAY + timedelta(days=1)
# Half hours of Tuesday from 08:30 (before the 09:00 window: refused) to 16:30 (a two-hour
# booking would end too late), most of them inside the window.
starts = st.integers(17, 33).map(lambda half_hours: TUESDAY + timedelta(minutes=30 * half_hours))
# Unpaid holds are capped per client; the caps are not what this is about.
ROOMY = HoldLimits(per_client=20, per_client_and_professional=20)
# The client-side reasons and the others: the client's cancel may keep part of the money.
REASONS = [CancellationReason.CLIENT, CancellationReason.PROFESSIONAL, CancellationReason.ADMIN]


class ReschedulingMachine(RuleBasedStateMachine):
    @initialize(cap=st.sampled_from([None, None, 2, 0]))
    def open_the_business(self, cap: int | None) -> None:
        self.clock = FixedClock(MONDAY)
        self.store = InMemoryStore()
        self.payments = InMemoryPayments()
        self.idempotency = InMemoryIdempotencyStore(self.clock, lease=timedelta(days=30))
        self.policy = ReschedulePolicy(max_per_booking=cap)
        pro = make_professional(
            policy=BookingPolicy(minimum_notice=timedelta(0), buffer=timedelta(minutes=30))
        )
        self.professional = catalogue.register_professional(pro, uow=self.uow()).id
        self.clients = [catalogue.register_client(make_client(), uow=self.uow()).id
                        for _ in range(3)]  # fmt: skip
        self.made: list[UUID] = []
        self.paid: set[UUID] = set()  # bookings whose payment succeeded and was reported
        self.cancelled_on_request: set[UUID] = set()

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def stored(self, booking_id: UUID) -> Booking:
        return self.store.bookings[booking_id]

    def pick(self, which: int) -> UUID:
        return self.made[which % len(self.made)]

    # -- what happens ----------------------------------------------------------------------------

    @rule(client=st.integers(0, 2), start=starts, hours=st.integers(1, 2))
    def book(self, client: int, start: object, hours: int) -> None:
        cmd = CreateBooking(
            client_id=self.clients[client], professional_id=self.professional,
            start=start, duration=timedelta(hours=hours), idempotency_key=new_key(),  # type: ignore[arg-type]
        )
        try:
            receipt = services.create_booking(
                cmd, uow=self.uow(), payments=self.payments, idempotency=self.idempotency,
                clock=self.clock, limits=ROOMY,
            )
        except BookingError as refused:
            event(f"book refused: {refused.code}")
            return
        self.made.append(receipt.booking_id)

    @precondition(lambda self: self.made)
    @rule(which=st.integers(0, 20), start=starts, by=st.sampled_from(list(Party)))
    def reschedule(self, which: int, start: object, by: Party) -> None:
        booking_id = self.pick(which)
        before = copy.deepcopy(self.stored(booking_id))
        try:
            services.reschedule_booking(
                RescheduleBooking(booking_id=booking_id, start=start, by=by),  # type: ignore[arg-type]
                uow=self.uow(), clock=self.clock, policy=self.policy,
            )
        except BookingError as refused:
            event(f"reschedule refused: {refused.code}")
            after = self.stored(booking_id)
            assert (after.slot, after.version) == (before.slot, before.version)
            return
        after = self.stored(booking_id)
        event(f"reschedule of a {before.status.value} booking by the {by.value}: done")
        assert after.start == start and after.slot.duration == before.slot.duration
        for kept in ("status", "total_price_cents", "currency", "paid_cents", "terms",
                     "payment_intent_id", "created_at", "refund_due_cents", "refunded_cents"):
            assert getattr(after, kept) == getattr(before, kept), kept
        assert after.reschedule_count == before.reschedule_count + (after.slot != before.slot)

    @precondition(lambda self: self.made)
    @rule(which=st.integers(0, 20))
    def pay(self, which: int) -> None:
        booking = self.stored(self.pick(which))
        intent = self.payments.intents.get(str(booking.payment_intent_id))
        if intent is None or intent.status != "requires_payment_method":
            return
        self.payments.succeed(intent.id)
        services.record_payment_succeeded(
            RecordPaymentSucceeded(
                payment_intent_id=intent.id, amount_received_cents=intent.amount_cents,
                currency=intent.currency,
            ),
            uow=self.uow(), clock=self.clock,
        )
        self.paid.add(booking.id)

    @precondition(lambda self: self.made)
    @rule(which=st.integers(0, 20), reason=st.sampled_from(REASONS))
    def cancel(self, which: int, reason: CancellationReason) -> None:
        booking_id = self.pick(which)
        try:
            services.cancel_booking(
                CancelBooking(booking_id=booking_id, reason=reason),
                uow=self.uow(), payments=self.payments, clock=self.clock,
            )
        except BookingError:
            return
        self.cancelled_on_request.add(booking_id)

    @rule()
    def expire(self) -> None:
        self.clock.advance(timedelta(minutes=16))
        services.expire_holds(uow=self.uow(), payments=self.payments, clock=self.clock)

    @rule(hours=st.integers(1, 6))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    # -- what always holds -------------------------------------------------------------------------

    @invariant()
    def no_two_active_bookings_overlap(self) -> None:
        active = [b for b in self.store.bookings.values() if b.is_active]
        for index, first in enumerate(active):
            for second in active[index + 1 :]:
                assert not first.blocked.overlaps(second.blocked), (first, second)

    @invariant()
    def no_paid_booking_is_lost(self) -> None:
        for booking_id in self.paid:
            booking = self.stored(booking_id)
            assert booking.paid_cents == booking.total_price_cents, booking
            if booking_id in self.cancelled_on_request:
                assert booking.status is BookingStatus.CANCELLED
                continue
            assert booking.status is BookingStatus.CONFIRMED, booking


ReschedulingMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None
)
test_book_reschedule_cancel_and_expire_never_overlap_and_never_lose_a_paid_booking = (
    ReschedulingMachine.TestCase
)
