"""The database schema: the names the migrations create, and creating the database and bringing
its schema up to date (``webmap db init``).

The SQL in ``migrations/versions/`` creates the tables; ``models.py`` describes them for alembic's
autogenerate and the schema check, and is never imported at run time (docs/architecture.md,
"Schema"); code reads and writes them with psycopg. Migrating is idempotent: a second run finds
the database and the newest migration in place and does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Created by migration 0001_catalog; the SQL there spells the same names and pattern.
CATALOG_SCHEMA = "webmap"  # the catalog, staff and token tables
DATA_SCHEMA = "layerdata"  # one table per stored version of a vector layer
LAYER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"  # the layers.name CHECK constraint


def sqlalchemy_url(database_url: str) -> str:
    """The SQLAlchemy form of a libpq URL, using the psycopg 3 driver."""
    _scheme, _, rest = database_url.partition("://")
    return f"postgresql+psycopg://{rest}"


def ensure_database(database_url: str) -> bool:
    """Create the database named in ``database_url`` when it is missing; True if it was created."""
    params = conninfo_to_dict(database_url)
    name = str(params.get("dbname") or "")
    if not name:
        return False
    maintenance = make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration that needs no alembic.ini on disk."""
    # Imported here: alembic brings SQLAlchemy, which only ``db init`` needs, not the app's start.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


#: Key of the advisory lock that serialises migrations (any number: it only has to be ours).
MIGRATION_LOCK = 0x7765626D6170  # "webmap"


def upgrade(database_url: str) -> None:
    """Apply every migration not yet applied, one migrator at a time.

    Several nodes may run ``webmap db upgrade`` at once during a rolling upgrade: a session
    advisory lock, held on a connection of its own, makes the others wait and then find
    nothing left to do (alembic's own run would otherwise race them into "already exists").
    """
    from alembic import command

    with psycopg.connect(database_url, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            command.upgrade(alembic_config(database_url), "head")
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


def current_revision(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    """The newest applied migration, or None when ``db init`` has not run."""
    row = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
    return str(found[0]) if found else None


def shipped_revisions() -> list[str]:
    """Every migration this code ships, oldest first (migration files are named by their
    revision id, numbered in order), read without importing alembic."""
    versions = Path(__file__).resolve().parent / "migrations" / "versions"
    return sorted(p.stem for p in versions.glob("[0-9]*.py"))


def newest_revision() -> str:
    """The newest migration this code ships: ``/readyz`` asks it on every probe."""
    return shipped_revisions()[-1]


SchemaState = Literal["missing", "behind", "current", "ahead", "unknown"]


def schema_state(revision: str | None) -> SchemaState:
    """How the database's migration ``revision`` stands to this code.

    ``ahead`` (a newer release has migrated; this node is not upgraded yet) is fine: migrations
    only expand for one release (docs/operations.md, "Writing migrations"), so the code before
    them still works; in a rolling upgrade every node not yet upgraded is in this state.
    ``behind`` needs ``webmap db upgrade``; ``unknown`` is a revision from no release of ours.
    """
    shipped = shipped_revisions()
    if revision is None:
        return "missing"
    if revision == shipped[-1]:
        return "current"
    if revision in shipped:
        return "behind"
    return "ahead" if revision > shipped[-1] else "unknown"
