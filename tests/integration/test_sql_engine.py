"""Engine settings that the concurrency guarantees depend on."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sql.engine import default_sqlite_url, make_engine


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)

    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one()

    assert (mode, timeout, foreign_keys) == ("wal", 30_000, 1)
    engine.dispose()


def test_a_sqlite_transaction_takes_the_write_lock_when_it_begins(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    other = sa.create_engine(sqlite_url, connect_args={"timeout": 0})

    with engine.begin(), other.connect() as connection, pytest.raises(sa.exc.OperationalError):
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # would wait: the first holds the lock

    engine.dispose()
    other.dispose()


def test_the_default_sqlite_url_is_a_file_in_the_instance_directory(tmp_path: Path) -> None:
    assert default_sqlite_url(tmp_path) == f"sqlite+pysqlite:///{tmp_path}/hourbook.sqlite3"


def test_an_in_memory_sqlite_database_is_refused() -> None:
    with pytest.raises(ValueError, match="file"):
        make_engine("sqlite://")


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://localhost/db")
