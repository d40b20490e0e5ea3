"""Stray payments and disputes are visible: counted in ``/metrics`` and logged as warnings."""

from __future__ import annotations

import logging

import pytest

from adapters.memory import InMemoryPayments
from entrypoints.bootstrap import Container
from entrypoints.payments import webhook_secret
from tests.factories import MONDAY, at
from tests.integration.api.support import Api
from tests.integration.api.test_metrics import SQLITE_ONLY, deliver, intent_of, scrape
from tests.integration.payments.signing import dispute_event, intent_event, sign


@SQLITE_ONLY
def test_a_payment_of_the_wrong_amount_and_a_dispute_are_counted_and_logged(
    api: Api, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    container.payments = InMemoryPayments()
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    secret = webhook_secret(container.settings)
    one_dollar = intent_event("payment_intent.succeeded", intent_of(booking), amount=100,
                              currency="eur")
    dispute = dispute_event("charge.dispute.created", intent_of(booking), dispute_id="du_1")

    with caplog.at_level(logging.WARNING):
        deliver(api, one_dollar, sign(one_dollar, secret))
        deliver(api, dispute, sign(dispute, secret))

    metrics = scrape(api.client)
    assert metrics.value("hourbook_payment_mismatches_total") == 1
    assert metrics.value("hourbook_webhook_events_total", outcome="mismatch") == 1
    assert metrics.value("hourbook_payment_disputes_total", event="charge.dispute.created") == 1
    assert metrics.value("hourbook_bookings_confirmed_total") == 0
    warned = {(r.levelname, r.name) for r in caplog.records if "du_1" in r.getMessage()
              or "mismatch" in r.getMessage()}
    assert ("WARNING", "booking.services") in warned  # the mismatch
    assert ("ERROR", "booking.services") in warned  # the dispute
