"""The simulated browser payment: only with the intent's secret, and only where simulated."""

from __future__ import annotations

import time
import urllib.error
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.payments.simulator import SimulatedPayments
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from entrypoints.config import Environment
from entrypoints.payments import webhook_secret
from tests.factories import MONDAY, at
from tests.integration.api.support import Api, error_code


@pytest.fixture
def restarting_app(container: Container, app: Flask) -> SimulatedPayments:
    """The simulator, whose first delivery finds the app restarting; the retry gets through."""
    attempts: list[int] = []

    def deliver(payload: bytes, signature: str) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise urllib.error.URLError(ConnectionRefusedError("the app is restarting"))
        answer = app.test_client().post("/stripe/webhook", data=payload,
                                        headers={"Stripe-Signature": signature})  # fmt: skip
        assert answer.status_code == 200, answer.get_json()

    container.payments = SimulatedPayments(
        webhook_secret(container.settings), sink=deliver, retry_delays=(0.05, 0.5, 2)
    )
    return container.payments


def held_booking(api: Api) -> tuple[dict[str, Any], dict[str, str]]:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    return booking, client.headers


def pay(client: FlaskClient, booking: dict[str, Any], **body: str) -> Any:
    intent = booking["payment"]["payment_intent_id"]
    body.setdefault("client_secret", booking["payment"]["client_secret"])
    return client.post(f"/simulator/payment_intents/{intent}/pay", json=body)


def status_of(client: FlaskClient, booking: dict[str, Any], headers: dict[str, str]) -> str:
    return str(client.get(f"/bookings/{booking['id']}", headers=headers).get_json()["status"])


@pytest.mark.usefixtures("simulator")
def test_paying_with_the_client_secret_confirms_the_booking_through_the_webhook(
    api: Api, client: FlaskClient
) -> None:
    booking, headers = held_booking(api)

    answer = pay(client, booking, payment_method="pm_card_visa")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "succeeded"
    assert status_of(client, booking, headers) == "confirmed"


@pytest.mark.usefixtures("restarting_app")
def test_a_payment_whose_webhook_cannot_be_delivered_yet_answers_its_status_and_confirms_later(
    api: Api, client: FlaskClient
) -> None:
    booking, headers = held_booking(api)

    answer = pay(client, booking, payment_method="pm_card_visa")

    assert (answer.status_code, answer.get_json()["status"]) == (200, "succeeded")
    for _ in range(100):
        if status_of(client, booking, headers) == "confirmed":
            break
        time.sleep(0.05)
    assert status_of(client, booking, headers) == "confirmed"


@pytest.mark.usefixtures("simulator")
def test_a_declined_card_cancels_the_hold(api: Api, client: FlaskClient) -> None:
    booking, headers = held_booking(api)

    answer = pay(client, booking, payment_method="pm_card_chargeCustomerFail")

    assert answer.get_json()["status"] == "requires_payment_method"
    assert status_of(client, booking, headers) == "cancelled"


@pytest.mark.usefixtures("simulator")
def test_a_wrong_client_secret_answers_like_an_unknown_intent(
    api: Api, client: FlaskClient
) -> None:
    booking, headers = held_booking(api)

    answer = pay(client, booking, client_secret="pi_sim_x_secret_guess")  # noqa: S106

    assert answer.status_code == 404
    assert error_code(answer) == "not_found"
    assert status_of(client, booking, headers) == "pending"


@pytest.mark.usefixtures("simulator")
@pytest.mark.parametrize(
    "body",
    [
        {"payment_method": "pm_card_visa", "amount": 1},
        {"payment_method": "pm_card_unknown"},
        {"payment_method": ["pm_card_visa"]},
        {"client_secret": 42},
    ],
)
def test_a_malformed_payment_is_refused_with_the_reason(
    api: Api, client: FlaskClient, body: dict[str, Any]
) -> None:
    booking, headers = held_booking(api)

    answer = pay(client, booking, **body)

    assert answer.status_code == 422
    assert error_code(answer) == "validation_failed"
    assert status_of(client, booking, headers) == "pending"


@pytest.mark.usefixtures("simulator")
def test_a_body_nested_too_deeply_to_read_is_refused_not_a_crash(
    api: Api, client: FlaskClient
) -> None:
    booking, headers = held_booking(api)
    intent = booking["payment"]["payment_intent_id"]

    answer = client.post(
        f"/simulator/payment_intents/{intent}/pay",
        data="[" * 20_000 + "]" * 20_000,  # under the size limit, over the recursion limit
        content_type="application/json",
    )

    assert answer.status_code == 422
    assert error_code(answer) == "validation_failed"
    assert status_of(client, booking, headers) == "pending"


@pytest.mark.usefixtures("simulator")
def test_paying_twice_is_a_conflict_and_charges_once(api: Api, client: FlaskClient) -> None:
    booking, _ = held_booking(api)
    pay(client, booking)

    again = pay(client, booking)

    assert again.status_code == 409
    assert error_code(again) == "illegal_transition"


@pytest.mark.parametrize(
    "changes",
    [{"stripe_api_key": "sk_test_x", "stripe_webhook_secret": "whsec_x"},
     {"env": Environment.PRODUCTION}],
    ids=["with-stripe", "in-production"],
)  # fmt: skip
def test_the_route_does_not_exist_where_payments_are_real(
    container: Container, changes: dict[str, Any]
) -> None:
    real = build(replace(container.settings, **changes))  # on the migrated database
    app: Flask = create_app(real.settings, real)

    answer = app.test_client().post("/simulator/payment_intents/pi_x/pay", json={})

    assert answer.status_code == 404
    real.close()
