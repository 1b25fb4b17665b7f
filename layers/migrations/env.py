"""Alembic environment: runs migrations on the connection given by ``webmap db init``.

The migrations are hand-written SQL and the only description of the schema (docs/architecture.md,
"Schema"): there is no model metadata to autogenerate from or compare with.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table_schema="public",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
