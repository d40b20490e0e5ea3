"""The read paths: a process remembers professionals' hours by version, and reads take no
transaction. Neither may ever show stale or uncommitted data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import time
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.sql import migrate
from adapters.sql.children_cache import ChildrenCache
from adapters.sql.engine import make_engine
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking.model import AvailabilityWindow
from tests.factories import make_professional

MONDAYS_ONLY = (AvailabilityWindow(day_of_week=0, start=time(9), end=time(12)),)
TUESDAYS_ONLY = (AvailabilityWindow(day_of_week=1, start=time(14), end=time(18)),)


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_hours_of_a_version_already_read_come_from_memory(engine: sa.Engine) -> None:
    cache = ChildrenCache()
    pro = make_professional()
    with SqlUnitOfWork(engine) as uow:
        uow.professionals.add(pro)
        uow.commit()
    with SqlUnitOfWork(engine, children=cache, read_only=True) as uow:
        first = uow.professionals.get(pro.id)

    with statements(engine) as seen, SqlUnitOfWork(engine, children=cache) as uow:
        again = uow.professionals.get(pro.id)

    assert first is not None and again is not None
    assert again.availability == first.availability == pro.availability
    assert not [s for s in seen if "availabilities" in s or "time_off" in s]


def test_a_new_version_brings_its_new_hours(engine: sa.Engine) -> None:
    cache = ChildrenCache()
    pro = make_professional(availability=MONDAYS_ONLY)
    with SqlUnitOfWork(engine) as uow:
        uow.professionals.add(pro)
        uow.commit()
    with SqlUnitOfWork(engine, children=cache) as uow:
        uow.professionals.get(pro.id)

    with SqlUnitOfWork(engine, children=cache) as uow:
        stored = uow.professionals.get(pro.id)
        assert stored is not None
        uow.professionals.update(replace(stored, availability=TUESDAYS_ONLY))
        uow.commit()
    with SqlUnitOfWork(engine, children=cache) as uow:
        changed = uow.professionals.get(pro.id)

    assert changed is not None and changed.availability == TUESDAYS_ONLY


def test_hours_written_by_a_transaction_that_rolled_back_are_not_remembered(
    engine: sa.Engine,
) -> None:
    cache = ChildrenCache()
    pro = make_professional(availability=MONDAYS_ONLY)
    with SqlUnitOfWork(engine) as uow:
        uow.professionals.add(pro)
        uow.commit()
    with SqlUnitOfWork(engine, children=cache) as abandoned:
        stored = abandoned.professionals.get(pro.id)
        assert stored is not None
        abandoned.professionals.update(replace(stored, availability=TUESDAYS_ONLY))
        abandoned.professionals.get(pro.id)  # reads its own version 2, then rolls back
    with SqlUnitOfWork(engine) as uow:  # another writer makes a different version 2
        stored = uow.professionals.get(pro.id)
        assert stored is not None
        uow.professionals.update(replace(stored, availability=()))
        uow.commit()

    with SqlUnitOfWork(engine, children=cache) as uow:
        now = uow.professionals.get(pro.id)

    assert now is not None and now.version == 2 and now.availability == ()


def test_the_cache_forgets_the_least_recently_used_first() -> None:
    cache = ChildrenCache(size=2)
    a, b, c = ((uuid4(), 1) for _ in range(3))
    cache.put(a, ((), ()))
    cache.put(b, ((), ()))
    cache.get(a)
    cache.put(c, ((), ()))

    assert cache.get(b) is None
    assert cache.get(a) is not None and cache.get(c) is not None
    assert len(cache) == 2


def test_a_read_only_unit_of_work_refuses_to_commit(engine: sa.Engine) -> None:
    with (
        SqlUnitOfWork(engine, read_only=True) as uow,
        pytest.raises(RuntimeError, match="read-only"),
    ):
        uow.commit()


def test_a_read_only_unit_of_work_opens_no_transaction(engine: sa.Engine) -> None:
    with statements(engine) as seen, SqlUnitOfWork(engine, read_only=True) as uow:
        uow.professionals.get(uuid4())
        driver = uow._connection.connection.dbapi_connection  # type: ignore[union-attr]

    assert not [s for s in seen if s.upper().startswith("BEGIN")]
    if engine.dialect.name == "postgresql":
        assert driver.info.transaction_status == 0  # psycopg: IDLE, no transaction open
    else:
        assert driver.in_transaction is False


def test_a_reader_is_not_held_up_by_a_writer_on_sqlite(sqlite_url: str) -> None:
    engine, elsewhere = make_engine(sqlite_url), make_engine(sqlite_url)  # two processes' pools
    migrate.upgrade(engine)
    pro = make_professional()
    with SqlUnitOfWork(engine) as writer:  # holds SQLite's write lock (BEGIN IMMEDIATE)
        writer.professionals.add(pro)
        with SqlUnitOfWork(elsewhere, read_only=True) as reader:
            unseen = reader.professionals.get(pro.id)  # would wait 30 s if it asked the lock
        writer.commit()

    assert unseen is None  # nor does it see what is not committed
    engine.dispose()
    elsewhere.dispose()
