"""Stripe events built and signed in the tests, for what localstripe never sends."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid4

import stripe

from adapters.payments.stripe_gateway import event_json


def intent_event(
    event_type: str,
    intent_id: str,
    *,
    booking_id: UUID | None = None,
    amount: int = 6000,
    currency: str = "usd",
    event_id: str | None = None,
) -> bytes:
    """A PaymentIntent event; a success took in ``amount`` ``currency`` (``amount_received``)."""
    status = {
        "payment_intent.succeeded": "succeeded",
        "payment_intent.payment_failed": "requires_payment_method",
        "payment_intent.canceled": "canceled",
    }.get(event_type, "processing")
    data: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency,
        "status": status,
        "metadata": {"booking_id": str(booking_id)} if booking_id else {},
    }
    return _event(event_type, data, event_id)


def refund_event(
    intent_id: str, *, amount: int, refunded: int | None = None, event_id: str | None = None
) -> bytes:
    """``charge.refunded`` for a charge of ``amount``, ``refunded`` of it in all (default: all)."""
    refunded = amount if refunded is None else refunded
    data = {
        "id": f"ch_{uuid4().hex[:24]}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "payment_intent": intent_id,
        "refunded": refunded == amount,
        "metadata": {},
    }
    return _event("charge.refunded", data, event_id)


def _event(event_type: str, data: dict[str, Any], event_id: str | None) -> bytes:
    return event_json(
        {
            "id": event_id or f"evt_{uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": data},
        }
    )


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send (the SDK's own test helper)."""
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )
    return header


def dispute_event(
    event_type: str, intent_id: str, *, dispute_id: str, amount: int = 6000,
    status: str = "needs_response", event_id: str | None = None,
) -> bytes:
    """``charge.dispute.*`` for a dispute of ``amount`` on the intent's charge."""
    data = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "usd",
        "charge": f"ch_{uuid4().hex[:24]}",
        "payment_intent": intent_id,
        "reason": "fraudulent",
        "status": status,
        "metadata": {},
    }
    return _event(event_type, data, event_id)
