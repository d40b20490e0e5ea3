"""Settings from the environment: safe defaults in development; unsafe production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from entrypoints.bootstrap import build, make_password_hasher
from entrypoints.config import (
    TEST_SUITE_MARKER,
    ConfigError,
    EmailVerification,
    Environment,
    Settings,
)

PRODUCTION = {
    "HOURBOOK_ENV": "production",
    "HOURBOOK_SECRET_KEY": "s" * 48,
    "DATABASE_URL": "postgresql+psycopg://hourbook@db/hourbook",
    "REDIS_URL": "redis://cache:6379/0",
    "STRIPE_API_KEY": "sk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "HOURBOOK_METRICS_TOKEN": "m" * 32,
}


def test_development_runs_on_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"HOURBOOK_INSTANCE_DIR": str(tmp_path)})

    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url == f"sqlite+pysqlite:///{tmp_path.resolve() / 'hourbook.sqlite3'}"
    assert settings.redis_url is None
    assert len(settings.secret_key) >= 32
    assert settings.hold_minutes == 15
    assert settings.max_body_bytes == 64 * 1024


def test_a_complete_production_environment_is_accepted() -> None:
    settings = Settings.from_env(PRODUCTION)

    assert settings.is_production
    assert settings.secret_key == "s" * 48


@pytest.mark.parametrize(
    "missing",
    [
        "HOURBOOK_SECRET_KEY", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET",
        "HOURBOOK_METRICS_TOKEN",
    ],
)
def test_production_refuses_to_start_without_a_secret_redis_stripe_or_metrics_token(
    missing: str,
) -> None:
    environ = {name: value for name, value in PRODUCTION.items() if name != missing}

    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(environ)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({**PRODUCTION, "HOURBOOK_SECRET_KEY": "short"})


def test_the_periodic_jobs_run_every_minute_and_five_minutes_unless_told_otherwise() -> None:
    default = Settings.from_env({})
    tuned = Settings.from_env({"HOURBOOK_EXPIRE_HOLDS_EVERY_SECONDS": "5",
                               "HOURBOOK_SETTLE_REFUNDS_EVERY_SECONDS": "30"})

    assert (default.expire_holds_every_seconds, default.settle_refunds_every_seconds) == (60, 300)
    assert (tuned.expire_holds_every_seconds, tuned.settle_refunds_every_seconds) == (5, 30)


def test_the_audit_log_is_kept_a_year_unless_told_otherwise_and_never_less_than_a_day() -> None:
    assert Settings.from_env({}).audit_retention_days == 365
    assert Settings.from_env({"HOURBOOK_AUDIT_RETENTION_DAYS": "30"}).audit_retention_days == 30
    with pytest.raises(ConfigError, match="HOURBOOK_AUDIT_RETENTION_DAYS"):
        Settings.from_env({"HOURBOOK_AUDIT_RETENTION_DAYS": "0"})


@pytest.mark.parametrize("env", ["development", "production"])
def test_a_stripe_key_without_its_webhook_secret_is_refused_in_every_environment(
    env: str,
) -> None:
    environ = {**PRODUCTION, "HOURBOOK_ENV": env}
    del environ["STRIPE_WEBHOOK_SECRET"]

    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        Settings.from_env(environ)


def test_the_test_environment_is_refused_outside_the_test_suite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings.from_env({"HOURBOOK_ENV": "test"}).env is Environment.TEST  # in the suite
    monkeypatch.delenv(TEST_SUITE_MARKER)

    with pytest.raises(ConfigError, match="HOURBOOK_ENV=test"):
        Settings.from_env({"HOURBOOK_ENV": "test"})


def test_outside_the_test_suite_password_hashing_is_never_weak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    test_settings = Settings(env=Environment.TEST)
    weak = make_password_hasher(test_settings)
    monkeypatch.delenv(TEST_SUITE_MARKER)

    strong = make_password_hasher(test_settings)

    assert weak.memory_cost < strong.memory_cost == PasswordHasher().memory_cost


def test_email_verification_is_required_by_default_only_in_production() -> None:
    assert Settings.from_env(PRODUCTION).email_verification is EmailVerification.REQUIRED
    assert Settings.from_env({}).email_verification is EmailVerification.OFF
    chosen = Settings.from_env({"HOURBOOK_EMAIL_VERIFICATION": "required"})
    assert chosen.email_verification is EmailVerification.REQUIRED


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOURBOOK_ENV", "staging"),
        ("HOURBOOK_HOLD_MINUTES", "soon"),
        ("HOURBOOK_HOLD_MINUTES", "0"),
        ("HOURBOOK_MAX_BODY_BYTES", "-1"),
        ("DATABASE_URL", "mysql://db/hourbook"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://cache"),
        ("HOURBOOK_RATE_LIMIT_LOGIN", "lots"),
        ("HOURBOOK_RATE_LIMITS_ENABLED", "maybe"),
        ("STRIPE_API_BASE", "localhost:8420"),
        ("HOURBOOK_EXPIRE_HOLDS_EVERY_SECONDS", "4"),
        ("HOURBOOK_SETTLE_REFUNDS_EVERY_SECONDS", "often"),
        ("HOURBOOK_EMAIL_VERIFICATION", "sometimes"),
        ("HOURBOOK_MAX_CONCURRENT_HASHES", "0"),
        ("HOURBOOK_RATE_LIMIT_REGISTER", "lots"),
        ("HOURBOOK_MAX_RESCHEDULES_PER_BOOKING", "twice"),
        ("HOURBOOK_MAX_RESCHEDULES_PER_BOOKING", "-1"),
        ("HOURBOOK_MAX_RESCHEDULES_PER_BOOKING", "1001"),
    ],
)
def test_a_malformed_value_is_a_clear_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_reschedules_are_unlimited_unless_a_cap_is_set() -> None:
    assert Settings.from_env({}).reschedule_policy.max_per_booking is None
    unlimited = Settings.from_env({"HOURBOOK_MAX_RESCHEDULES_PER_BOOKING": "Unlimited"})
    assert unlimited.reschedule_policy.max_per_booking is None
    capped = Settings.from_env({"HOURBOOK_MAX_RESCHEDULES_PER_BOOKING": "2"})
    assert capped.reschedule_policy.max_per_booking == 2


def test_register_has_a_strict_default_limit_and_hashing_a_small_default_bound(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({"HOURBOOK_INSTANCE_DIR": str(tmp_path)})
    container = build(settings)

    assert settings.rate_limits.register == "3/minute;20/hour"
    assert container.passwords.limit == settings.max_concurrent_hashes == 2
    assert container.passwords.wait_seconds == 2
    container.close()
