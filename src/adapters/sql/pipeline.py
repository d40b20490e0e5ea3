"""Several PostgreSQL statements in one round trip (psycopg's pipeline mode), for the hot path.

psycopg waits for the server after every statement, and for a ``BEGIN`` before the first one of
a transaction. A booking's hold is a lock, two reads, an insert, the outbox rows and a commit:
sent one by one, most of its time is spent waiting. In pipeline mode the statements are queued
and sent together, and the server runs them in order, each seeing what the ones before it did:
a read queued after ``pg_advisory_xact_lock`` takes its snapshot once the lock is held.

These helpers run on the psycopg connection under a SQLAlchemy ``Connection``, inside the
transaction SQLAlchemy began, so they mix with the Core statements of the same unit of work.
Errors come back as SQLAlchemy's wrappers and are then translated as everywhere else
(``errors.storage_errors``). SQLite has no pipeline: ``driver_of`` returns None there, and the
callers take their plain path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ClauseElement, Connection
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import DBAPIError

from adapters.sql.errors import storage_errors

if TYPE_CHECKING:  # psycopg is the ``postgres`` extra: imported only where PostgreSQL runs
    import psycopg

Params = Mapping[str, object]
Rows = list[dict[str, Any]]


_POSTGRES = PGDialect_psycopg()  # compiles only; psycopg itself is not imported for this


def postgres_sql(statement: ClauseElement, column_keys: Sequence[str] | None = None) -> str:
    """``statement`` compiled once to psycopg's SQL text: the same Core statement as the plain
    path, with its parameters named. ``column_keys``: the columns an INSERT or UPDATE sets.

    Every value must come at execution under a name (``bindparam``): a literal that Core would
    have bound on its own is refused, since ``run_together`` passes only the caller's values.
    """
    compiled = statement.compile(dialect=_POSTGRES, column_keys=column_keys)
    fixed = [name for name, bind in compiled.binds.items() if not bind.required]
    if fixed:
        raise ValueError(f"name these values with bindparam(): {sorted(fixed)}")
    return str(compiled)


def driver_of(connection: Connection) -> psycopg.Connection[Any] | None:
    """The psycopg connection under ``connection``, or None on another database."""
    if connection.dialect.name != "postgresql":
        return None
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    return driver


def run_together(
    connection: Connection, statements: Sequence[tuple[str, Params]]
) -> tuple[list[Rows], list[int]]:
    """Run ``statements`` in order in one round trip; their rows and their row counts.

    Instants come back in UTC, as ``UtcDateTime`` columns give them.
    """
    driver = _require_driver(connection)
    with _pipeline(driver):
        cursors = [driver.execute(sql, params) for sql, params in statements]
    found = [[_in_utc(row, cursor.description) for row in cursor.fetchall()]
             if cursor.description else [] for cursor in cursors]
    return found, [cursor.rowcount for cursor in cursors]


def commit_with(connection: Connection, sql: str, rows: Sequence[Params]) -> None:
    """Insert ``rows`` with ``sql`` and commit, in one round trip; an empty ``rows`` just
    commits. SQLAlchemy's own ``commit()`` still has to be called after it (the driver then
    has nothing left to do) so that the ``Connection`` knows the transaction ended."""
    driver = _require_driver(connection)
    with _pipeline(driver):
        if rows:
            driver.cursor().executemany(sql, rows)
        driver.commit()


def _require_driver(connection: Connection) -> psycopg.Connection[Any]:
    driver = driver_of(connection)
    if driver is None:
        raise RuntimeError("pipelines are a PostgreSQL feature")
    return driver


@contextmanager
def _pipeline(driver: psycopg.Connection[Any]) -> Iterator[None]:
    import psycopg

    with storage_errors():
        try:
            with driver.pipeline():
                yield
        except psycopg.Error as error:
            # The wrapper SQLAlchemy would have raised, so the errors translate the same way.
            # A lost connection is dropped from the pool by the rollback that follows.
            wrapped = DBAPIError.instance(
                None, None, error, psycopg.Error, connection_invalidated=driver.closed
            )
            raise wrapped from error


def _in_utc(row: tuple[Any, ...], description: Sequence[Any]) -> dict[str, Any]:
    return {
        column.name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for column, value in zip(description, row, strict=True)
    }
