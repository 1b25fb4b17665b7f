"""Checks of the database: reachable, PostgreSQL and PostGIS new enough, extensions created,
migrations current (or newer, during a rolling upgrade)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from layers.schema import current_revision, newest_revision, schema_state
from webmap.setup_checks.findings import Deployment, Finding, ok

MIN_POSTGRES = 130000  # PostgreSQL 13 (README, "An existing PostgreSQL")
MIN_POSTGIS = (3, 0)
EXTENSIONS = ("postgis", "pg_trgm", "unaccent")  # created by migrations 0001 and 0002


def database(d: Deployment) -> Iterator[Finding]:
    """Reachable, PostgreSQL and PostGIS new enough, extensions and migrations in place."""
    url = d.settings.database_url
    where = _where(url)
    try:
        conn = psycopg.connect(url, connect_timeout=max(2, d.settings.db_connect_timeout))
    except psycopg.Error as exc:
        yield Finding(
            "database",
            "error",
            f"cannot connect to {where}: {str(exc).strip()}",
            "Check WEBMAP_DATABASE_URL (host, port, user, password, database) and that "
            "PostgreSQL accepts connections from this host (pg_hba.conf); `webmap db init` "
            "creates a missing database.",
        )
        return
    yield ok("database", f"connected to {where}")
    with conn:
        yield from (check(conn) for check in (_postgres, _postgis, _migrations))


def _where(url: str) -> str:
    params = conninfo_to_dict(url)
    return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname')}"


def _postgres(conn: psycopg.Connection[Any]) -> Finding:
    number = int(_value(conn, "SHOW server_version_num"))
    version = str(_value(conn, "SHOW server_version")).split()[0]
    if number < MIN_POSTGRES:
        return Finding("postgresql", "error", f"PostgreSQL {version} is too old.",
                       "Use PostgreSQL 13 or newer.")  # fmt: skip
    return ok("postgresql", f"PostgreSQL {version}")


def _postgis(conn: psycopg.Connection[Any]) -> Finding:
    rows = conn.execute(
        "SELECT name, installed_version, default_version FROM pg_available_extensions "
        "WHERE name = ANY(%s)",
        [list(EXTENSIONS)],
    ).fetchall()
    available = {name: (installed, default) for name, installed, default in rows}
    missing = [name for name in EXTENSIONS if name not in available]
    if missing:
        return Finding(
            "postgis",
            "error",
            f"the server lacks the extension(s) {', '.join(missing)}.",
            "Install them on the database server: apt-get install postgresql-<version>-postgis-3 "
            "(pg_trgm and unaccent come with PostgreSQL's contrib).",
        )
    installed, default = available["postgis"]
    version = installed or default
    if tuple(int(part) for part in re.findall(r"\d+", version)[:2]) < MIN_POSTGIS:
        return Finding("postgis", "error", f"PostGIS {version} is too old.",
                       "Upgrade to PostGIS 3 (ALTER EXTENSION postgis UPDATE).")  # fmt: skip
    absent = [name for name in EXTENSIONS if not available[name][0]]
    if absent:
        return Finding(
            "postgis",
            "error",
            f"extension(s) {', '.join(absent)} not created in this database.",
            "Run `webmap db upgrade` (it creates them; needs a role allowed to).",
        )
    return ok("postgis", f"PostGIS {version}; {', '.join(EXTENSIONS)} created")


def _migrations(conn: psycopg.Connection[Any]) -> Finding:
    revision = current_revision(conn)
    state = schema_state(revision)
    wanted = newest_revision()
    if state == "current":
        return ok("migrations", f"schema at {wanted}, the newest this code ships")
    if state == "ahead":
        return Finding(
            "migrations",
            "warning",
            f"the schema is at {revision}, newer than this code ({wanted}): a newer release "
            "has migrated. This node keeps working (migrations expand only) but is behind.",
            "Upgrade this node's package (docs/operations.md, Upgrading node by node).",
        )
    return Finding(
        "migrations",
        "error",
        f"the schema is at {revision or 'nothing (never migrated)'}; this code needs {wanted}"
        + (" (a revision no release of webmap has)" if state == "unknown" else "")
        + ".",
        "Run `webmap db upgrade` (safe from several nodes at once).",
    )


def _value(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()
    return row[0] if row else None
