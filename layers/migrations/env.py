"""Alembic environment: runs migrations on the connection given by ``webmap db init``.

The migrations create the schema; :mod:`layers.models` describes it (docs/architecture.md,
"Schema"). Its metadata is the ``target_metadata`` here, so ``alembic check`` (run by
``tests/test_schema.py``) compares models and migrated database, and ``alembic revision
--autogenerate`` drafts the next migration from a model change. Both see only what
``layers.models.include_name`` lets through.
"""

from __future__ import annotations

from alembic import context
from geoalchemy2.alembic_helpers import render_item
from sqlalchemy import create_engine, pool

from layers.models import Base, include_name

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table_schema="public",
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
            compare_server_default=True,
            render_item=render_item,  # a generated migration imports geoalchemy2's Geometry
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
