"""``POST /stripe/webhook``: Stripe's signed events, verified, deduplicated and applied.

The view verifies the ``Stripe-Signature`` header over the raw body (300 s tolerance) before
reading anything; a bad or missing signature, a stale timestamp or a malformed payload is a 400
and changes nothing. The 400 gives one of our own fixed reasons ("missing or invalid
Stripe-Signature"), never the SDK's text, which is written for developers; that goes to the log.
A verified event is applied at most once (``adapters.payments.stripe_events``) and acknowledged
at once: it never calls Stripe itself. Emails, calendar updates, cancelling the intent of a
declined hold and refunding a late payment follow through the worker.

From the container (``current_app.extensions["hourbook"]``) it uses ``settings``, ``engine``
and ``clock``. Without ``STRIPE_WEBHOOK_SECRET`` (the embedded default) the secret
is the one the payment simulator signs with, derived from the app's secret key.
"""

from __future__ import annotations

import logging
from functools import partial

from flask import Blueprint, Response, current_app, jsonify, request

from adapters.payments.stripe_events import apply_event
from adapters.payments.stripe_gateway import InvalidWebhook, parse_event
from adapters.sql.webhook_events import SqlWebhookInbox
from entrypoints.api import outcomes
from entrypoints.api.errors import error_response
from entrypoints.payments import webhook_secret

logger = logging.getLogger(__name__)

stripe_webhook = Blueprint("stripe_webhook", __name__)


@stripe_webhook.post("/stripe/webhook")
def receive_stripe_event() -> tuple[Response, int]:
    container = current_app.extensions["hourbook"]
    payload = request.get_data(cache=False)  # the exact bytes Stripe signed
    try:
        event = parse_event(
            payload, request.headers.get("Stripe-Signature"), webhook_secret(container.settings)
        )
    except InvalidWebhook as error:
        logger.warning("rejected a webhook: %s", error.detail)
        outcomes.webhook_rejected()
        return error_response(400, "invalid_webhook", str(error)), 400
    inbox = SqlWebhookInbox(container.engine)
    outcome = apply_event(
        event, inbox=inbox, clock=container.clock,
        applied=partial(outcomes.booking_after_payment, event.type),
    )
    outcomes.webhook_applied(event.type, outcome)
    logger.info("stripe event %s (%s): %s", event.id, event.type, outcome)
    return jsonify(received=True, event_id=event.id, outcome=outcome.value), 200
