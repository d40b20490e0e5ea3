"""Database failures become the domain's errors: a real deadlock on PostgreSQL, for one."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from adapters.sql.engine import make_engine
from adapters.sql.errors import storage_errors
from booking.errors import ConcurrentUpdate
from tests.integration.support import all_at_once

BUMP = sa.text("UPDATE pair SET n = n + 1 WHERE id = :id")
LEAVE = sa.text("UPDATE shift SET on_call = false WHERE id = :id")


@pytest.mark.postgres
def test_a_deadlock_between_two_transactions_is_a_concurrent_update(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE pair (id int PRIMARY KEY, n int)")
        connection.exec_driver_sql("INSERT INTO pair VALUES (1, 0), (2, 0)")
    both_hold_one = threading.Barrier(2, timeout=30)

    def lock(first: int, second: int) -> str:
        try:
            with storage_errors(), engine.begin() as connection:
                connection.execute(BUMP, {"id": first})
                both_hold_one.wait()
                connection.execute(BUMP, {"id": second})
        except ConcurrentUpdate:
            return "retry"
        return "committed"

    outcomes = all_at_once([lambda: lock(1, 2), lambda: lock(2, 1)])

    assert sorted(outcomes) == ["committed", "retry"]  # PostgreSQL broke the cycle once
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT sum(n) FROM pair").scalar_one() == 2
    engine.dispose()


@pytest.mark.postgres
def test_a_serialization_failure_is_a_concurrent_update(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    serializable = engine.execution_options(isolation_level="SERIALIZABLE")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE shift (id int PRIMARY KEY, on_call boolean)")
        connection.exec_driver_sql("INSERT INTO shift VALUES (1, true), (2, true)")
    both_read = threading.Barrier(2, timeout=30)

    def go_off_call(me: int) -> str:
        # Write skew: each reads that someone else is on call, then leaves.
        try:
            with storage_errors(), serializable.begin() as connection:
                connection.exec_driver_sql("SELECT count(*) FROM shift WHERE on_call").scalar()
                both_read.wait()
                connection.execute(LEAVE, {"id": me})
        except ConcurrentUpdate:
            return "retry"
        return "committed"

    outcomes = all_at_once([lambda: go_off_call(1), lambda: go_off_call(2)])

    assert sorted(outcomes) == ["committed", "retry"]
    engine.dispose()
