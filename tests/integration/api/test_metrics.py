"""``GET /metrics``: request latency by URL rule, and the counters that move with what happens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from adapters.memory import InMemoryPayments
from adapters.sql import migrate
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from entrypoints.config import ConfigError, Settings
from entrypoints.payments import webhook_secret
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import Api, Json
from tests.integration.payments.signing import intent_event, sign

SQLITE_ONLY = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
LATENCY = "hourbook_http_request_duration_seconds"
TOKEN = "metrics-token-" + "t" * 20


class Scrape:
    """One scrape, parsed: ``scrape.value(name, **labels)`` is 0 for a series not there."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(labels)[label] for found, labels in self.samples if found == name}


def scrape(client: FlaskClient, **headers: str) -> Scrape:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain; version=0.0.4")  # Prometheus' format
    return Scrape(response.text)


@SQLITE_ONLY
def test_every_request_is_timed_in_a_histogram_by_url_rule_method_and_status(
    client: FlaskClient,
) -> None:
    client.get("/healthz")
    client.get("/healthz")

    metrics = scrape(client)

    series = {"endpoint": "/healthz", "method": "GET", "status": "200"}
    assert metrics.value(f"{LATENCY}_count", **series) == 2
    assert metrics.value(f"{LATENCY}_bucket", **series, le="+Inf") == 2
    assert metrics.value(f"{LATENCY}_sum", **series) > 0


@SQLITE_ONLY
def test_latency_is_labelled_by_the_url_rule_never_by_the_raw_path(
    api: Api, client: FlaskClient
) -> None:
    reader = api.register()
    ids = [str(uuid4()), str(uuid4())]
    for booking_id in ids:
        assert client.get(f"/bookings/{booking_id}", headers=reader.headers).status_code == 404
    client.get(f"/no/such/{ids[0]}")
    client.get(f"/no/such/{ids[1]}")

    metrics = scrape(client)

    assert metrics.value(
        f"{LATENCY}_count", endpoint="/bookings/<uuid:booking_id>", method="GET", status="404"
    ) == 2
    assert metrics.value(
        f"{LATENCY}_count", endpoint="unmatched", method="GET", status="404"
    ) == 2
    assert not any(booking_id in metrics.text for booking_id in ids)


def test_a_booking_a_double_booking_and_replays_move_their_counters(api: Api) -> None:
    _, pro = api.professional()
    first, second = api.register(), api.register()
    api.book(first, pro["id"], at(MONDAY, 10), key="first-key")
    api.book(second, pro["id"], at(MONDAY, 10), key="second-key", expect=409)

    api.book(first, pro["id"], at(MONDAY, 10), key="first-key")  # a retry: the same answer
    api.book(second, pro["id"], at(MONDAY, 10), key="second-key", expect=409)  # the same 409

    metrics = scrape(api.client)
    assert metrics.value("hourbook_bookings_created_total") == 1
    assert metrics.value("hourbook_double_booking_attempts_total") == 1
    assert metrics.value("hourbook_idempotent_replays_total") == 2


@SQLITE_ONLY
def test_cancellations_are_counted_by_reason(api: Api, container: Container) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    api.client.post(f"/bookings/{booking['id']}/cancel", headers=client.headers)
    container.payments = InMemoryPayments()
    container.payments.unavailable = True  # the hold cannot open its payment: cancelled
    api.book(client, pro["id"], at(MONDAY, 12), expect=503)

    metrics = scrape(api.client)

    assert metrics.value("hourbook_bookings_cancelled_total", reason="client") == 1
    assert metrics.value("hourbook_bookings_cancelled_total", reason="payment_error") == 1


