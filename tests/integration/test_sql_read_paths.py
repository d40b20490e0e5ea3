"""The read paths: a process remembers professionals by version, and reads take no transaction.
Neither may ever show stale or uncommitted data."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking.model import AvailabilityWindow, Location, Professional
from booking.ports import SearchCriteria
from tests.factories import make_professional
from tests.integration.support import statements

MONDAYS_ONLY = (AvailabilityWindow(day_of_week=0, start=time(9), end=time(12)),)
TUESDAYS_ONLY = (AvailabilityWindow(day_of_week=1, start=time(14), end=time(18)),)


def store(engine: sa.Engine, *pros: Professional) -> None:
    with SqlUnitOfWork(engine) as uow:
        for pro in pros:
            uow.professionals.add(pro)
        uow.commit()


def test_a_version_already_read_comes_from_memory(engine: sa.Engine) -> None:
    cache = ProfessionalCache()
    pro = make_professional()
    store(engine, pro)
    with SqlUnitOfWork(engine, known_professionals=cache, read_only=True) as uow:
        first = uow.professionals.get(pro.id)

    with statements(engine) as seen, SqlUnitOfWork(engine, known_professionals=cache) as uow:
        again = uow.professionals.get(pro.id)

    assert first is not None and again is not None
    assert again == first == pro
    assert again is not first  # each caller its own copy
    assert not [s for s in seen if "availabilities" in s or "time_off" in s]


def test_a_new_version_brings_its_new_hours(engine: sa.Engine) -> None:
    cache = ProfessionalCache()
    pro = make_professional(availability=MONDAYS_ONLY)
    store(engine, pro)
    with SqlUnitOfWork(engine, known_professionals=cache) as uow:
        uow.professionals.get(pro.id)

    with SqlUnitOfWork(engine, known_professionals=cache) as uow:
        stored = uow.professionals.get(pro.id)
        assert stored is not None
        uow.professionals.update(replace(stored, availability=TUESDAYS_ONLY))
        uow.commit()
    with SqlUnitOfWork(engine, known_professionals=cache) as uow:
        changed = uow.professionals.get(pro.id)

    assert changed is not None and changed.availability == TUESDAYS_ONLY


def test_hours_written_by_a_transaction_that_rolled_back_are_not_remembered(
    engine: sa.Engine,
) -> None:
    cache = ProfessionalCache()
    pro = make_professional(availability=MONDAYS_ONLY)
    store(engine, pro)
    with SqlUnitOfWork(engine, known_professionals=cache) as abandoned:
        stored = abandoned.professionals.get(pro.id)
        assert stored is not None
        abandoned.professionals.update(replace(stored, availability=TUESDAYS_ONLY))
        abandoned.professionals.get(pro.id)  # reads its own version 2, then rolls back
    with SqlUnitOfWork(engine) as uow:  # another writer makes a different version 2
        stored = uow.professionals.get(pro.id)
        assert stored is not None
        uow.professionals.update(replace(stored, availability=()))
        uow.commit()

    with SqlUnitOfWork(engine, known_professionals=cache) as uow:
        now = uow.professionals.get(pro.id)

    assert now is not None and now.version == 2 and now.availability == ()


def test_a_search_builds_only_professionals_it_has_not_seen(engine: sa.Engine) -> None:
    cache = ProfessionalCache()
    pros = [make_professional(location=Location(52.52, 13.405 + 0.001 * n)) for n in range(3)]
    store(engine, *pros)
    criteria = SearchCriteria(category="plumbing", near=Location(52.52, 13.405), radius_km=5)
    with SqlUnitOfWork(engine, known_professionals=cache, read_only=True) as uow:
        first = uow.professionals.search(criteria)

    with statements(engine) as seen, SqlUnitOfWork(engine, known_professionals=cache) as uow:
        again = uow.professionals.search(criteria)

    assert [pro.id for pro, _ in again] == [pro.id for pro, _ in first] == [p.id for p in pros]
    assert [pro for pro, _ in again] == pros
    [box] = [s for s in seen if "professionals" in s]  # the box, and nothing more
    assert "availabilities" not in box and "name" not in box


def test_a_change_to_a_copy_leaves_the_remembered_professional_alone(engine: sa.Engine) -> None:
    cache = ProfessionalCache()
    pro = make_professional()
    store(engine, pro)
    with SqlUnitOfWork(engine, known_professionals=cache, read_only=True) as uow:
        mine = uow.professionals.get(pro.id)
        assert mine is not None
        mine.hourly_rate_cents = 1
        mine.availability = TUESDAYS_ONLY

    with SqlUnitOfWork(engine, known_professionals=cache, read_only=True) as uow:
        again = uow.professionals.get(pro.id)

    assert again == pro


def test_the_cache_forgets_the_least_recently_used_first() -> None:
    cache = ProfessionalCache(size=2)
    a, b, c = (make_professional() for _ in range(3))
    cache.put(a)
    cache.put(b)
    cache.get((a.id, a.version))
    cache.put(c)

    assert cache.get((b.id, b.version)) is None
    assert cache.get((a.id, a.version)) == a and cache.get((c.id, c.version)) == c
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
