"""The Stripe adapter against a tiny local stand-in for Stripe's API that answers what the test
scripts: a failure that may pass is retried with the same idempotency key, a refusal is not."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from adapters.memory import InMemoryIdempotencyStore, InMemoryStore, InMemoryUnitOfWork
from adapters.payments.stripe_gateway import StripeGateway
from booking import catalogue, services
from booking.commands import CreateBooking
from booking.errors import PaymentUnavailable
from booking.model import BookingStatus, CancellationReason
from booking.receipts import BookingReceipt
from entrypoints.api import errors
from tests.factories import MONDAY, FixedClock, at, make_client, make_professional, new_key

DROP = "drop the connection"
INTENT = {
    "id": "pi_stub_1",
    "object": "payment_intent",
    "amount": 6000,
    "currency": "usd",
    "client_secret": "pi_stub_1_secret_stub",
    "status": "requires_payment_method",
}
SERVER_ERROR = {"error": {"type": "api_error", "message": "Something went wrong on our end."}}
INVALID = {"error": {"type": "invalid_request_error", "code": "parameter_invalid_integer",
                     "param": "amount", "message": "Invalid integer: -1"}}
DECLINED = {"error": {"type": "card_error", "code": "card_declined",
                      "message": "Your card was declined."}}


@dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None


@dataclass
class FakeStripe:
    """Answers each ``POST /v1/payment_intents`` with the next scripted answer."""

    answers: list[tuple[int, dict[str, object]] | str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.seen.append(Seen("POST", self.path, self.headers.get("Idempotency-Key")))
                answer = fake.answers.pop(0) if fake.answers else (500, SERVER_ERROR)
                if answer == DROP:
                    self.close_connection = True  # closed with no answer at all
                    return
                status, body = answer  # type: ignore[misc]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{len(fake.seen)}")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet

        return Handler


@pytest.fixture
def fake_stripe() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())  # a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class Shop:
    """The booking service on in-memory storage, paying through the Stripe adapter."""

    gateway: StripeGateway
    clock: FixedClock = field(default_factory=FixedClock)
    store: InMemoryStore = field(default_factory=InMemoryStore)

    def __post_init__(self) -> None:
        self.uow = InMemoryUnitOfWork(self.store)
        self.professional = catalogue.register_professional(make_professional(), uow=self.uow)
        self.client = catalogue.register_client(make_client(), uow=self.uow)

    def book(self) -> BookingReceipt:
        cmd = CreateBooking(
            client_id=self.client.id, professional_id=self.professional.id,
            start=at(MONDAY, 10), duration=timedelta(hours=1), idempotency_key=new_key(),
        )
        return services.create_booking(
            cmd, uow=self.uow, payments=self.gateway,
            idempotency=InMemoryIdempotencyStore(self.clock), clock=self.clock,
        )


def shop_on(base: str) -> Shop:
    return Shop(StripeGateway("sk_test_stub", api_base=base, max_network_retries=2))


@pytest.mark.parametrize("first", [(500, SERVER_ERROR), DROP], ids=["500", "dropped"])
def test_a_failure_that_may_pass_is_retried_with_the_bookings_idempotency_key(
    fake_stripe: tuple[FakeStripe, str], first: tuple[int, dict[str, object]] | str
) -> None:
    fake, base = fake_stripe
    fake.answers = [first, (200, INTENT)]
    shop = shop_on(base)

    receipt = shop.book()

    assert receipt.payment_intent_id == "pi_stub_1"
    key = f"booking-{receipt.booking_id}-intent"
    assert fake.seen == [Seen("POST", "/v1/payment_intents", key)] * 2


def test_a_provider_that_keeps_failing_is_tried_three_times_then_the_hold_is_let_go(
    fake_stripe: tuple[FakeStripe, str],
) -> None:
    fake, base = fake_stripe
    fake.answers = [(500, SERVER_ERROR)] * 3
    shop = shop_on(base)

    with pytest.raises(PaymentUnavailable, match="unavailable"):
        shop.book()

    assert len(fake.seen) == 3 and len({seen.idempotency_key for seen in fake.seen}) == 1
    [booking] = shop.store.bookings.values()
    assert booking.cancellation_reason is CancellationReason.PAYMENT_ERROR


@pytest.mark.parametrize(
    ("answer", "says"),
    [((400, INVALID), "refused to open the payment"),
     ((402, DECLINED), "the card was declined")],
    ids=["invalid-request", "card-error"],
)  # fmt: skip
def test_a_refusal_is_not_retried_and_surfaces_as_the_domains_error(
    fake_stripe: tuple[FakeStripe, str], answer: tuple[int, dict[str, object]], says: str
) -> None:
    fake, base = fake_stripe
    fake.answers = [answer, (200, INTENT)]
    shop = shop_on(base)

    with pytest.raises(PaymentUnavailable, match=says):
        shop.book()

    assert len(fake.seen) == 1
    [booking] = shop.store.bookings.values()
    assert booking.status is BookingStatus.CANCELLED  # the hold is let go, never half-made


LEAKY = {"error": {"type": "invalid_request_error",
                   "message": "Invalid API Key provided: sk_live_********************1234"}}


@pytest.mark.parametrize(
    "answer", [(401, LEAKY), (402, DECLINED), (400, INVALID), (500, SERVER_ERROR)],
    ids=["bad-key", "card-error", "invalid-request", "server-error"],
)
def test_stripes_own_text_is_logged_and_never_reaches_the_clients_503(
    fake_stripe: tuple[FakeStripe, str], answer: tuple[int, dict[str, object]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, base = fake_stripe
    fake.answers = [answer] * 3
    shop = shop_on(base)
    app = Flask(__name__)
    errors.register(app)

    with (
        caplog.at_level(logging.WARNING, logger="adapters.payments.stripe_gateway"),
        pytest.raises(PaymentUnavailable) as raised,
    ):
        shop.book()
    with app.app_context():
        response = errors.domain_error(raised.value)

    stripe_text = str(answer[1]["error"]["message"])  # type: ignore[index]
    body = response.get_json()
    assert response.status_code == 503
    assert body["error"]["code"] == "payment_unavailable"
    assert stripe_text not in response.get_data(as_text=True)
    assert "sk_live" not in response.get_data(as_text=True)
    assert body["error"]["message"] in (
        "the payment provider refused to open the payment",
        "the card was declined",
        "the payment provider is unavailable; could not open the payment, try again later",
    )
    assert stripe_text in caplog.text  # the operator still sees what Stripe said
