"""Managing a layer's versions: numbering, the per-layer lock, listing, delete, orphan clean-up.

Callers change layers through :mod:`layers.publishing`, which composes these.

All writers of one layer take the same transaction-scoped advisory lock (:func:`lock_layer`, the
key :mod:`layers.sample` uses too), so two uploads, or an upload and a rollback, are serialised
instead of racing for the pointer. The lock is released with the transaction, also when the
process dies, because PostgreSQL ends the session.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from layers.errors import InvalidInput, LayerNotFound
from layers.schema import DATA_SCHEMA
from layers.store import LayerSpec, check_layer_name, check_publishable, next_version


class LayerBusy(InvalidInput):
    """Another upload or rollback of the layer is running and did not finish in time."""


def lock_layer(conn: psycopg.Connection[Any], name: str) -> None:
    """Wait for, then hold until commit, the write lock of layer ``name``.

    Raises :class:`LayerBusy` when the connection's statement timeout ends the wait (a quick
    rollback or delete should not hang behind a long upload).
    """
    try:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"layer:{name}"])
    except psycopg.errors.QueryCanceled as exc:
        raise LayerBusy(
            f"The layer {name!r} is being changed by another upload; try again when it is done."
        ) from exc


def allocate_version(conn: psycopg.Connection[Any], name: str) -> int:
    """The next version number, never reusing one of a deleted layer of the same name.

    Tile URLs carry the version and are cached as immutable, so a re-created layer must not
    start again at a number some cache still holds tiles for.
    """
    row = conn.execute(
        "SELECT last_version FROM webmap.layer_tombstones WHERE name = %s", [name]
    ).fetchone()
    retired = int(row[0]) if row else 0
    return max(next_version(conn, name), retired + 1)


def begin_version(conn: psycopg.Connection[Any], spec: LayerSpec, kind: str) -> int:
    """Inside the caller's transaction: take the layer's lock, check that a ``kind`` version of
    ``spec`` may be published (:func:`~layers.store.check_publishable`), allocate its number.

    Every writer of a new version (upload, raster, sample) starts here, so none can skip the
    lock or reuse a number.
    """
    lock_layer(conn, spec.name)
    check_publishable(conn, spec, kind)
    return allocate_version(conn, spec.name)


_LAYER_SQL = """
SELECT l.name, l.title, l.description, l.kind, l.geometry_type, l.version, l.public,
       l.attribution, l.minzoom, l.maxzoom, l.created_at, l.updated_at, l.municipality,
       v.feature_count, v.fields,
       ARRAY[ST_XMin(v.bounds), ST_YMin(v.bounds), ST_XMax(v.bounds), ST_YMax(v.bounds)]
           AS bounds
FROM webmap.layers l
LEFT JOIN webmap.layer_versions v ON v.layer_name = l.name AND v.version = l.version
"""


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if out.get("bounds") and out["bounds"][0] is None:
        out["bounds"] = None
    for key in ("created_at", "updated_at"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    return out


def list_layers(
    conn: psycopg.Connection[Any],
    readable: frozenset[str] | None = None,
    municipality: str | None = None,
) -> list[dict[str, Any]]:
    """Every layer with its live version's summary (private layers included: staff only).

    ``readable``: the municipalities whose private layers the caller reads (None: all; public
    layers are always listed); ``municipality``: only that municipality's layers ("instance":
    only instance-wide ones)."""
    where: list[str] = []
    params: list[Any] = []
    if readable is not None:
        where.append("(l.public OR l.municipality = ANY(%s))")
        params.append(list(readable))
    if municipality == "instance":
        where.append("l.municipality IS NULL")
    elif municipality is not None:
        where.append("l.municipality = %s")
        params.append(municipality)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_LAYER_SQL + clause + " ORDER BY l.name", params).fetchall()
    return [_clean(r) for r in rows]


def layer_detail(conn: psycopg.Connection[Any], name: str) -> dict[str, Any]:
    """One layer with all stored versions and the live version's ingest report."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_LAYER_SQL + " WHERE l.name = %s", [name]).fetchone()
        if row is None:
            raise LayerNotFound(f"There is no layer named {name!r}.")
        versions = cur.execute(
            """
            SELECT version, feature_count, created_at, report,
                   ARRAY[ST_XMin(bounds), ST_YMin(bounds), ST_XMax(bounds), ST_YMax(bounds)]
                       AS bounds
            FROM webmap.layer_versions WHERE layer_name = %s ORDER BY version DESC
            """,
            [name],
        ).fetchall()
    detail = _clean(row)
    detail["versions"] = [{**_clean(v), "live": v["version"] == row["version"]} for v in versions]
    live = [v for v in versions if v["version"] == row["version"]]
    detail["report"] = live[0]["report"] if live else None
    return detail


def delete_layer(conn: psycopg.Connection[Any], name: str) -> list[int]:
    """Delete a layer with every stored version; returns the versions that were dropped."""
    check_layer_name(name)
    with conn.transaction():
        lock_layer(conn, name)
        rows = conn.execute(
            "SELECT version, table_name FROM webmap.layer_versions WHERE layer_name = %s",
            [name],
        ).fetchall()
        deleted = conn.execute("DELETE FROM webmap.layers WHERE name = %s", [name]).rowcount
        if not deleted:
            raise LayerNotFound(f"There is no layer named {name!r}.")
        for _version, table in rows:
            if _VERSION_TABLE.fullmatch(str(table)):
                conn.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(DATA_SCHEMA, table))
                )
        conn.execute("DELETE FROM webmap.layer_versions WHERE layer_name = %s", [name])
        last = max((int(r[0]) for r in rows), default=0)
        conn.execute(
            """
            INSERT INTO webmap.layer_tombstones (name, last_version) VALUES (%s, %s)
            ON CONFLICT (name) DO UPDATE SET
                last_version = greatest(
                    webmap.layer_tombstones.last_version, EXCLUDED.last_version
                ),
                deleted_at = now()
            """,
            [name, last],
        )
    return sorted(int(r[0]) for r in rows)


_VERSION_TABLE = re.compile(r"[a-z][a-z0-9_]{0,47}_v[0-9]+")


def drop_orphans(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop version tables of known layers that no catalog row points at.

    A build runs in one transaction, so a killed upload leaves nothing behind; this sweeps up
    after anything else (a manual experiment, a crash between statements in older code). Tables
    that do not look like ``<known layer>_v<n>`` are never touched: other features keep their
    own tables in the data schema.
    """
    rows = conn.execute(
        """
        SELECT t.tablename FROM pg_tables t
        WHERE t.schemaname = %s
          AND NOT EXISTS (SELECT 1 FROM webmap.layer_versions v WHERE v.table_name = t.tablename)
        """,
        [DATA_SCHEMA],
    ).fetchall()
    known = {
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM webmap.layers UNION SELECT name FROM webmap.layer_tombstones"
        ).fetchall()
    }
    dropped = []
    for (table,) in rows:
        base, _, number = str(table).rpartition("_v")
        if base in known and number.isdigit() and _VERSION_TABLE.fullmatch(str(table)):
            conn.execute(
                sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(DATA_SCHEMA, table))
            )
            dropped.append(str(table))
    return dropped
