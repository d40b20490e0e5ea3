"""The purge job forgets revocations and logins once their tokens would have expired anyway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import sqlalchemy as sa

from adapters.jobs import tasks
from adapters.sql.tables import revoked_tokens, token_families
from adapters.sql.users import SqlRevokedTokens, SqlUsers, User
from tests.integration.jobs.conftest import World


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_the_purge_job_forgets_expired_revocations_and_logins_and_keeps_live_ones(
    world: World,
) -> None:
    now = datetime.now(UTC)
    account = User(id=uuid4(), email=f"{uuid4().hex[:8]}@example.com", password_hash="x",  # noqa: S106
                   role="client", created_at=now)  # fmt: skip
    SqlUsers(world.engine).add(account)
    store = SqlRevokedTokens(world.engine)
    store.revoke("ended", now + timedelta(hours=1))
    store.revoke("still-on", now + timedelta(days=3))
    store.start_family("old-login", account.id, "r1", now + timedelta(hours=1))
    store.start_family("live-login", account.id, "r2", now + timedelta(days=3))
    world.clock.current = now + timedelta(days=1)

    tasks.purge_expired_records(world.context)

    assert _count(world.engine, revoked_tokens) == 1
    assert _count(world.engine, token_families) == 1
    assert store.is_revoked(["still-on"], account.id, now)
    assert store.rotate("live-login", "r2", "r3", now + timedelta(days=3))
