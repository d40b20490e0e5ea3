"""Alembic environment: runs on the connection that ``adapters.sql.migrate`` hands in.

There is no alembic.ini: ``migrate.py`` builds the configuration in code and passes an open
connection (inside its transaction) as ``config.attributes["connection"]``. Offline mode
(``--sql``) renders the DDL for the dialect of ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context

from adapters.sql.tables import metadata

config = context.config


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through adapters.sql.migrate, which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
