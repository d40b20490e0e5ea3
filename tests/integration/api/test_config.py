"""Settings from the environment: safe defaults in development; unsafe production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.config import ConfigError, Environment, Settings

PRODUCTION = {
    "HOURBOOK_ENV": "production",
    "HOURBOOK_SECRET_KEY": "s" * 48,
    "DATABASE_URL": "postgresql+psycopg://hourbook@db/hourbook",
    "REDIS_URL": "redis://cache:6379/0",
    "STRIPE_API_KEY": "sk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
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
    "missing", ["HOURBOOK_SECRET_KEY", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"]
)
def test_production_refuses_to_start_without_a_secret_redis_or_stripe(missing: str) -> None:
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


def test_development_may_use_stripe_without_a_webhook_secret_for_outgoing_calls() -> None:
    settings = Settings.from_env({"STRIPE_API_KEY": "sk_test_x"})

    assert settings.stripe_api_key == "sk_test_x"
    assert settings.stripe_webhook_secret is None


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
    ],
)
def test_a_malformed_value_is_a_clear_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
