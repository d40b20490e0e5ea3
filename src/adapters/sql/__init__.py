"""SQL persistence: SQLite (embedded default) and PostgreSQL, through SQLAlchemy Core."""
