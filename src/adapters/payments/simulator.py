"""The embedded default payment provider: Stripe's behaviour, in memory, with real webhooks.

``SimulatedPayments`` implements the payment port like Stripe (intents, cancel, refund, every
call idempotent by key) and can *pay* an intent: ``pay(intent_id, card)`` builds the same
``payment_intent.succeeded`` / ``payment_intent.payment_failed`` event JSON Stripe sends, signs
it exactly as Stripe does (``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed by the endpoint secret>``) and hands it to a sink; in the demo the sink POSTs
it to the app's ``/stripe/webhook``, so paying in the demo runs the production webhook path.

A delivery that fails (the app is restarting, answers 5xx) does not lose the event: like
Stripe, the simulator sends it again in the background with growing delays (``retry_delays``),
signed afresh each time; the payment itself has succeeded either way.

Intents live in this process's memory: after a restart, holds opened earlier can no longer be
paid (they expire, as unpaid holds do, and cancelling an intent the simulator does not know is a
no-op). Like localstripe, the simulator sends no webhook for cancels and refunds, which the app
records when it makes them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.payments.stripe_gateway import event_json
from booking.errors import PaymentAlreadySucceeded, PaymentUnavailable
from booking.ports import PaymentIntent

logger = logging.getLogger(__name__)

API_VERSION = "2025-01-27.acacia"
CARDS = {
    "pm_card_visa": None,  # succeeds
    "pm_card_chargeCustomerFail": ("card_declined", "Your card was declined."),
}

Sink = Callable[[bytes, str], None]  # (event body, Stripe-Signature header); raises if refused
RETRY_DELAYS = (1.0, 4.0, 16.0, 64.0, 256.0)  # seconds before each redelivery, as Stripe backs off


def simulated_webhook_secret(app_secret: str) -> str:
    """The endpoint secret the simulator signs with, derived from the app's secret key."""
    digest = hmac.new(app_secret.encode(), b"hourbook simulated stripe webhooks", hashlib.sha256)
    return "whsec_sim_" + digest.hexdigest()[:32]


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """``t=…,v1=…`` exactly as Stripe computes it (``stripe.WebhookSignature`` verifies it)."""
    signed = str(timestamp).encode() + b"." + payload
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class _Intent:
    id: str
    booking_id: UUID
    amount: int
    currency: str
    client_secret: str
    created: int
    status: str = "requires_payment_method"
    refunded: int = 0


