"""Accounts (who may log in, with which role) and the token revocation list, in SQL.

Accounts are not part of the booking domain: they link a login to the client or professional
it acts as. Registering a client writes the ``clients`` row and the ``users`` row in one
transaction, so a taken e-mail address never leaves a client without an account behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from adapters.sql import account_mail, rows
from adapters.sql.audit import record
from adapters.sql.errors import storage_errors
from adapters.sql.tables import (
    clients,
    revoked_tokens,
    token_families,
    token_valid_after,
    users,
)
from booking.audit import Entity, changed
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
    email_verified_at: datetime | None = None


class SqlUsers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, user: User, client: Client | None = None, *, mail: Mapping[str, str] | None = None
    ) -> None:
        """Store ``user`` (and the client it acts as, and the verification link's ``mail`` in
        the outbox: ``adapters.sql.account_mail``); raise EmailTaken if the address is used,
        and then nothing is stored or mailed."""
        values = {
            "id": user.id,
            "email": user.email.lower(),
            "password_hash": user.password_hash,
            "role": user.role,
            "client_id": user.client_id,
            "professional_id": user.professional_id,
            "created_at": user.created_at,
            "email_verified_at": user.email_verified_at,
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
                    if mail is not None:
                        account_mail.write(
                            connection, account_mail.VERIFICATION_LINK, mail, user.created_at
                        )
                    fields = {"email": values["email"], "role": user.role}
                    record(connection, changed(Entity.ACCOUNT, user.id, "registered", None, fields))
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

    def mark_verified(self, user_id: UUID, email: str, when: datetime) -> bool:
        """Record that ``email`` is verified, if it is still the account's address."""
        with self._transaction() as connection:
            return connection.execute(
                update(users)
                .where(users.c.id == user_id, users.c.email == email.lower())
                .values(email_verified_at=func.coalesce(users.c.email_verified_at, when))
            ).rowcount == 1

    def replace_password_hash(
        self, user_id: UUID, old: str, new: str, *, audit_as: str | None = None
    ) -> bool:
        """Store a new hash, unless the password changed meanwhile (then False); with
        ``audit_as`` (``password_reset``, ``password_changed``), log it under that action."""
        with self._transaction() as connection:
            replaced = connection.execute(
                update(users)
                .where(users.c.id == user_id, users.c.password_hash == old)
                .values(password_hash=new)
                .returning(users.c.id)
            ).first()
            if replaced is not None and audit_as is not None:
                record(connection, changed(Entity.ACCOUNT, user_id, audit_as, None, None))
        return replaced is not None

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


Revoked = tuple[str, datetime]  # (token or family id, expires_at)
CutOff = tuple[UUID, datetime]  # (account id, valid_after)


class SqlRevokedTokens:
    """The durable revocation list: revoked token and family ids, and per-account cut-offs.

    A token is refused if its id (``jti``) or its refresh family (``fam``) is listed, or if it
    was issued at or before its account's ``valid_after`` ("log out everywhere").
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoke(self, jti: str, expires_at: datetime) -> bool:
        """List ``jti`` until ``expires_at``; True if it was not listed already."""
        with storage_errors(), self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            # RETURNING, not rowcount: psycopg does not count an INSERT … ON CONFLICT reliably.
            inserted = connection.execute(
                dialect.insert(revoked_tokens)
                .values(jti=jti, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=[revoked_tokens.c.jti])
                .returning(revoked_tokens.c.jti)
            ).first()
        return inserted is not None

    def start_family(
        self, family_id: str, account_id: UUID, refresh_jti: str, expires_at: datetime
    ) -> None:
        """Record a new login whose next usable refresh token is ``refresh_jti``."""
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                insert(token_families).values(
                    family_id=family_id, account_id=account_id, current_jti=refresh_jti,
                    expires_at=expires_at,
                )
            )

    def rotate(self, family_id: str, presented: str, successor: str, expires_at: datetime) -> bool:
        """Swap the family's usable refresh token ``presented`` for ``successor``; False if
        ``presented`` is not the usable one (spent before, or the family is unknown)."""
        with storage_errors(), self.engine.begin() as connection:
            swapped = connection.execute(
                update(token_families)
                .where(
                    token_families.c.family_id == family_id,
                    token_families.c.current_jti == presented,
                )
                .values(current_jti=successor, expires_at=expires_at)
                .returning(token_families.c.family_id)
            ).first()
        return swapped is not None

    def revoke_all(self, account_id: UUID, valid_after: datetime) -> None:
        """Refuse every token of the account issued at or before ``valid_after``."""
        with storage_errors(), self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(token_valid_after).values(
                account_id=account_id, valid_after=valid_after
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[token_valid_after.c.account_id],
                    set_={"valid_after": statement.excluded.valid_after},
                )
            )
            after = {"valid_after": valid_after.isoformat()}
            logout = changed(Entity.ACCOUNT, account_id, "logged_out_everywhere", None, after)
            record(connection, logout)

    def is_revoked(self, ids: Sequence[str], account_id: UUID, issued_at: datetime) -> bool:
        with storage_errors(), self.engine.connect() as connection:
            listed = connection.execute(
                select(revoked_tokens.c.jti).where(revoked_tokens.c.jti.in_(list(ids))).limit(1)
            ).first()
            if listed is not None:
                return True
            cut_off = connection.execute(
                select(token_valid_after.c.valid_after).where(
                    token_valid_after.c.account_id == account_id
                )
            ).scalar()
        return cut_off is not None and issued_at <= cut_off

    def active(self, now: datetime) -> tuple[list[Revoked], list[CutOff]]:
        """Everything still in force: ``(jti, expires_at)`` pairs and ``(account, valid_after)``."""
        with storage_errors(), self.engine.connect() as connection:
            revoked = connection.execute(
                select(revoked_tokens.c.jti, revoked_tokens.c.expires_at).where(
                    revoked_tokens.c.expires_at > now
                )
            ).all()
            cut_offs = connection.execute(
                select(token_valid_after.c.account_id, token_valid_after.c.valid_after)
            ).all()
        return [(r.jti, r.expires_at) for r in revoked], [
            (c.account_id, c.valid_after) for c in cut_offs
        ]

    def purge_expired(self, now: datetime) -> int:
        with storage_errors(), self.engine.begin() as connection:
            return connection.execute(
                delete(revoked_tokens).where(revoked_tokens.c.expires_at <= now)
            ).rowcount
