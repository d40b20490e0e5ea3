"""Database errors translated into the domain's errors, in one place for both engines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from booking.errors import (
    BookingError,
    ClientNotFound,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    InvalidInput,
    SlotUnavailable,
    StorageUnavailable,
)

OVERLAP_MESSAGE = "booking_overlap"  # raised by the SQLite triggers
# PostgreSQL names the index; SQLite lists its columns ("bookings.client_id, bookings.idem...").
_IDEMPOTENCY_INDEX = "uq_bookings_client_id_idempotency_key"
_IDEMPOTENCY_COLUMN = "bookings.idempotency_key"
# PostgreSQL names the foreign key; SQLite only says "FOREIGN KEY constraint failed", and
# SqlBookings.add then looks the client up itself.
_BOOKING_CLIENT_KEY = "fk_bookings_client_id_clients"
_EXCLUSION_VIOLATION = "23P01"
_RETRYABLE_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
# Connection exceptions, insufficient resources, operator intervention (shutdown, starting up).
_UNAVAILABLE_CLASSES = ("08", "53", "57")
_SQLITE_UNAVAILABLE = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL"}
)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Re-raise database errors that have a domain meaning as domain errors."""
    try:
        yield
    except DBAPIError as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from error
    except PoolTimeout as error:
        raise StorageUnavailable("no database connection is free; try again") from error


def translate(error: DBAPIError) -> BookingError | None:
    """The domain error ``error`` stands for, or None when it is a bug to let through."""
    state = _sqlstate(error)
    if state == _EXCLUSION_VIOLATION or OVERLAP_MESSAGE in str(error.orig):
        return SlotUnavailable("the professional is already booked at that time")
    if state in _RETRYABLE_STATES:
        return ConcurrentUpdate("the change collided with a concurrent one; try again")
    if isinstance(error, IntegrityError):
        if _constraint(error) == _IDEMPOTENCY_INDEX or _IDEMPOTENCY_COLUMN in str(error.orig):
            return IdempotencyKeyReused("a booking was already made with this idempotency key")
        if _constraint(error) == _BOOKING_CLIENT_KEY:
            return ClientNotFound("no such client")
        return InvalidInput("the change conflicts with stored data (duplicate or missing row)")
    if error.connection_invalidated or _is_unavailable(error, state):
        return StorageUnavailable("the database cannot be reached; try again later")
    return None


def _is_unavailable(error: DBAPIError, state: str | None) -> bool:
    if not isinstance(error, OperationalError):
        return False
    sqlite_name = getattr(error.orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return str(sqlite_name) in _SQLITE_UNAVAILABLE
    # psycopg reports a refused or lost connection without a SQLSTATE.
    return state is None or state.startswith(_UNAVAILABLE_CLASSES)


def _sqlstate(error: DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None)
    return str(state) if state else None


def _constraint(error: DBAPIError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return str(name) if name else None
