"""Settings read once from the environment, validated, and frozen.

Every value has a safe embedded default for development (a SQLite file in the instance folder,
an in-memory rate-limit store, a random secret), except where running with a default would be
insecure: with ``HOURBOOK_ENV=production`` a missing secret, Redis URL, Stripe setting or
metrics token refuses to start. A Stripe key without its webhook secret is refused everywhere,
and ``HOURBOOK_ENV=test`` outside the test suite.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.sql.engine import default_sqlite_url
from booking.holds import DEFAULT_HOLD_LIMITS, HoldLimits
from booking.rescheduling import DEFAULT_RESCHEDULE_POLICY, MAX_RESCHEDULES, ReschedulePolicy
from entrypoints import redis_keys

logger = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32
MAX_HOLDS = 1_000_000  # a hold cap that high is no cap: for benchmarks and trusted clients


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and what it needs."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"  # only inside the test suite: it weakens password hashing


class EmailVerification(StrEnum):
    REQUIRED = "required"  # an account books only once its address is verified
    OFF = "off"  # addresses are taken on trust (development and the demo)


# The test suite sets this (tests/conftest.py); HOURBOOK_ENV=test is refused without it.
TEST_SUITE_MARKER = "HOURBOOK_TEST_SUITE"


def running_tests() -> bool:
    """True inside hourbook's own test suite (and the processes it starts)."""
    return os.environ.get(TEST_SUITE_MARKER) == "1"


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """flask-limiter rate strings ("10/minute;100/hour"), per client (JWT identity or address)."""

    default: str = "300/minute"
    login: str = "10/minute"
    booking: str = "30/minute"
    register: str = "3/minute;20/hour"
    search: str = "60/minute"  # GET /professionals: a free-time filter reads calendars


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedProxies:
    """Whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` to believe (``HOURBOOK_TRUSTED_PROXIES``).

    Either ``hops`` proxies in front, whatever their address (``"1"``), or the ``networks`` the
    proxies live in (``"127.0.0.1/32,10.0.0.0/8"``). The default trusts nobody: the client is the
    socket's peer and forwarding headers are ignored.
    """

    hops: int = 0
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def gunicorn_allow_ips(self) -> str:
        """The same trust in gunicorn's ``forwarded_allow_ips`` spelling."""
        if self.hops:
            return "*"
        # gunicorn refuses an empty list; an address no peer can have trusts nobody.
        return ",".join(str(network) for network in self.networks) or "0.0.0.0/32"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginThrottle:
    """Back-off after wrong passwords, per (client address, account): see docs/security.md."""

    free_failures: int = 5  # wrong passwords from one address for one account before waiting
    base_seconds: int = 2  # the first wait; each further failure doubles it...
    max_seconds: int = 900  # ...up to this cap
    account_alarm: int = 50  # failures on one account from all addresses within an hour that
    # leave no free failures to any address that has failed on it


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """Outgoing webhooks (docs/webhooks.md): who may be called, and how hard to try."""

    # Addresses in these networks may be called although not public (loopback, private...):
    # an explicit exception to the SSRF guard, e.g. for a receiver on the same host.
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    require_https: bool = False  # always in production
    retry_base_seconds: int = 30  # the first retry's wait, doubled each time (with jitter)
    retry_cap_seconds: int = 6 * 3600  # the longest wait between two attempts
    retry_window_hours: int = 72  # after this a failing delivery is dead
    disable_after: int = 5  # dead deliveries in a row that disable an endpoint
    timeout_seconds: int = 10


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def networks(name: str, value: str | None) -> Networks:
    """Comma-separated networks (``127.0.0.1/32,10.0.0.0/8``); empty for none."""
    if value is None or not value.strip():
        return ()
    found = []
    for part in value.split(","):
        try:
            found.append(ipaddress.ip_network(part.strip(), strict=True))
        except ValueError:
            raise ConfigError(
                f"{name} must be comma-separated networks (e.g. 127.0.0.1/32,10.0.0.0/8),"
                f" not {part.strip()!r}"
            ) from None
    return tuple(found)


