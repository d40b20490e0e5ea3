"""Column types that make both engines hand back what the domain expects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: ``timestamptz`` on PostgreSQL, fixed-width UTC ISO text on SQLite.

    SQLite has no time zone type and drops the offset, and the domain rejects naive datetimes.
    Fixed-width text (``2026-06-01T10:00:00.000000+00:00``) keeps the instant and sorts and
    compares as text in time order, which the SQLite overlap triggers rely on. Values come back
    as aware UTC datetimes on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime cannot be stored as an instant: {value}")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return utc.isoformat(timespec="microseconds")
        return utc

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).astimezone(UTC)
        if isinstance(value, datetime):
            if value.tzinfo is None:  # only if someone stored a naive value behind our back
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        raise TypeError(f"unexpected stored instant: {value!r}")
