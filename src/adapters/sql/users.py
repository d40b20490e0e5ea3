"""Accounts (who may log in, with which role) and the token revocation list, in SQL.

Accounts are not part of the booking domain: they link a login to the client or professional
it acts as. Registering a client writes the ``clients`` row and the ``users`` row in one
transaction, so a taken e-mail address never leaves a client without an account behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from adapters.sql import rows
from adapters.sql.errors import storage_errors
from adapters.sql.tables import clients, revoked_tokens, users
from booking.model import Client

ROLES = ("client", "professional", "admin")


class EmailTaken(Exception):
    """An account with this e-mail address exists already."""


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: UUID
    email: str  # stored lower-cased: addresses are compared without case
    password_hash: str
    role: str
    created_at: datetime
    client_id: UUID | None = None
    professional_id: UUID | None = None


class SqlUsers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, user: User, client: Client | None = None) -> None:
        """Store ``user`` (and the client it acts as); raise EmailTaken if the address is used."""
        values = {
            "id": user.id,
            "email": user.email.lower(),
            "password_hash": user.password_hash,
            "role": user.role,
            "client_id": user.client_id,
            "professional_id": user.professional_id,
            "created_at": user.created_at,
        }
        # The unique index on the address decides races between two registrations.
        with storage_errors():
            try:
                with self.engine.begin() as connection:
                    if client is not None:
                        connection.execute(
                            insert(clients).values(
                                **rows.client_values(client),
                                created_at=user.created_at,
                                updated_at=user.created_at,
                            )
                        )
                    connection.execute(insert(users).values(**values))
            except IntegrityError as error:
                raise EmailTaken(user.email) from error

    def by_email(self, email: str) -> User | None:
        with self._transaction() as connection:
            row = connection.execute(
                select(users).where(users.c.email == email.lower())
            ).mappings().first()
        return None if row is None else User(**row)

    def get(self, user_id: UUID) -> User | None:
        with self._transaction() as connection:
            row = connection.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return None if row is None else User(**row)

    def link_professional(self, user_id: UUID, professional_id: UUID) -> None:
        with self._transaction() as connection:
            connection.execute(
                update(users).where(users.c.id == user_id).values(professional_id=professional_id)
            )

    def count_admins(self) -> int:
        with self._transaction() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(users).where(users.c.role == "admin")
                ).scalar_one()
            )

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with storage_errors(), self.engine.begin() as connection:
            yield connection


class SqlRevokedTokens:
    """Token ids (``jti``) revoked before their expiry."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoke(self, jti: str, expires_at: datetime) -> None:
        with storage_errors(), self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(
                dialect.insert(revoked_tokens)
                .values(jti=jti, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=[revoked_tokens.c.jti])
            )

    def is_revoked(self, jti: str) -> bool:
        with storage_errors(), self.engine.connect() as connection:
            found = connection.execute(
                select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)
            ).first()
        return found is not None

    def purge_expired(self, now: datetime) -> int:
        with storage_errors(), self.engine.begin() as connection:
            return connection.execute(
                delete(revoked_tokens).where(revoked_tokens.c.expires_at <= now)
            ).rowcount