class SimulatedPayments:
    def __init__(
        self,
        webhook_secret: str,
        sink: Sink | None = None,
        *,
        now: Callable[[], float] = time.time,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.sink = sink
        self.retry_delays = tuple(retry_delays)
        self.undelivered: list[str] = []  # ids of events given up after every retry
        self._now = now
        self._intents: dict[str, _Intent] = {}
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- the payment port ----------------------------------------------------------------

    def create_intent(
        self, *, booking_id: UUID, amount_cents: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        with self._lock:
            intent_id = self._by_key.get(idempotency_key)
            if intent_id is None:
                intent_id = f"pi_sim_{secrets.token_hex(12)}"
                self._intents[intent_id] = _Intent(
                    id=intent_id,
                    booking_id=booking_id,
                    amount=amount_cents,
                    currency=currency,
                    client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
                    created=int(self._now()),
                )
                self._by_key[idempotency_key] = intent_id
            intent = self._intents[intent_id]
        return PaymentIntent(intent.id, intent.client_secret, intent.status)

    def cancel_intent(self, payment_intent_id: str, *, idempotency_key: str) -> None:
        with self._lock:
            intent = self._intents.get(payment_intent_id)
            if intent is None:
                return  # forgotten in a restart: it can never be paid, as good as cancelled
            if intent.status == "succeeded":
                raise PaymentAlreadySucceeded(
                    f"the payment {payment_intent_id} has succeeded",
                    amount_received_cents=intent.amount, currency=intent.currency,
                )
            intent.status = "canceled"

    def refund(self, payment_intent_id: str, *, amount_cents: int, idempotency_key: str) -> str:
        with self._lock:
            known = self._by_key.get(idempotency_key)
            if known is not None:
                return known
            intent = self._get(payment_intent_id)
            if intent.status != "succeeded":
                raise PaymentUnavailable("only a succeeded payment can be refunded")
            if intent.refunded + amount_cents > intent.amount:
                raise PaymentUnavailable("the refund exceeds what was paid")
            intent.refunded += amount_cents
            refund_id = f"re_sim_{secrets.token_hex(12)}"
            self._by_key[idempotency_key] = refund_id
        return refund_id

    # -- the client's side -----------------------------------------------------------------

    def status(self, payment_intent_id: str) -> str:
        with self._lock:
            return self._get(payment_intent_id).status

    def pay(
        self,
        payment_intent_id: str,
        card: str = "pm_card_visa",
        *,
        client_secret: str | None = None,
    ) -> str:
        """Confirm the intent with a test card and deliver the signed webhook; the new status.

        ``client_secret``, when given, must be the intent's, as Stripe.js requires of a browser.
        The webhook is sent once now; if that fails it is retried in the background, and the
        answer is the intent's status all the same.
        """
        if card not in CARDS:
            raise ValueError(f"unknown test card {card!r}; use one of {', '.join(CARDS)}")
        decline = CARDS[card]
        with self._lock:
            intent = self._get(payment_intent_id)
            if client_secret is not None and not hmac.compare_digest(
                client_secret, intent.client_secret
            ):
                raise PaymentUnavailable(f"no such payment: {payment_intent_id}")
            if intent.status not in ("requires_payment_method", "requires_confirmation"):
                raise ValueError(f"the payment is {intent.status}; it cannot be paid now")
            intent.status = status = "requires_payment_method" if decline else "succeeded"
            body = self._event(intent, card, decline)
        if self.sink is not None and not self._send(self.sink, body, attempt=1):
            threading.Thread(
                target=self._redeliver, args=(self.sink, body), daemon=True,
                name=f"simulated-webhook-{body['id']}",
            ).start()
        return status

    def _send(self, sink: Sink, event: dict[str, Any], *, attempt: int) -> bool:
        """One delivery, signed at the time it is sent (as Stripe signs each attempt)."""
        payload = event_json(event)
        try:
            sink(payload, signature_header(payload, self.webhook_secret, int(self._now())))
        except Exception as error:  # whatever the endpoint did, the event is kept and retried
            logger.warning("simulated webhook %s, attempt %s, failed: %r", event["id"], attempt,
                           error)
            return False
        return True

    def _redeliver(self, sink: Sink, event: dict[str, Any]) -> None:
        for attempt, delay in enumerate(self.retry_delays, start=2):
            time.sleep(delay)
            if self._send(sink, event, attempt=attempt):
                return
        logger.error("simulated webhook %s given up after %s attempts", event["id"],
                     len(self.retry_delays) + 1)
        with self._lock:
            self.undelivered.append(str(event["id"]))

    def _event(
        self, intent: _Intent, card: str, decline: tuple[str, str] | None
    ) -> dict[str, Any]:
        failed = decline is not None
        data: dict[str, Any] = {
            "id": intent.id,
            "object": "payment_intent",
            "amount": intent.amount,
            "amount_received": 0 if failed else intent.amount,
            "currency": intent.currency,
            "status": intent.status,
            "client_secret": intent.client_secret,
            "created": intent.created,
            "livemode": False,
            "metadata": {"booking_id": str(intent.booking_id)},
            "payment_method": None if failed else card,
            "payment_method_types": ["card"],
            "last_payment_error": (
                {"type": "card_error", "code": decline[0], "message": decline[1]}
                if decline
                else None
            ),
        }
        return {
            "id": f"evt_sim_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self._now()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "payment_intent.payment_failed" if failed else "payment_intent.succeeded",
            "data": {"object": data},
        }

    def _get(self, payment_intent_id: str) -> _Intent:
        intent = self._intents.get(payment_intent_id)
        if intent is None:
            raise PaymentUnavailable(f"no such payment: {payment_intent_id}")
        return intent


class HttpWebhookSink:
    """Delivers simulated events to the app's webhook URL, as Stripe would."""

    def __init__(self, url: str, *, timeout: float = 10) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must be http(s)")
        self.url = url
        self.timeout = timeout

    def __call__(self, payload: bytes, signature: str) -> None:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
            logger.info("simulated webhook delivered: %s", answer.status)
