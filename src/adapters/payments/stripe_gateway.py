"""The payment port on Stripe's official SDK, and verification of Stripe's signed webhooks.

Idempotency does not rest on Stripe alone. Every call sends the key the service layer derived
from the booking (``booking-<id>-intent``, ``-cancel``, ``-refund-…``), which real Stripe honours
for 24 hours; but localstripe ignores ``Idempotency-Key`` and Stripe forgets keys after a day,
and PaymentIntents cannot be looked up by metadata without the Search API (which localstripe
lacks). So the source of truth is ours: the booking row holds its intent id once attached, and
``create_booking`` opens exactly one intent per booking (a failed open cancels the hold). An
intent orphaned by a lost response is never shown to the client; should it be paid anyway, its
``metadata.booking_id`` routes the success webhook to the booking, and a success for a cancelled
booking is refunded (``record_payment_succeeded``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import stripe

from booking.errors import PaymentAlreadySucceeded, PaymentUnavailable
from booking.ports import PaymentIntent

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 20


class StripeGateway:
    """``booking.ports.PaymentGateway`` on a ``stripe.StripeClient``.

    The SDK retries network errors, 409s, 429s and 5xx answers ``max_network_retries`` times
    with exponential backoff and jitter, resending the same idempotency key; whatever still
    fails surfaces as :class:`PaymentUnavailable`, so the booking is left in a clear state.
    """

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = 2,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.new_default_http_client(timeout=timeout_seconds),
        )

    def create_intent(
        self, *, booking_id: UUID, amount_cents: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        with _as_domain_errors("open the payment"):
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency,
                    "payment_method_types": ["card"],
                    "metadata": {"booking_id": str(booking_id)},
                },
                options={"idempotency_key": idempotency_key},
            )
        return PaymentIntent(intent.id, str(intent.client_secret), intent.status)

    def cancel_intent(self, payment_intent_id: str, *, idempotency_key: str) -> None:
        """Cancel an unpaid intent; one that is already cancelled counts as done.

        An intent that has succeeded raises :class:`PaymentAlreadySucceeded`, so the caller
        records that success even if its webhook never arrives.
        """
        try:
            with _as_domain_errors("cancel the payment"):
                self._client.v1.payment_intents.cancel(
                    payment_intent_id, options={"idempotency_key": idempotency_key}
                )
        except PaymentUnavailable as error:
            # Stripe refuses with ``payment_intent_unexpected_state``, localstripe with a bare
            # 400; either way the intent's own status says why.
            refusal = error.__cause__
            if not isinstance(refusal, stripe.InvalidRequestError):
                raise
            with _as_domain_errors("read the payment"):
                intent = self._client.v1.payment_intents.retrieve(payment_intent_id)
            status = str(intent.status)
            if status == "succeeded":
                received = getattr(intent, "amount_received", None)  # localstripe has none
                raise PaymentAlreadySucceeded(
                    f"the payment {payment_intent_id} has already succeeded",
                    amount_received_cents=received if isinstance(received, int) else None,
                    currency=str(intent.currency).lower(),
                ) from refusal
            if status != "canceled":
                raise  # processing, say: its own webhook will tell how it ends

    def refund(self, payment_intent_id: str, *, amount_cents: int, idempotency_key: str) -> str:
        with _as_domain_errors("refund the payment"):
            refund = self._client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        return str(refund.id)

    def status(self, payment_intent_id: str) -> str:
        with _as_domain_errors("read the payment"):
            return str(self._client.v1.payment_intents.retrieve(payment_intent_id).status)


@contextmanager
def _as_domain_errors(doing: str) -> Iterator[None]:
    """Stripe's errors as :class:`PaymentUnavailable` with a fixed message of ours.

    Stripe's own text goes to the log only: it can name the account's key ("Invalid API Key
    provided: sk_live_…"), request ids and parameters, none of which a client may see.
    """
    try:
        yield
    except stripe.CardError as error:
        logger.warning("stripe declined the card trying to %s: %s", doing, _described(error))
        raise PaymentUnavailable("the card was declined") from error
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        logger.warning("stripe unavailable trying to %s: %s", doing, _described(error))
        raise PaymentUnavailable(
            f"the payment provider is unavailable; could not {doing}, try again later"
        ) from error
    except stripe.StripeError as error:
        # Authentication, invalid request, permission: permanent, and a bug or a setup error.
        logger.error("stripe refused to %s: %s", doing, _described(error))
        raise PaymentUnavailable(f"the payment provider refused to {doing}") from error


def _described(error: stripe.StripeError) -> str:
    return f"{type(error).__name__} (HTTP {error.http_status}, code {error.code}): {error}"


# -- webhooks ------------------------------------------------------------------------------

BAD_SIGNATURE = "missing or invalid Stripe-Signature"


class InvalidWebhook(Exception):
    """The request is not a genuine, fresh, well-formed Stripe event.

    ``str()`` is our own fixed reason, fit to answer; ``detail`` (the SDK's words, or the
    configuration problem) is for the log only.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail or reason


@dataclass(frozen=True, slots=True, kw_only=True)
class StripeEvent:
    """What the app needs from one Stripe event (``data.object`` of a PaymentIntent or Charge)."""

    id: str
    type: str
    created: int
    object_id: str
    payment_intent_id: str | None
    booking_id: UUID | None
    amount: int | None
    amount_refunded: int | None
    amount_received: int | None = None  # a PaymentIntent's
    currency: str | None = None  # lower case
    status: str | None = None  # the object's own status (a dispute's: needs_response, won...)
    reason: str | None = None  # a dispute's reason


def parse_event(
    payload: bytes, signature_header: str | None, secret: str, tolerance: int = 300
) -> StripeEvent:
    """Verify ``Stripe-Signature`` (HMAC-SHA256 over ``t.payload``, ``tolerance`` seconds)."""
    if not secret:
        raise InvalidWebhook(BAD_SIGNATURE, "no webhook secret is configured")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret, tolerance)
        document = event.to_dict()
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(BAD_SIGNATURE, f"bad signature: {error}") from error
    except (ValueError, TypeError, AttributeError) as error:  # JSON, or not an object
        raise InvalidWebhook("the payload is not a Stripe event") from error
    return _event_from(document)


