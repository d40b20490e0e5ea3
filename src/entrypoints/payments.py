"""The payment provider the composition root builds: Stripe if configured, else the simulator."""

from __future__ import annotations

from adapters.payments.simulator import (
    HttpWebhookSink,
    SimulatedPayments,
    simulated_webhook_secret,
)
from adapters.payments.stripe_gateway import StripeGateway
from booking.ports import PaymentGateway
from entrypoints.config import Settings
from entrypoints.keys import Purpose, derive_key


def make_payments(settings: Settings) -> PaymentGateway:
    """``STRIPE_API_KEY`` (and ``STRIPE_API_BASE`` for localstripe) selects Stripe; otherwise
    the simulator, which delivers its signed events to this app's own ``/stripe/webhook``."""
    if settings.stripe_api_key:
        return StripeGateway(settings.stripe_api_key, api_base=settings.stripe_api_base)
    return SimulatedPayments(
        simulated_webhook_secret(_simulator_key(settings)),
        sink=HttpWebhookSink(f"{settings.public_url.rstrip('/')}/stripe/webhook"),
    )


def webhook_secret(settings: Settings) -> str:
    """The endpoint secret webhooks are verified with (the simulator's when Stripe is not set)."""
    return settings.stripe_webhook_secret or simulated_webhook_secret(_simulator_key(settings))


def _simulator_key(settings: Settings) -> str:
    return derive_key(settings.secret_key, Purpose.SIMULATOR_WEBHOOK)
