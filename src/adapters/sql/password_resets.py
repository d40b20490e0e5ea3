"""Password reset tokens in SQL, as their SHA-256: issued with their mail, spent once.

``issue`` writes the token's row and its mail (to the outbox) in one transaction, for an
address with an account or without one (``account_id`` NULL, never mailed): the same
statements either way. ``spend`` takes a usable token, every other token of its account and
the new password hash in one transaction; of two uses of one token at once, one wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Engine, insert, select, update

from adapters.request_context import actor_bound
from adapters.sql import account_mail
from adapters.sql.audit import record
from adapters.sql.errors import storage_errors
from adapters.sql.tables import password_reset_tokens as resets
from adapters.sql.tables import users
from booking.audit import Actor, Entity, changed


class SqlPasswordResets:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(
        self,
        *,
        reset_id: UUID,
        account_id: UUID | None,
        token_sha256: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store the token and queue its mail (none goes out for ``account_id`` None)."""
        with self._transaction() as connection:
            connection.execute(
                insert(resets).values(
                    id=reset_id, account_id=account_id, token_sha256=token_sha256,
                    created_at=now, expires_at=expires_at, used_at=None,
                )
            )  # fmt: skip
            account_mail.write(
                connection, account_mail.PASSWORD_RESET, {"reset_id": str(reset_id)}, now
            )

    def recipient(self, reset_id: UUID, now: datetime) -> str | None:
        """The address to mail reset ``reset_id`` to, while its token can still be used."""
        with self._transaction() as connection:
            return connection.scalar(
                select(users.c.email)
                .join(resets, resets.c.account_id == users.c.id)
                .where(resets.c.id == reset_id, *_usable(now))
            )

    def is_usable(self, token_sha256: str, now: datetime) -> bool:
        with self._transaction() as connection:
            found = connection.scalar(
                select(resets.c.id).where(resets.c.token_sha256 == token_sha256, *_usable(now))
            )
        return found is not None

    def spend(self, token_sha256: str, now: datetime, password_hash: str) -> UUID | None:
        """Spend the token, and every other token of its account, and set the account's
        password hash; the account's id, or None if the token is unknown, spent or expired."""
        with self._transaction() as connection:
            account_id = connection.scalar(
                update(resets)
                .where(resets.c.token_sha256 == token_sha256, *_usable(now))
                .values(used_at=now)
                .returning(resets.c.account_id)
            )
            if account_id is None:
                return None
            connection.execute(
                update(resets)
                .where(resets.c.account_id == account_id, resets.c.used_at.is_(None))
                .values(used_at=now)
            )
            role = connection.scalar(
                update(users)
                .where(users.c.id == account_id)
                .values(password_hash=password_hash)
                .returning(users.c.role)
            )
            account = UUID(str(account_id))
            with actor_bound(Actor.account(account, str(role))):  # proven by the mailed token
                record(connection, changed(Entity.ACCOUNT, account, "password_reset", None, None))
        return account

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with storage_errors(), self.engine.begin() as connection:
            yield connection


def _usable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        resets.c.account_id.is_not(None),
        resets.c.used_at.is_(None),
        resets.c.expires_at > now,
    )