def _event_from(document: Mapping[str, Any]) -> StripeEvent:
    try:
        data = document["data"]["object"]
        event_id, event_type, created = document["id"], document["type"], document["created"]
        object_id = data["id"]
    except (KeyError, TypeError) as error:
        raise InvalidWebhook("the event lacks id, type, created or data.object") from error
    if not all(isinstance(v, str) and v for v in (event_id, event_type, object_id)):
        raise InvalidWebhook("the event's id, type and object id must be strings")
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidWebhook("the event's created time must be an integer")
    return StripeEvent(
        id=event_id,
        type=event_type,
        created=created,
        object_id=object_id,
        payment_intent_id=_payment_intent_of(data),
        booking_id=_booking_id(data.get("metadata")),
        amount=_int_or_none(data.get("amount")),
        amount_refunded=_int_or_none(data.get("amount_refunded")),
        amount_received=_int_or_none(data.get("amount_received")),
        currency=_text_or_none(data.get("currency"), lower=True),
        status=_text_or_none(data.get("status")),
        reason=_text_or_none(data.get("reason")),
    )


def _payment_intent_of(data: Mapping[str, Any]) -> str | None:
    if data.get("object") == "payment_intent":
        return str(data["id"])
    intent = data.get("payment_intent")  # charges and refunds point at their intent
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    return intent if isinstance(intent, str) and intent else None


def _booking_id(metadata: object) -> UUID | None:
    if not isinstance(metadata, Mapping):
        return None
    try:
        return UUID(str(metadata.get("booking_id")))
    except ValueError:
        return None


def _text_or_none(value: object, *, lower: bool = False) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.lower() if lower else value


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_json(document: Mapping[str, Any]) -> bytes:
    """Serialise an event the way Stripe sends it (used by the simulator and tests)."""
    return json.dumps(document, indent=2, sort_keys=True).encode()
