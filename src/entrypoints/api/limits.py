"""Rate limits (flask-limiter): per caller and per endpoint, stricter on login and booking.

The caller is the token's account when a valid token is presented, else the client's address
(behind proxies, as ``HOURBOOK_TRUSTED_PROXIES`` resolves it: ``entrypoints.api.proxies``).
Login is different: it is counted by address whatever token or header comes with it, so
holding tokens buys no extra attempts; wrong passwords are counted by (address, account) in
``entrypoints.api.login_throttle``. Counters live in Redis when ``REDIS_URL`` is set, so every
API process shares them, else in process memory. Over the limit: 429 in the common error
shape, with ``Retry-After``.
"""

from __future__ import annotations

from flask import Flask, request
from flask_jwt_extended import get_jwt_identity
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from jwt import PyJWTError

from booking.errors import BookingError
from entrypoints.api.security import verify_token
from entrypoints.config import Settings

LOGIN = "auth.Login"
BOOKINGS = "bookings.Bookings"
# Stripe retries webhooks from a few addresses: limiting them would only delay confirmations.
_UNLIMITED_PATHS = ("/healthz", "/readyz", "/openapi.json", "/docs", "/stripe/webhook")


def caller_key() -> str:
    try:
        verify_token(optional=True)
        identity = get_jwt_identity()
    except (JWTExtendedException, PyJWTError, BookingError):
        identity = None  # the view answers 401 for a bad token; count it by address meanwhile
    if identity:
        return f"account:{identity}"
    return f"address:{get_remote_address()}"


def login_address_key() -> str:
    return f"login-address:{get_remote_address()}"


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    """Attach a limiter to ``app``; call after the blueprints are registered."""
    limiter = Limiter(
        caller_key,
        app=app,
        default_limits=[settings.rate_limits.default],
        storage_uri=settings.redis_url or "memory://",
        key_prefix=f"{settings.redis_prefix}ratelimit",
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,  # Redis down: fail open rather than refuse every request
        enabled=settings.rate_limits_enabled,
    )
    # The decorated views hold the limiter only weakly, and a disabled limiter does not
    # register itself with the app: keep it alive for as long as the app lives.
    app.extensions["hourbook_limiter"] = limiter
    limiter.request_filter(lambda: request.path.startswith(_UNLIMITED_PATHS))
    rates = settings.rate_limits
    login = app.view_functions[LOGIN]
    app.view_functions[LOGIN] = limiter.limit(
        rates.login, key_func=login_address_key, methods=["POST"]
    )(login)
    bookings = app.view_functions[BOOKINGS]
    app.view_functions[BOOKINGS] = limiter.limit(rates.booking, methods=["POST"])(bookings)
    return limiter
