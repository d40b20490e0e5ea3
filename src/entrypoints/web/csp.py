"""The Content-Security-Policy of the web pages: our own files only, no inline script or style.

Scripts and styles are external files under ``/web/static/``, so no ``unsafe-inline`` and no
nonce is needed. Stripe's origins are allowed on the payment page only, and only when Stripe is
the payment provider (Stripe.js must be loaded from Stripe and runs its card form in frames).
"""

from __future__ import annotations

STRIPE_JS = "https://js.stripe.com"
_STRIPE = {
    "script-src": (STRIPE_JS,),
    "frame-src": (STRIPE_JS, "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com",),
}


def policy(*, stripe: bool = False) -> str:
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    if stripe:
        for name, origins in _STRIPE.items():
            kept = [value for value in directives[name] if value != "'none'"]
            directives[name] = [*kept, *origins]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
