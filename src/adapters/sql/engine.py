"""Engines for the two supported databases, configured for many concurrent writers.

SQLite (the embedded default) runs in WAL mode so readers never wait for the writer, and every
transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, so writers in
any thread or process queue on ``busy_timeout`` instead of failing with "database is locked"
when a read transaction later tries to write. PostgreSQL uses psycopg 3 with a small pool.
"""

from __future__ import annotations

from pathlib import Path
from sqlite3 import Connection as SqliteConnection
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_sqlite_url(instance_dir: str | Path) -> str:
    """The embedded database: ``hourbook.sqlite3`` in the instance directory."""
    path = Path(instance_dir).resolve() / "hourbook.sqlite3"
    return f"sqlite+pysqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for a ``sqlite:///file`` or ``postgresql+psycopg://`` URL."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        # No pre-ping: it would cost a round trip on every checkout, twice per booking. A
        # connection the server dropped fails its first statement instead; SQLAlchemy then
        # discards the whole pool, and the caller's 503 asks the client to retry.
        return create_engine(url, pool_size=5, max_overflow=10, pool_recycle=1800)
    raise ValueError(f"unsupported database URL (use sqlite or postgresql+psycopg): {backend}")


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:"):
        # Each pooled connection would see its own empty database.
        raise ValueError("use a file for SQLite: an in-memory database is not shared")
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _on_sqlite_connect(dbapi_connection: SqliteConnection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would otherwise defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # a read-only unit of work: each statement on its own, no write lock
    connection.exec_driver_sql("BEGIN IMMEDIATE")
