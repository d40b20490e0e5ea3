"""Many clients, each booking once, so that every booking stays under the default hold caps.

A client may keep 3 unpaid holds, 1 with any one professional (``booking.holds``), and the
benchmarks book far more than that per load thread. So each booking is made by a client that
has made none yet: a pool of clients is copied into the database (``COPY``, seconds for tens of
thousands), and each load thread takes the next one from the pool for every booking. The
HTTP benchmarks also need each client's access token: registering and logging in over the API
would spend two Argon2 hashes per account (a tenth of a second each on this machine), so the
users are copied with one shared password hash and their tokens are signed in this process
with the server's key, by the app's own JWT configuration (``create_app`` with the server's
settings).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID, uuid4

from argon2 import PasswordHasher
from flask_jwt_extended import create_access_token

from bench.database import Database
from entrypoints.api.app import create_app
from entrypoints.config import Settings

T = TypeVar("T")
PASSWORD = "bench password 1"  # noqa: S105 - accounts on a throwaway database


class Pool(Generic[T]):
    """Hands each item out once, to any thread; says so clearly when it runs dry."""

    def __init__(self, items: list[T], what: str) -> None:
        self._items: Iterator[T] = iter(items)
        self._lock = threading.Lock()
        self.size = len(items)
        self.what = what

    def take(self) -> T:
        with self._lock:
            try:
                return next(self._items)
            except StopIteration:
                raise RuntimeError(
                    f"the pool of {self.size:,} {self.what} is used up: make it larger"
                ) from None


@dataclass(frozen=True, slots=True)
class Account:
    client_id: UUID
    headers: dict[str, str]


def copy_clients(database: Database, count: int, *, with_users: bool = False) -> list[UUID]:
    """``count`` new clients (and their client accounts), copied in one transaction."""
    ids = [uuid4() for _ in range(count)]
    now = datetime.now(UTC)
    password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with database.connect() as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY clients (id, name, email, phone, created_at, updated_at) FROM STDIN"
        ) as copy:
            for client_id in ids:
                copy.write_row((client_id, "Bench Client", "client@bench.example", "", now, now))
        if with_users:
            with cursor.copy(
                "COPY users (id, email, password_hash, role, client_id, created_at)"
                " FROM STDIN"
            ) as copy:
                for client_id in ids:
                    copy.write_row((client_id, f"{client_id}@bench.example", password_hash,
                                    "client", client_id, now))  # fmt: skip
        connection.commit()
    return ids


def client_accounts(database: Database, settings: Settings, count: int) -> Pool[Account]:
    """``count`` client accounts with access tokens the server (``settings``) accepts."""
    ids = copy_clients(database, count, with_users=True)
    app = create_app(settings)
    with app.test_request_context():
        accounts = [
            Account(client_id, {"Authorization": "Bearer " + create_access_token(
                identity=str(client_id), additional_claims={"role": "client"}
            )})
            for client_id in ids
        ]
    app.extensions["hourbook"].close()
    return Pool(accounts, "client accounts")
