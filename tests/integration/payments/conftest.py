"""Fixtures for the payment flow: localstripe in its own process, and a served webhook app.

localstripe is started once per test process on a free port. Tests skip when it cannot start,
unless ``HOURBOOK_REQUIRE_SERVICES=1`` turns that into a failure.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import requests
import sqlalchemy as sa
import stripe
from flask import Flask
from werkzeug.serving import make_server

from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments
from adapters.payments.stripe_gateway import StripeGateway
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.model import Booking
from booking.ports import PaymentGateway
from booking.receipts import BookingReceipt
from entrypoints.api.webhooks import stripe_webhook
from tests.factories import FixedClock
from tests.integration.conftest import service_unavailable
from tests.integration.support import register, request

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_SECRET = "whsec_test_" + "x" * 24
PROCESS_ID = uuid4().hex[:8]  # names this test process's webhook registration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """The base URL of a fresh localstripe (no pickle file, nothing shared)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.integration.payments.localstripe_server", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
    except (RuntimeError, TimeoutError) as error:
        process.kill()
        service_unavailable("localstripe", "install it with `pip install localstripe`", error)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def stripe_client(localstripe: str) -> stripe.StripeClient:
    """Plays the client's browser: attaches a card and confirms."""
    return stripe.StripeClient(
        "sk_test_hourbook", base_addresses={"api": localstripe}, max_network_retries=0
    )


@pytest.fixture
def gateway(localstripe: str) -> StripeGateway:
    return StripeGateway("sk_test_hourbook", api_base=localstripe, max_network_retries=1)


@dataclass(frozen=True)
class WebhookSettings:
    stripe_webhook_secret: str | None = WEBHOOK_SECRET
    secret_key: str = "app-secret-for-tests-" + "x" * 16


@dataclass
class Container:
    """The part of the composition root (``entrypoints.bootstrap``) the webhook view uses."""

    engine: sa.Engine
    payments: PaymentGateway
    clock: FixedClock
    settings: WebhookSettings = field(default_factory=WebhookSettings)


def webhook_app(container: Container) -> Flask:
    app = Flask(__name__)
    app.extensions["hourbook"] = container
    app.register_blueprint(stripe_webhook)
    return app


@dataclass
class Shop:
    """A professional, a client and the service layer on a real database and gateway."""

    engine: sa.Engine
    payments: PaymentGateway
    clock: FixedClock = field(default_factory=lambda: FixedClock(datetime.now(UTC)))

    def __post_init__(self) -> None:
        self.professional, self.client = register(self.engine)
        self.idempotency = InMemoryIdempotencyStore(self.clock)
        self.container = Container(self.engine, self.payments, self.clock)
        self.app = webhook_app(self.container)

    @property
    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def book(self, days_ahead: int = 2, hour: int = 10) -> BookingReceipt:
        day = (self.clock.now() + timedelta(days=days_ahead)).replace(
            hour=hour, minute=0, second=0, microsecond=0
        )
        return services.create_booking(
            request(self.professional, self.client, day, timedelta(hours=1)),
            uow=self.uow, payments=self.payments, idempotency=self.idempotency, clock=self.clock,
        )

    def booking(self, booking_id: UUID) -> Booking:
        return services.get_booking(booking_id, uow=self.uow)

    def post(self, payload: bytes, signature: str | None) -> tuple[int, dict[str, object]]:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        response = self.app.test_client().post("/stripe/webhook", data=payload, headers=headers)
        return response.status_code, response.get_json()


@pytest.fixture
def served_shop(sqlite_url: str, gateway: StripeGateway, localstripe: str) -> Iterator[Shop]:
    """A shop whose webhook app is served over HTTP and registered with localstripe."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    shop = Shop(engine, gateway)
    server = make_server("127.0.0.1", 0, shop.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # One registration per test process, replaced by each test: localstripe posts every event
    # to every registered endpoint.
    answer = requests.post(
        f"{localstripe}/_config/webhooks/hourbook-{PROCESS_ID}",
        data={"url": f"http://127.0.0.1:{server.server_port}/stripe/webhook",
              "secret": WEBHOOK_SECRET},
        timeout=5,
    )
    answer.raise_for_status()
    yield shop
    server.shutdown()
    thread.join(5)
    engine.dispose()


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False



@pytest.fixture
def shop(engine: sa.Engine) -> Shop:
    """A shop on each database engine, with the in-memory gateway (signed events built here)."""
    return Shop(engine, InMemoryPayments())
