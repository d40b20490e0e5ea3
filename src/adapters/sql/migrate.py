"""Schema migrations with Alembic, configured in code (no alembic.ini needed at runtime).

Decision: nothing migrates a shared database implicitly. The API refuses to start on a database
that is not at the latest revision (``ensure_up_to_date`` raises ``DatabaseNotMigrated``), and
an operator runs ``hourbook db upgrade`` once per deployment, so several API processes never
race to migrate. ``hourbook demo`` owns its SQLite file and upgrades it itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from adapters.sql.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseNotMigrated(RuntimeError):
    """The database schema is older (or newer) than this code."""


def upgrade(target: Engine | str, revision: str = "head") -> None:
    """Migrate the database at ``target`` (an engine or URL) up to ``revision``."""
    with _connection(target) as connection:
        command.upgrade(_config(connection), revision)


def downgrade(target: Engine | str, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"`` drops every table)."""
    with _connection(target) as connection:
        command.downgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def ensure_up_to_date(engine: Engine) -> None:
    """Raise DatabaseNotMigrated unless the schema is at the latest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise DatabaseNotMigrated(
            f"the database is at revision {current or 'none'}, this code needs {head}:"
            " run `hourbook db upgrade`"
        )


def _config(connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connection(target: Engine | str) -> Iterator[Connection]:
    """One transaction for the whole migration; an engine made from a URL is disposed after."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        if isinstance(target, str):
            engine.dispose()
