"""Calendar feed tokens: random, one per professional, stored as their SHA-256 only.

A token has 256 random bits, so a fast hash is enough (nothing to guess from it), and the
stored hash is compared in constant time. Making a new token replaces the old one in the same
statement: the old URL stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.errors import storage_errors
from adapters.sql.tables import calendar_feed_tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SqlFeedTokens:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rotate(self, professional_id: UUID, now: datetime) -> str:
        """A new token for the professional's feed; the one before, if any, stops working."""
        token = secrets.token_urlsafe(32)
        values = {"token_sha256": _digest(token), "created_at": now}
        with storage_errors(), self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(
                dialect.insert(calendar_feed_tokens)
                .values(professional_id=professional_id, **values)
                .on_conflict_do_update(
                    index_elements=[calendar_feed_tokens.c.professional_id], set_=values
                )
            )
        return token

    def matches(self, professional_id: UUID, token: str) -> bool:
        """Whether ``token`` is the professional's current one."""
        with storage_errors(), self.engine.connect() as connection:
            stored = connection.execute(
                select(calendar_feed_tokens.c.token_sha256).where(
                    calendar_feed_tokens.c.professional_id == professional_id
                )
            ).scalar_one_or_none()
        return stored is not None and hmac.compare_digest(stored, _digest(token))
