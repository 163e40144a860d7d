"""The migrations are the only way the schema is made: they must match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vle import db
from vle.db import Base


def _not_the_search_index(_object, name, type_, _reflected, _compare_to):
    """The search's FTS5 table (and its shadow tables) on SQLite and its GIN
    index on PostgreSQL exist only in migration 0017, not in the models."""
    if type_ == "table" and name and name.startswith("search_fts"):
        return False
    return not (type_ == "index" and name == "ix_search_documents_terms")


def test_models_and_migrations_agree(app):
    engine = db.get_database(app).engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _not_the_search_index}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_sqlite_runs_with_wal_and_foreign_keys(app):
    engine = db.get_database(app).engine
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
