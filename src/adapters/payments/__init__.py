"""The payment port: Stripe, the embedded simulator, and applying Stripe's signed webhook events."""
