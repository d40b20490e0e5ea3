"""``POST /simulator/payment_intents/{id}/pay``: the browser's half of a payment, simulated.

With real Stripe, the client's browser confirms the PaymentIntent with its ``client_secret``
(Stripe.js) and Stripe then calls our webhook. In the embedded default there is no browser and
no Stripe, so this route plays that part: it pays the intent with a test card and the simulator
delivers the signed ``payment_intent.*`` event to ``/stripe/webhook``, the production path. A
delivery that fails does not fail the payment: the answer is still 200 with the intent's status,
and the simulator sends the event again in the background, as Stripe does.

It is registered only when the payment provider is the simulator and never in production, and
it asks for the intent's ``client_secret``, as Stripe.js does. Not in the OpenAPI document.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from adapters.payments.simulator import CARDS, SimulatedPayments
from booking.errors import PaymentUnavailable
from entrypoints.api.context import container
from entrypoints.api.errors import error_response

simulator = Blueprint("payment_simulator", __name__)

_FIELDS = frozenset({"client_secret", "payment_method"})
_MAX_SECRET_LENGTH = 200


def register_if_simulated(app: Flask) -> None:
    """Add the route when payments are simulated, outside production."""
    settings = app.extensions["hourbook"].settings
    if isinstance(app.extensions["hourbook"].payments, SimulatedPayments) and not (
        settings.is_production
    ):
        app.register_blueprint(simulator)


@simulator.post("/simulator/payment_intents/<string:intent_id>/pay")
def pay(intent_id: str) -> Response:
    payments = container().payments
    if not isinstance(payments, SimulatedPayments):  # swapped after start-up (tests)
        return error_response(404, "not_found", "payments are not simulated")
    try:
        client_secret, card = _parse(_json_body())
    except _BadBody as error:
        return error_response(422, "validation_failed", str(error))
    try:
        status = payments.pay(intent_id, card, client_secret=client_secret)
    except PaymentUnavailable:
        return error_response(404, "not_found", "no such payment intent")
    except ValueError as error:  # already paid, cancelled, ...
        return error_response(409, "illegal_transition", str(error))
    return jsonify(id=intent_id, status=status)


class _BadBody(ValueError):
    pass


def _json_body() -> object:
    """The body as JSON, or None if it is not JSON at all; too deep to read is a _BadBody."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # silent=True only covers ValueError
        raise _BadBody("the JSON body is nested too deeply") from None


def _parse(body: object) -> tuple[str, str]:
    """``(client_secret, payment_method)`` from the request body, or :class:`_BadBody`."""
    if not isinstance(body, dict):
        raise _BadBody("send a JSON object with client_secret and, optionally, payment_method")
    unknown = set(body) - _FIELDS
    if unknown:
        raise _BadBody(f"unknown fields: {', '.join(sorted(unknown))}")
    secret = body.get("client_secret")
    if not isinstance(secret, str) or not 0 < len(secret) <= _MAX_SECRET_LENGTH:
        raise _BadBody("client_secret is required: the one POST /bookings answered")
    card = body.get("payment_method", "pm_card_visa")
    if not isinstance(card, str) or card not in CARDS:
        raise _BadBody(f"payment_method must be one of {', '.join(CARDS)}")
    return secret, card

