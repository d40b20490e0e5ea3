from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import pytest

from adapters.memory import (
    InMemoryIdempotencyStore,
    InMemoryPayments,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from booking import catalogue, services
from booking.commands import CreateBooking
from booking.model import Booking
from booking.receipts import BookingReceipt
from tests.factories import MONDAY, FixedClock, at, make_client, make_professional, new_key


class FlakyUnitOfWork(InMemoryUnitOfWork):
    """Fails the next commits with the errors in ``failures``, as a database would."""

    failures: list[Exception | None]

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.failures = []

    def fail_next_commits(self, *errors: Exception, after: int = 0) -> None:
        """Let ``after`` commits through, then fail one commit with each error in turn."""
        self.failures = [*([None] * after), *errors]

    def commit(self) -> None:
        if self.failures:
            error = self.failures.pop(0)
            if error is not None:
                self.rollback()
                raise error
        super().commit()


@dataclass
class World:
    """The service layer wired to in-memory adapters, with one professional and one client."""

    clock: FixedClock = field(default_factory=FixedClock)
    store: InMemoryStore = field(default_factory=InMemoryStore)
    payments: InMemoryPayments = field(default_factory=InMemoryPayments)
    worked: int = 0  # outbox events the worker has followed up

    def __post_init__(self) -> None:
        self.uow = FlakyUnitOfWork(self.store)
        self.idempotency = InMemoryIdempotencyStore(self.clock)
        self.professional = catalogue.register_professional(make_professional(), uow=self.uow)
        self.client = catalogue.register_client(make_client(), uow=self.uow)

    def request(
        self,
        hour: int = 10,
        *,
        key: str | None = None,
        client_id: UUID | None = None,
        professional_id: UUID | None = None,
        hours: int = 1,
        days_ahead: int = 0,
    ) -> CreateBooking:
        return CreateBooking(
            client_id=client_id or self.client.id,
            professional_id=professional_id or self.professional.id,
            start=at(MONDAY, hour) + timedelta(days=days_ahead),
            duration=timedelta(hours=hours),
            idempotency_key=key or new_key(),
        )

    def book(self, hour: int = 10, **kwargs: object) -> BookingReceipt:
        return services.create_booking(
            self.request(hour, **kwargs),  # type: ignore[arg-type]
            uow=self.uow,
            payments=self.payments,
            idempotency=self.idempotency,
            clock=self.clock,
        )

    def stored(self, booking_id: UUID) -> Booking:
        return self.store.bookings[booking_id]

    def run_worker(self) -> None:
        """What the worker does next: each new event's payment follow-up, in order (one that
        fails stays to be retried), then every refund still owed, on bookings and on stray
        payments (``settle_refunds``)."""
        while self.worked < len(self.store.outbox):
            event = self.store.outbox[self.worked]
            services.release_payment_after(
                event, uow=self.uow, payments=self.payments, clock=self.clock
            )
            self.worked += 1
        for booking in list(self.store.bookings.values()):
            if booking.refund_outstanding_cents:
                services.settle_refund(
                    booking.id, uow=self.uow, payments=self.payments, clock=self.clock
                )
        for incident in list(self.store.incidents.values()):
            if incident.refund_outstanding_cents:
                services.settle_incident_refund(
                    incident.reference, uow=self.uow, payments=self.payments, clock=self.clock
                )


@pytest.fixture
def world() -> World:
    return World()