@SQLITE_ONLY
def test_payment_events_count_successes_failures_confirmations_and_rejections(
    api: Api, container: Container
) -> None:
    container.payments = InMemoryPayments()
    _, pro = api.professional()
    client = api.register()
    paid = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    declined = api.book(client, pro["id"], at(MONDAY, 12)).get_json()
    secret = webhook_secret(container.settings)

    success = intent_event("payment_intent.succeeded", intent_of(paid), currency="eur",
                           event_id="evt_ok")
    deliver(api, success, sign(success, secret))
    deliver(api, success, sign(success, secret))  # Stripe redelivers: a duplicate
    failure = intent_event("payment_intent.payment_failed", intent_of(declined))
    deliver(api, failure, sign(failure, secret))
    deliver(api, b'{"not": "signed"}', "t=1,v1=bad", expect=400)
    late_failure = intent_event("payment_intent.payment_failed", intent_of(paid))
    deliver(api, late_failure, sign(late_failure, secret))  # after the success: changes nothing
    again = intent_event("payment_intent.succeeded", intent_of(paid), event_id="evt_again")
    deliver(api, again, sign(again, secret))  # the same success, a new event id: nothing new

    metrics = scrape(api.client)
    assert metrics.value("hourbook_payments_total", outcome="succeeded") == 1
    assert metrics.value("hourbook_payments_total", outcome="failed") == 1
    assert metrics.value("hourbook_bookings_confirmed_total") == 1
    assert metrics.value("hourbook_bookings_cancelled_total", reason="payment_failed") == 1
    assert metrics.value("hourbook_webhook_events_total", outcome="applied") == 2
    assert metrics.value("hourbook_webhook_events_total", outcome="duplicate") == 1
    assert metrics.value("hourbook_webhook_events_total", outcome="no_change") == 2
    assert metrics.value("hourbook_webhook_rejected_total") == 1


def intent_of(booking: Json) -> str:
    return str(booking["payment"]["payment_intent_id"])


def deliver(api: Api, payload: bytes, signature: str, expect: int = 200) -> None:
    answer = api.client.post(
        "/stripe/webhook", data=payload, headers={"Stripe-Signature": signature}
    )
    assert answer.status_code == expect, answer.get_json()


@SQLITE_ONLY
def test_without_redis_the_job_gauges_read_the_outbox(api: Api) -> None:
    _, pro = api.professional()  # its contact address is mailed a link: one outbox row
    api.book(api.register(), pro["id"], at(MONDAY, 10))  # and the hold's event: two

    metrics = scrape(api.client)

    assert metrics.value("hourbook_job_backlog_up") == 1
    assert metrics.value("hourbook_jobs_queued") == 2
    assert metrics.value("hourbook_outbox_undispatched") == 2
    assert metrics.value("hourbook_jobs_failed") == 0


# -- the optional bearer token ---------------------------------------------------------------


@pytest.fixture
def guarded(settings: Settings, clock: FixedClock) -> Iterator[FlaskClient]:
    container = build(replace(settings, metrics_token=TOKEN), clock=clock)
    migrate.upgrade(container.engine)
    yield create_app(container=container).test_client()
    container.close()


@SQLITE_ONLY
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", TOKEN, f"Basic {TOKEN}"])
def test_with_a_token_configured_metrics_refuse_anything_but_that_bearer_token(
    guarded: FlaskClient, authorization: str | None
) -> None:
    headers: dict[str, Any] = {"Authorization": authorization} if authorization else {}

    response = guarded.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"


@SQLITE_ONLY
def test_with_a_token_configured_metrics_answer_the_bearer(guarded: FlaskClient) -> None:
    scrape(guarded, Authorization=f"Bearer {TOKEN}")


@pytest.mark.parametrize("token", ["short", "has spaces in it but long", "x" * 257, "é" * 20])
def test_a_metrics_token_that_is_short_or_not_a_plain_token_stops_the_start(token: str) -> None:
    with pytest.raises(ConfigError, match="HOURBOOK_METRICS_TOKEN"):
        Settings.from_env({"HOURBOOK_SECRET_KEY": "s" * 40, "HOURBOOK_METRICS_TOKEN": token})


def test_the_metrics_token_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"HOURBOOK_SECRET_KEY": "s" * 40, "HOURBOOK_METRICS_TOKEN": TOKEN})

    assert settings.metrics_token == TOKEN


@SQLITE_ONLY
def test_a_scraper_asking_for_openmetrics_gets_openmetrics(client: FlaskClient) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})

    assert response.content_type.startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
