"""Hot-path statements sent straight to psycopg, under the SQLAlchemy ``Connection``.

A booking's hold and payment run a handful of statements, and SQLAlchemy's execution layer
(statement cache lookup, parameter and result processing) cost about as much CPU per
statement as psycopg itself. These statements are still written as Core (``postgres_sql``
compiles them once) and run inside the transaction SQLAlchemy began, so they mix with the Core
statements of the same unit of work; errors come back as SQLAlchemy's wrappers and are
translated as everywhere else (``errors.storage_errors``). SQLite has no such path:
``driver_of`` returns None there, and the callers take the plain one.

psycopg's pipeline mode (several statements per round trip) was tried here and dropped: on
loopback it saved less waiting than it cost CPU, and with several threads per process it cost
twice the CPU of plain statements (docs/performance.md).
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
    have bound on its own is refused, since ``run`` passes only the caller's values.
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


def run(connection: Connection, sql: str, params: Params) -> tuple[Rows, int]:
    """Execute ``sql`` on PostgreSQL: its rows (instants in UTC, as ``UtcDateTime`` gives
    them) and its row count."""
    driver = _require_driver(connection)
    with _driver_errors(driver):
        cursor = driver.execute(sql, params)
        if cursor.description is None:
            return [], cursor.rowcount
        names = [column.name for column in cursor.description]
        return [_in_utc(names, row) for row in cursor.fetchall()], cursor.rowcount


def run_each(connection: Connection, sql: str, rows: Sequence[Params]) -> None:
    """Execute ``sql`` once per row (not ``executemany``, which would switch psycopg into
    pipeline mode)."""
    driver = _require_driver(connection)
    with _driver_errors(driver):
        cursor = driver.cursor()
        for row in rows:
            cursor.execute(sql, row)


def _require_driver(connection: Connection) -> psycopg.Connection[Any]:
    driver = driver_of(connection)
    if driver is None:
        raise RuntimeError("direct statements are for PostgreSQL")
    return driver


@contextmanager
def _driver_errors(driver: psycopg.Connection[Any]) -> Iterator[None]:
    import psycopg

    with storage_errors():
        try:
            yield
        except psycopg.Error as error:
            # The wrapper SQLAlchemy would have raised, so the errors translate the same way.
            # A lost connection is dropped from the pool by the rollback that follows.
            raise DBAPIError.instance(
                None, None, error, psycopg.Error, connection_invalidated=driver.closed
            ) from error


def _in_utc(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in zip(names, row, strict=True)
    }
