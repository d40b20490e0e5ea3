"""Rate limits (flask-limiter): per caller and per endpoint, stricter on login, booking and
search.

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
REGISTER = "auth.Register"
RESET = "auth.PasswordReset"
BOOKINGS = "bookings.Bookings"
# Requests that mail a verification (or password reset) link to an address the caller names
# (endpoint, method): they share one budget per caller, the register rate, so nobody can make
# the platform mail some address over and over. Requests that name no new address are not
# counted. Reset requests are also counted by the address they name (``reset_account_key``).
_MAILING = (
    ("auth.Verification", "POST"),
    (RESET, "POST"),
    ("clients.Me", "PATCH"),
    ("professionals.Professionals", "POST"),
    ("professionals.OneProfessional", "PATCH"),
)
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


def register_address_key() -> str:
    """Registration is anonymous: counted by address, whatever token comes with it."""
    return f"register-address:{get_remote_address()}"


def reset_account_key() -> str:
    """Password reset requests are also counted by the address they name, whoever sends them,
    so its owner's inbox gets no more than the register rate of reset mail."""
    body = request.get_json(silent=True)
    named = body.get("email") if isinstance(body, dict) else None
    return f"reset-account:{named.strip().lower()[:320] if isinstance(named, str) else ''}"


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    """Attach a limiter to ``app``; call after the blueprints are registered."""
    limiter = Limiter(
        caller_key,
        app=app,
        default_limits=[settings.rate_limits.default],
        storage_uri=settings.redis_url or "memory://",
        # limits' Redis storage puts its own prefix ("LIMITS") before flask-limiter's key:
        # replacing it keeps every counter under the deployment's prefix.
        storage_options={"key_prefix": f"{settings.redis_prefix}ratelimit"}
        if settings.redis_url
        else {},
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
    register = app.view_functions[REGISTER]
    app.view_functions[REGISTER] = limiter.limit(
        rates.register, key_func=register_address_key, methods=["POST"]
    )(register)
    reset = app.view_functions[RESET]
    app.view_functions[RESET] = limiter.limit(
        rates.register, key_func=reset_account_key, methods=["POST"]
    )(reset)
    bookings = app.view_functions[BOOKINGS]
    app.view_functions[BOOKINGS] = limiter.limit(rates.booking, methods=["POST"])(bookings)
    for endpoint, method in _MAILING:
        mailing = limiter.shared_limit(
            rates.register, scope="mailed-links", methods=[method],
            exempt_when=_names_no_address, override_defaults=False,
        )  # fmt: skip
        app.view_functions[endpoint] = mailing(app.view_functions[endpoint])
    _limit_search(app, limiter, settings)
    _limit_web_pages(app, limiter, settings)
    return limiter


# The web pages' forms that do what a limited API route does share its limit and its counter:
# signing in on a page or with POST /auth/login counts against the same per-address login limit.
_WEB_LIMITS = {
    "web.sign_in": ("login", login_address_key),
    "web.register": ("register", register_address_key),
    "web.pro_sign_up": ("register", register_address_key),
    "web.book": ("booking", None),
}


def _limit_web_pages(app: Flask, limiter: Limiter, settings: Settings) -> None:
    for endpoint, (rate, key) in _WEB_LIMITS.items():
        if endpoint not in app.view_functions:
            continue
        limit = limiter.limit(getattr(settings.rate_limits, rate), key_func=key, methods=["POST"])
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    if "web.find" in app.view_functions:  # the search reads calendars, as GET /professionals
        app.view_functions["web.find"] = limiter.limit(
            settings.rate_limits.search, methods=["GET"]
        )(app.view_functions["web.find"])


def _names_no_address() -> bool:
    if request.path.startswith("/auth/"):
        return False  # asking for the link again always mails
    body = request.get_json(silent=True)
    return not (isinstance(body, dict) and "email" in body)


# Anonymous search can ask for free time, which reads calendars: its own limit (GET only),
# instead of the default one.
_SEARCH = "professionals.Professionals"


def _limit_search(app: Flask, limiter: Limiter, settings: Settings) -> None:
    view = app.view_functions[_SEARCH]
    app.view_functions[_SEARCH] = limiter.limit(settings.rate_limits.search, methods=["GET"])(
        view
    )