def trusted_proxies(value: str | None) -> TrustedProxies:
    """Parse ``HOURBOOK_TRUSTED_PROXIES``: empty, a hop count, or comma-separated networks.

    Also read by the gunicorn configuration, so gunicorn and the app trust the same peers.
    """
    name = "HOURBOOK_TRUSTED_PROXIES"
    if value is None or not value.strip():
        return TrustedProxies()
    value = value.strip()
    if value.isdigit():
        hops = int(value)
        if hops > 5:
            raise ConfigError(f"{name} must be a hop count from 0 to 5, or networks")
        return TrustedProxies(hops=hops)
    networks = []
    for part in value.split(","):
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=True))
        except ValueError:
            raise ConfigError(
                f"{name} must be a hop count or comma-separated networks"
                f" (e.g. 127.0.0.1/32,10.0.0.0/8), not {part.strip()!r}"
            ) from None
    return TrustedProxies(networks=tuple(networks))


@dataclass(frozen=True, slots=True, kw_only=True)
class Replicas:
    """PostgreSQL hot standbys for read-only units of work (``DATABASE_REPLICA_URLS``).

    A standby further behind than ``max_lag_seconds`` is skipped, and so is one that cannot be
    reached (tried again after ``retry_after_seconds``). A caller who wrote reads from the
    primary for ``read_your_writes_seconds`` afterwards; that window is at least the lag bound,
    so once it is over any standby still in use has replayed the write.
    """

    urls: tuple[str, ...] = ()
    max_lag_seconds: float = 2.0
    read_your_writes_seconds: float = 5.0
    retry_after_seconds: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    env: Environment = Environment.DEVELOPMENT
    instance_dir: Path = Path("instance")
    database_url: str = ""
    redis_url: str | None = None
    redis_prefix: str = redis_keys.DEFAULT_PREFIX  # of every key: ours and RQ's
    secret_key: str = ""
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_publishable_key: str | None = None  # pk_…: the web payment page's Stripe.js
    hold_minutes: int = 15
    audit_retention_days: int = 365  # audit log entries older than this are deleted
    hold_limits: HoldLimits = DEFAULT_HOLD_LIMITS  # unpaid holds a client may keep at once
    reschedule_policy: ReschedulePolicy = DEFAULT_RESCHEDULE_POLICY  # moves per booking
    max_body_bytes: int = 64 * 1024
    rate_limits: RateLimits = RateLimits()
    rate_limits_enabled: bool = True
    smtp_url: str | None = None
    mail_dir: Path = Path("instance/mail")
    public_url: str = "http://127.0.0.1:8000"
    metrics_token: str | None = None  # when set, GET /metrics wants "Authorization: Bearer <it>"
    expire_holds_every_seconds: int = 60  # how often the worker looks for holds to end
    settle_refunds_every_seconds: int = 300  # how often it retries the refunds still owed
    email_verification: EmailVerification = EmailVerification.OFF
    max_concurrent_hashes: int = 2  # Argon2 hashes at once per process (64 MiB each)
    # -- the edge (docs/deploy.md "nginx in front", docs/security.md) -------------------------
    trusted_proxies: TrustedProxies = TrustedProxies()
    login_throttle: LoginThrottle = LoginThrottle()
    api_docs: bool = True  # serve Swagger UI at /docs (off by default in production)
    webhooks: WebhookSettings = WebhookSettings()
    # -- reads on replicas (docs/deploy.md "Replicas") ----------------------------------------
    replicas: Replicas = Replicas()

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting; raise :class:`ConfigError` naming what is wrong."""
        env = os.environ if environ is None else environ
        return _Reader(env).settings()


_DEFAULT_LIMITS = RateLimits()
_Choice = TypeVar("_Choice", Environment, EmailVerification)


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def settings(self) -> Settings:
        env = self.choice("HOURBOOK_ENV", Environment, Environment.DEVELOPMENT)
        if env is Environment.TEST and not running_tests():
            raise ConfigError(
                "HOURBOOK_ENV=test is for hourbook's own test suite (it weakens password"
                " hashing): use development or production"
            )
        production = env is Environment.PRODUCTION
        instance_dir = Path(self.text("HOURBOOK_INSTANCE_DIR") or "instance")
        redis_url = self.url("REDIS_URL", schemes=("redis", "rediss", "unix"))
        if production and redis_url is None:
            raise ConfigError(
                "REDIS_URL is required in production (rate limits, token revocation and"
                " idempotency must be shared by every API process)"
            )
        stripe_api_key = self.required_in_production("STRIPE_API_KEY", production)
        stripe_webhook_secret = self.required_in_production("STRIPE_WEBHOOK_SECRET", production)
        if stripe_api_key is not None and stripe_webhook_secret is None:
            raise ConfigError(
                "STRIPE_WEBHOOK_SECRET is required with STRIPE_API_KEY: without it no webhook"
                " from Stripe could be verified (use the endpoint's whsec_… secret)"
            )
        metrics_token = self.bearer_token("HOURBOOK_METRICS_TOKEN")
        if production and metrics_token is None:
            raise ConfigError(
                "HOURBOOK_METRICS_TOKEN is required in production: /metrics shows business"
                " volumes (generate one with"
                ' `python -c "import secrets; print(secrets.token_urlsafe(32))"`)'
            )
        database_url = self.database_url(instance_dir)
        return Settings(
            env=env,
            instance_dir=instance_dir,
            database_url=database_url,
            redis_url=redis_url,
            redis_prefix=self.redis_prefix(),
            secret_key=self.secret(production),
            access_token_minutes=self.integer("HOURBOOK_ACCESS_TOKEN_MINUTES", 15, 1, 24 * 60),
            refresh_token_days=self.integer("HOURBOOK_REFRESH_TOKEN_DAYS", 30, 1, 365),
            stripe_api_key=stripe_api_key,
            stripe_webhook_secret=stripe_webhook_secret,
            stripe_api_base=self.url("STRIPE_API_BASE", schemes=("http", "https")),
            stripe_publishable_key=self.text("STRIPE_PUBLISHABLE_KEY"),
            hold_minutes=self.integer("HOURBOOK_HOLD_MINUTES", 15, 1, 24 * 60),
            audit_retention_days=self.integer("HOURBOOK_AUDIT_RETENTION_DAYS", 365, 1, 36_500),
            hold_limits=self.hold_limits(),
            reschedule_policy=self.reschedule_policy(),
            max_body_bytes=self.integer("HOURBOOK_MAX_BODY_BYTES", 64 * 1024, 1024, 16 << 20),
            rate_limits=RateLimits(
                default=self.rate("HOURBOOK_RATE_LIMIT_DEFAULT", _DEFAULT_LIMITS.default),
                login=self.rate("HOURBOOK_RATE_LIMIT_LOGIN", _DEFAULT_LIMITS.login),
                booking=self.rate("HOURBOOK_RATE_LIMIT_BOOKING", _DEFAULT_LIMITS.booking),
                register=self.rate("HOURBOOK_RATE_LIMIT_REGISTER", _DEFAULT_LIMITS.register),
                search=self.rate("HOURBOOK_RATE_LIMIT_SEARCH", _DEFAULT_LIMITS.search),
            ),
            rate_limits_enabled=self.flag("HOURBOOK_RATE_LIMITS_ENABLED", default=True),
            smtp_url=self.url("SMTP_URL", schemes=("smtp", "smtps")),
            mail_dir=Path(self.text("HOURBOOK_MAIL_DIR") or instance_dir / "mail"),
            public_url=self.text("HOURBOOK_PUBLIC_URL") or "http://127.0.0.1:8000",
            metrics_token=metrics_token,
            expire_holds_every_seconds=self.integer(
                "HOURBOOK_EXPIRE_HOLDS_EVERY_SECONDS", 60, 5, 3600
            ),
            settle_refunds_every_seconds=self.integer(
                "HOURBOOK_SETTLE_REFUNDS_EVERY_SECONDS", 300, 5, 3600
            ),
            email_verification=self.choice(
                "HOURBOOK_EMAIL_VERIFICATION",
                EmailVerification,
                EmailVerification.REQUIRED if production else EmailVerification.OFF,
            ),
            max_concurrent_hashes=self.integer("HOURBOOK_MAX_CONCURRENT_HASHES", 2, 1, 64),
            # -- the edge ----------------------------------------------------------------------
            trusted_proxies=trusted_proxies(self.text("HOURBOOK_TRUSTED_PROXIES")),
            login_throttle=LoginThrottle(
                free_failures=self.integer("HOURBOOK_LOGIN_FREE_FAILURES", 5, 1, 100),
                base_seconds=self.integer("HOURBOOK_LOGIN_BACKOFF_SECONDS", 2, 1, 3600),
                max_seconds=self.integer("HOURBOOK_LOGIN_BACKOFF_MAX_SECONDS", 900, 1, 86400),
                account_alarm=self.integer("HOURBOOK_LOGIN_ACCOUNT_ALARM", 50, 1, 1_000_000),
            ),
            api_docs=self.flag("HOURBOOK_API_DOCS", default=not production),
            webhooks=self.webhooks(production),
            replicas=self.replicas(database_url, redis_url),
        )

    def webhooks(self, production: bool) -> WebhookSettings:
        return WebhookSettings(
            allowed_networks=networks(
                "HOURBOOK_WEBHOOK_ALLOWED_NETWORKS", self.text("HOURBOOK_WEBHOOK_ALLOWED_NETWORKS")
            ),
            require_https=production,
            retry_base_seconds=self.integer("HOURBOOK_WEBHOOK_RETRY_BASE_SECONDS", 30, 0, 3600),
            retry_cap_seconds=self.integer(
                "HOURBOOK_WEBHOOK_RETRY_CAP_SECONDS", 6 * 3600, 1, 24 * 3600
            ),
            retry_window_hours=self.integer("HOURBOOK_WEBHOOK_RETRY_WINDOW_HOURS", 72, 0, 30 * 24),
            disable_after=self.integer("HOURBOOK_WEBHOOK_DISABLE_AFTER", 5, 1, 1000),
        )

    def replicas(self, database_url: str, redis_url: str | None) -> Replicas:
        name = "DATABASE_REPLICA_URLS"
        value = self.text(name)
        urls: tuple[str, ...] = ()
        if value is not None:
            urls = tuple(part.strip() for part in value.split(",") if part.strip())
            for url in urls:
                try:
                    backend = make_url(url).get_backend_name()
                except ArgumentError:
                    raise ConfigError(f"{name} holds an invalid database URL") from None
                if backend != "postgresql":
                    raise ConfigError(f"{name} must list postgresql+psycopg://... URLs")
            if make_url(database_url).get_backend_name() != "postgresql":
                raise ConfigError(f"{name} needs DATABASE_URL on PostgreSQL (standbys of it)")
            if redis_url is None:
                raise ConfigError(
                    f"{name} needs REDIS_URL: it remembers who just wrote, so that their next"
                    " reads go to the primary whichever API process serves them"
                )
        max_lag = self.seconds("HOURBOOK_REPLICA_MAX_LAG_SECONDS", 2.0, 0.0, 3600.0)
        window = self.seconds("HOURBOOK_READ_YOUR_WRITES_SECONDS", max(5.0, max_lag), 0.0, 3600.0)
        if window < max_lag:
            raise ConfigError(
                "HOURBOOK_READ_YOUR_WRITES_SECONDS must not be below"
                " HOURBOOK_REPLICA_MAX_LAG_SECONDS: a standby that far behind may still miss"
                " the caller's write when the window ends"
            )
        return Replicas(
            urls=urls,
            max_lag_seconds=max_lag,
            read_your_writes_seconds=window,
            retry_after_seconds=self.seconds("HOURBOOK_REPLICA_RETRY_SECONDS", 5.0, 0.1, 3600.0),
        )

    def hold_limits(self) -> HoldLimits:
        per_client = self.integer(
            "HOURBOOK_MAX_HOLDS_PER_CLIENT", DEFAULT_HOLD_LIMITS.per_client, 1, MAX_HOLDS
        )
        per_professional = self.integer(
            "HOURBOOK_MAX_HOLDS_PER_CLIENT_AND_PROFESSIONAL",
            DEFAULT_HOLD_LIMITS.per_client_and_professional,
            1,
            MAX_HOLDS,
        )
        if per_professional > per_client:
            raise ConfigError(
                "HOURBOOK_MAX_HOLDS_PER_CLIENT_AND_PROFESSIONAL must not be above"
                " HOURBOOK_MAX_HOLDS_PER_CLIENT"
            )
        return HoldLimits(per_client=per_client, per_client_and_professional=per_professional)

    def reschedule_policy(self) -> ReschedulePolicy:
        """``HOURBOOK_MAX_RESCHEDULES_PER_BOOKING``: unset or ``unlimited`` for no cap."""
        name = "HOURBOOK_MAX_RESCHEDULES_PER_BOOKING"
        value = self.text(name)
        if value is None or value.lower() == "unlimited":
            return DEFAULT_RESCHEDULE_POLICY
        cap = self.integer(name, 0, 0, MAX_RESCHEDULES)
        return ReschedulePolicy(max_per_booking=cap)

    # -- single values ------------------------------------------------------------------------

    def text(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def choice(self, name: str, kind: type[_Choice], default: _Choice) -> _Choice:
        value = self.text(name)
        if value is None:
            return default
        try:
            return kind(value.lower())
        except ValueError:
            allowed = "|".join(member.value for member in kind)
            raise ConfigError(f"{name} must be one of {allowed}, not {value!r}") from None

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, not {value!r}") from None
        if not minimum <= number <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {number}")
        return number

    def seconds(self, name: str, default: float, minimum: float, maximum: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number of seconds, not {value!r}") from None
        if not minimum <= number <= maximum:  # also refuses nan
            raise ConfigError(f"{name} must be between {minimum:g} and {maximum:g}, not {value}")
        return number

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, not {value!r}")

    def url(self, name: str, *, schemes: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in schemes:
            raise ConfigError(f"{name} must be a URL starting with {' or '.join(schemes)}://")
        return value

    def rate(self, name: str, default: str) -> str:
        value = self.text(name) or default
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(f'{name} must be a rate like "10/minute;100/hour"') from None
        return value

    def bearer_token(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,256}", value):
            raise ConfigError(
                f"{name} must be 16-256 letters, digits or -._~+/= (e.g. from"
                ' `python -c "import secrets; print(secrets.token_urlsafe(32))"`)'
            )
        return value

    def redis_prefix(self) -> str:
        """Letters, digits and ``_ . : - { }``: what RQ allows in its own prefix."""
        value = self.text("HOURBOOK_REDIS_PREFIX") or redis_keys.DEFAULT_PREFIX
        if not redis_keys.PREFIX_PATTERN.fullmatch(value):
            raise ConfigError(
                "HOURBOOK_REDIS_PREFIX must be 1-64 letters, digits or _ . : - { }"
                f" (e.g. hourbook-staging:), not {value!r}"
            )
        return value

    def database_url(self, instance_dir: Path) -> str:
        value = self.text("DATABASE_URL")
        if value is None:
            return default_sqlite_url(instance_dir)
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ConfigError("DATABASE_URL is not a valid database URL") from None
        if backend not in ("sqlite", "postgresql"):
            raise ConfigError("DATABASE_URL must be sqlite:///... or postgresql+psycopg://...")
        return value

    def secret(self, production: bool) -> str:
        value = self.text("HOURBOOK_SECRET_KEY")
        if value is None:
            if production:
                raise ConfigError(
                    "HOURBOOK_SECRET_KEY is required in production: refusing to sign tokens"
                    " with a made-up key (generate one with"
                    ' `python -c "import secrets; print(secrets.token_urlsafe(48))"`)'
                )
            logger.warning(
                "HOURBOOK_SECRET_KEY is not set: using a random key, so tokens stop working"
                " when this process restarts and differ between processes"
            )
            return secrets.token_urlsafe(48)
        if production and len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"HOURBOOK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )
        return value

    def required_in_production(self, name: str, production: bool) -> str | None:
        """Stripe's settings: without them payments are simulated in this process's memory,
        which only the embedded default can use (no other process could see the intents)."""
        value = self.text(name)
        if value is None and production:
            raise ConfigError(
                f"{name} is required in production: the payment simulator is for the"
                " embedded default only"
            )
        return value


def require_rq_key_prefix(settings: Settings) -> None:
    """Refuse to run with Redis when rq's keys would be outside the prefix: rq was imported
    before ``entrypoints`` set RQ_KEY_PREFIX, or the prefix changed since."""
    if settings.redis_url is None:
        return
    wanted, loaded = redis_keys.rq_key_prefix(settings.redis_prefix), _loaded_rq_key_prefix()
    if loaded != wanted:
        raise ConfigError(
            f"rq uses the key prefix {loaded!r} but HOURBOOK_REDIS_PREFIX="
            f"{settings.redis_prefix!r} needs {wanted!r}: start through `hourbook`, which"
            " sets RQ_KEY_PREFIX before rq is imported"
        )


def _loaded_rq_key_prefix() -> str:
    from rq import defaults  # here: rq reads RQ_KEY_PREFIX when first imported

    return str(defaults.RQ_KEY_PREFIX)
