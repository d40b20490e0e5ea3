"""``GET /metrics`` shows the money owed back to clients: refunds decided but not paid yet."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from adapters.memory import InMemoryPayments
from booking import services
from booking.commands import CancelBooking
from booking.model import CancellationReason
from entrypoints.bootstrap import Container
from entrypoints.payments import webhook_secret
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import Api
from tests.integration.api.test_metrics import deliver, intent_of, scrape
from tests.integration.payments.signing import intent_event, sign

OWED = "hourbook_refunds_owed"


def test_a_refund_the_provider_cannot_pay_is_gauged_until_it_is_paid(
    api: Api, container: Container, clock: FixedClock
) -> None:
    container.payments = payments = InMemoryPayments()
    _, pro = api.professional()
    booking = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()
    paid = intent_event("payment_intent.succeeded", intent_of(booking))
    deliver(api, paid, sign(paid, webhook_secret(container.settings)))
    nothing_owed = scrape(api.client)

    payments.unavailable = True  # the refund cannot be paid when the booking is cancelled
    cancel = CancelBooking(booking_id=UUID(booking["id"]), reason=CancellationReason.PROFESSIONAL)
    services.cancel_booking(cancel, uow=container.uow(), payments=payments, clock=clock)
    clock.advance(timedelta(hours=3))
    owed = scrape(api.client)
    payments.unavailable = False
    services.settle_refund(UUID(booking["id"]), uow=container.uow(), payments=payments, clock=clock)
    settled = scrape(api.client)

    assert OWED not in {name for name, _ in nothing_owed.samples}
    assert nothing_owed.value(f"{OWED}_oldest_seconds") == 0
    price, currency = booking["total_price_cents"], booking["currency"]
    assert owed.value(OWED, currency=currency) == 1
    assert owed.value(f"{OWED}_cents", currency=currency) == price > 0  # the professional cancelled
    assert owed.value(f"{OWED}_oldest_seconds") == 3 * 3600
    assert settled.value(OWED, currency=currency) == 0
    assert settled.value(f"{OWED}_oldest_seconds") == 0
    assert payments.refunds == [(intent_of(booking), price)]
