"""Alembic migrations build and remove the schema on both engines, matching ``tables.py``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from adapters.sql import migrate
from adapters.sql.tables import metadata

TABLES = set(metadata.tables)


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_builds_every_table_from_an_empty_database(bare_engine: sa.Engine) -> None:
    assert not migrate.is_up_to_date(bare_engine)

    migrate.upgrade(bare_engine)

    assert table_names(bare_engine) == TABLES | {"alembic_version"}
    assert migrate.current_revision(bare_engine) == migrate.head_revision()
    assert migrate.is_up_to_date(bare_engine)


def test_downgrade_to_base_removes_every_table(bare_engine: sa.Engine) -> None:
    migrate.upgrade(bare_engine)

    migrate.downgrade(bare_engine, "base")

    assert table_names(bare_engine) == {"alembic_version"}
    assert migrate.current_revision(bare_engine) is None


def test_upgrade_after_downgrade_rebuilds_the_schema(bare_engine: sa.Engine) -> None:
    migrate.upgrade(bare_engine)
    migrate.downgrade(bare_engine, "base")

    migrate.upgrade(bare_engine)

    assert table_names(bare_engine) == TABLES | {"alembic_version"}


def test_the_migrated_schema_matches_the_table_definitions(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_an_unmigrated_database_is_refused_with_the_command_to_run(bare_engine: sa.Engine) -> None:
    with pytest.raises(migrate.DatabaseNotMigrated, match="hourbook db upgrade"):
        migrate.ensure_up_to_date(bare_engine)


def test_a_migrated_database_is_accepted(engine: sa.Engine) -> None:
    migrate.ensure_up_to_date(engine)


def test_upgrade_accepts_a_url(database_url: str) -> None:
    migrate.upgrade(database_url)

    engine = sa.create_engine(database_url)
    assert migrate.is_up_to_date(engine)
    engine.dispose()
