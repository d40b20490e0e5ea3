"""The embedded default end to end: the simulator pays, its signed webhook reaches the real app,
the in-process runner writes the emails as .eml files, and the calendar feed shows the booking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import pytest
from flask import Flask

from adapters.jobs.inline_runner import InlineJobRunner
from adapters.payments.simulator import SimulatedPayments
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from booking.model import BookingStatus
from entrypoints.api.app import create_app
from entrypoints.api.calendar_feed import feed_path
from entrypoints.bootstrap import Container, build, make_job_context
from entrypoints.config import Environment, Settings
from entrypoints.payments import webhook_secret
from tests.factories import FixedClock
from tests.integration.payments.conftest import Shop


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Flask, Container, SimulatedPayments]]:
    settings = Settings(
        env=Environment.TEST,
        database_url=f"sqlite+pysqlite:///{tmp_path / 'demo.sqlite3'}",
        secret_key="demo-secret-" + "s" * 32,
        rate_limits_enabled=False,
        mail_dir=tmp_path / "mail",
    )
    migrate.upgrade(make_engine(settings.database_url))
    container = build(settings, clock=FixedClock(datetime.now(UTC)))
    app = create_app(settings, container)
    client = app.test_client()

    def deliver(payload: bytes, signature: str) -> None:
        answer = client.post("/stripe/webhook", data=payload,
                             headers={"Stripe-Signature": signature})
        assert answer.status_code == 200, answer.get_json()

    simulator = SimulatedPayments(webhook_secret(settings), sink=deliver)
    container.payments = simulator
    yield app, container, simulator
    container.close()


def test_paying_with_the_simulator_confirms_mails_and_publishes_the_booking(
    demo: tuple[Flask, Container, SimulatedPayments],
) -> None:
    app, container, simulator = demo
    shop = Shop(container.engine, simulator, clock=container.clock)  # type: ignore[arg-type]
    receipt = shop.book()

    simulator.pay(str(receipt.payment_intent_id), "pm_card_visa")
    runner = InlineJobRunner(make_job_context(container))  # no Redis: in-process
    runner.run_pending()

    assert shop.booking(receipt.booking_id).status is BookingStatus.CONFIRMED
    mails = sorted(Path(container.settings.mail_dir).glob("*.eml"))
    recipients = sorted(str(message_from_bytes(m.read_bytes())["To"]) for m in mails)
    assert recipients == ["ada@example.com", "cleo@example.com"]
    token = container.feed_tokens.rotate(shop.professional.id, container.clock.now())
    feed = app.test_client().get(feed_path(shop.professional.id, token))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert f"UID:{receipt.booking_id}" in feed.text and "STATUS:CONFIRMED" in feed.text


def test_a_declined_simulated_card_cancels_the_booking(
    demo: tuple[Flask, Container, SimulatedPayments],
) -> None:
    _, container, simulator = demo
    shop = Shop(container.engine, simulator, clock=container.clock)  # type: ignore[arg-type]
    receipt = shop.book()

    status = simulator.pay(str(receipt.payment_intent_id), "pm_card_chargeCustomerFail")

    assert status == "requires_payment_method"
    assert shop.booking(receipt.booking_id).status is BookingStatus.CANCELLED


def test_the_calendar_feed_needs_the_professionals_own_token(
    demo: tuple[Flask, Container, SimulatedPayments],
) -> None:
    app, container, simulator = demo
    shop = Shop(container.engine, simulator, clock=container.clock)  # type: ignore[arg-type]
    other = Shop(container.engine, simulator, clock=container.clock)  # type: ignore[arg-type]
    theirs = container.feed_tokens.rotate(other.professional.id, container.clock.now())
    own = container.feed_tokens.rotate(shop.professional.id, container.clock.now())

    client = app.test_client()
    path = f"/professionals/{shop.professional.id}/calendar.ics"

    assert client.get(f"{path}?token={theirs}").status_code == 404
    assert client.get(path).status_code == 404
    assert client.get(feed_path(shop.professional.id, own)).status_code == 200

