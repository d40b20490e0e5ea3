"""DATABASE_REPLICA_URLS and its bounds are validated when read, with the reason."""

from __future__ import annotations

import pytest

from entrypoints.config import ConfigError, Settings

PRIMARY = "postgresql+psycopg://app@db-primary/hourbook"
STANDBYS = "postgresql+psycopg://app@db-a/hourbook, postgresql+psycopg://app@db-b/hourbook"
WITH_REDIS = {"DATABASE_URL": PRIMARY, "REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_several_standbys_are_read_with_the_default_bounds() -> None:
    replicas = Settings.from_env({**WITH_REDIS, "DATABASE_REPLICA_URLS": STANDBYS}).replicas

    assert replicas.urls == (
        "postgresql+psycopg://app@db-a/hourbook",
        "postgresql+psycopg://app@db-b/hourbook",
    )
    assert replicas.max_lag_seconds == 2.0
    assert replicas.read_your_writes_seconds >= replicas.max_lag_seconds


def test_without_the_setting_there_are_no_standbys() -> None:
    assert Settings.from_env(WITH_REDIS).replicas.urls == ()


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({"DATABASE_REPLICA_URLS": "mysql://db-a/hourbook"}, "postgresql"),
        ({"DATABASE_REPLICA_URLS": "not a url"}, "invalid database URL"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "needs DATABASE_URL on PostgreSQL"),
        ({"REDIS_URL": ""}, "needs REDIS_URL"),
        ({"HOURBOOK_REPLICA_MAX_LAG_SECONDS": "ten"}, "number of seconds"),
        ({"HOURBOOK_REPLICA_MAX_LAG_SECONDS": "nan"}, "between 0 and 3600"),
        ({"HOURBOOK_REPLICA_MAX_LAG_SECONDS": "-1"}, "between 0 and 3600"),
        (
            {"HOURBOOK_REPLICA_MAX_LAG_SECONDS": "30", "HOURBOOK_READ_YOUR_WRITES_SECONDS": "10"},
            "must not be below HOURBOOK_REPLICA_MAX_LAG_SECONDS",
        ),
    ],
)
def test_a_bad_replica_setting_is_refused_with_its_reason(
    environ: dict[str, str], reason: str
) -> None:
    full = {**WITH_REDIS, "DATABASE_REPLICA_URLS": STANDBYS, **environ}

    with pytest.raises(ConfigError, match=reason):
        Settings.from_env(full)
