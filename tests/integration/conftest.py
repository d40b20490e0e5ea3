"""Fixtures for the adapters against real databases: SQLite files and PostgreSQL, and Redis.

Every PostgreSQL test gets its own schema (``t_<uuid>``, dropped afterwards) on the server at
``DATABASE_URL``; every Redis test gets its own key prefix in database 15 of ``REDIS_URL``.
Unreachable services skip their tests, unless ``HOURBOOK_REQUIRE_SERVICES=1`` makes that a
failure (CI sets it so that a missing service cannot pass silently).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from adapters.idempotency.redis_store import RedisIdempotencyStore
from adapters.memory import InMemoryIdempotencyStore
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.idempotency import SqlIdempotencyStore
from booking.ports import Clock, IdempotencyStore

POSTGRES_URL = os.environ.get(
    "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
START_POSTGRES = "start it with `pg_ctlcluster 15 main start` or point DATABASE_URL at a server"
START_REDIS = "start it with `redis-server --daemonize yes` or point REDIS_URL at a server"

StoreFactory = Callable[..., IdempotencyStore]


def pytest_configure(config: pytest.Config) -> None:
    # Registered in pyproject.toml too; repeated here so this directory runs on its own.
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (DATABASE_URL)")
    config.addinivalue_line("markers", "redis: needs Redis (REDIS_URL)")


def service_unavailable(what: str, how_to_start: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error.__class__.__name__}); {how_to_start}"
    if os.environ.get("HOURBOOK_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


# -- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[tuple[sa.Engine, str]]:
    """An autocommit engine on the test server and the schema holding btree_gist."""
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            # Extensions are per database: create it once, where every test schema sees it.
            connection.exec_driver_sql("SELECT pg_advisory_lock(4242)")
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
            connection.exec_driver_sql("SELECT pg_advisory_unlock(4242)")
            extension_schema = connection.exec_driver_sql(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n"
                " ON n.oid = e.extnamespace WHERE e.extname = 'btree_gist'"
            ).scalar_one()
    except sa.exc.OperationalError as error:
        service_unavailable("PostgreSQL", START_POSTGRES, error)
    yield engine, str(extension_schema)
    engine.dispose()


@contextmanager
def fresh_schema(postgres_admin: tuple[sa.Engine, str]) -> Iterator[str]:
    """A URL whose connections work in a new schema of their own, dropped afterwards."""
    admin, extension_schema = postgres_admin
    schema = f"t_{uuid4().hex}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema},{extension_schema}"}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def postgres_url(postgres_admin: tuple[sa.Engine, str]) -> Iterator[str]:
    """A URL whose connections work in a fresh schema of their own."""
    with fresh_schema(postgres_admin) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+pysqlite:///{tmp_path / 'hourbook.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each engine."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on an empty, unmigrated database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(bare_engine: sa.Engine) -> sa.Engine:
    """An engine on a database migrated to the latest revision."""
    migrate.upgrade(bare_engine)
    return bare_engine


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        service_unavailable("Redis", START_REDIS, error)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards (never a FLUSH)."""
    prefix = f"hourbook-test:{uuid4().hex}:"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}*"):
        redis_client.delete(key)


# -- idempotency stores ----------------------------------------------------------------------


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def make_store(request: pytest.FixtureRequest) -> StoreFactory:
    """Builds the idempotency store under test: ``make_store(clock, ttl=..., lease=...)``."""
    kind = request.param
    if kind == "memory":
        return InMemoryIdempotencyStore
    if kind == "redis":
        client = request.getfixturevalue("redis_client")
        prefix = request.getfixturevalue("redis_prefix")

        def redis_store(clock: Clock, **limits: timedelta) -> IdempotencyStore:
            return RedisIdempotencyStore(client, clock, prefix=prefix, **limits)

        return redis_store
    engine = make_engine(request.getfixturevalue(f"{kind}_url"))
    request.addfinalizer(engine.dispose)
    migrate.upgrade(engine)

    def sql_store(clock: Clock, **limits: timedelta) -> IdempotencyStore:
        return SqlIdempotencyStore(engine, clock, **limits)

    return sql_store
