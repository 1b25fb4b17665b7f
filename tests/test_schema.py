"""The migrations are the one description of the schema: the names the code uses are the ones they
create, and starting the app loads neither SQLAlchemy nor alembic (docs/architecture.md, "Schema").
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psycopg

from layers.schema import CATALOG_SCHEMA, DATA_SCHEMA, LAYER_NAME_PATTERN, current_revision

PROJECT = Path(__file__).resolve().parent.parent


def test_the_schema_names_are_the_ones_the_migrations_create(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        schemas = {
            row[0]
            for row in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                [[CATALOG_SCHEMA, DATA_SCHEMA]],
            )
        }
        constraint = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'layer_name_format' AND conrelid = %s::regclass",
            [f"{CATALOG_SCHEMA}.layers"],
        ).fetchone()
        revision = current_revision(conn)
    assert schemas == {CATALOG_SCHEMA, DATA_SCHEMA}
    assert constraint is not None
    assert f"'{LAYER_NAME_PATTERN}'" in constraint[0]
    newest = sorted((PROJECT / "layers" / "migrations" / "versions").glob("0*.py"))[-1]
    assert revision == newest.stem


def test_the_name_pattern_is_what_the_database_accepts(database_url: str) -> None:
    names = ["a", "roads", "b2_x", "A", "1a", "_a", "a-b", "a" * 48, "a" * 49, "å"]
    with psycopg.connect(database_url) as conn:
        for name in names:
            in_db = conn.execute("SELECT %s ~ %s", [name, LAYER_NAME_PATTERN]).fetchone()
            assert in_db is not None
            assert bool(re.fullmatch(LAYER_NAME_PATTERN, name)) is in_db[0], name


def test_starting_the_app_imports_neither_sqlalchemy_nor_alembic() -> None:
    probe = (
        "import sys, webmap\n"
        "webmap.create_app({'database_url': 'postgresql://postgres@127.0.0.1:5432/unused'})\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'geoalchemy2') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
