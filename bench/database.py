"""The benchmark database: made afresh on each run, migrated, and reached on loopback only."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from adapters.sql import migrate

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class Database:
    url: str  # SQLAlchemy form, postgresql+psycopg://...

    @property
    def conninfo(self) -> str:
        """The same database as a libpq URL, for plain psycopg."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False
        )

    @property
    def name(self) -> str:
        return str(make_url(self.url).database)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=autocommit)

    def settle(self) -> None:
        """Do now the background work a phase of writes leaves behind (vacuum, statistics,
        the checkpoint), so that it does not land in the next phase's measurement."""
        with self.connect(autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")
            connection.execute("CHECKPOINT")

    def server_version(self) -> str:
        with self.connect() as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"


def require_loopback(url: str) -> None:
    """Refuse to load anything but this machine."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"benchmarks run against this machine only (127.0.0.1), not {host!r}")


def fresh(url: str) -> Database:
    """Drop and recreate the database named in ``url``, then migrate it to the latest schema."""
    require_loopback(url)
    database = Database(url)
    if database.name in ("postgres", "template0", "template1", "test"):
        raise SystemExit(f"refusing to recreate the {database.name!r} database: name another")
    admin = make_url(database.conninfo).set(database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        name = sql.Identifier(database.name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    migrate.upgrade(url)
    return database
