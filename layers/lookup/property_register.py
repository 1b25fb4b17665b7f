"""Loading Lantmäteriet's property register: stream the areas in, build beside, swap at once.

A national file has over four million areas. Rewriting ``lookup.properties`` row by row would
keep search busy with a half-loaded table for minutes and bloat it, so the import builds new
tables beside the served ones and swaps them in:

1. the areas are COPYed into a temporary table (rows stream; memory stays flat);
2. the areas of each register unit (same ``registerenhetsreferens``) become ONE row: its
   designation, the union of its polygons, a point inside it; an area delivered twice (units on
   a municipality border come with both municipalities' files) counts once;
3. ``properties_next`` gets those units plus the rows of other sources that are kept (the
   sample's fictional register, other files' units), then its indexes; the designation heads and
   their search keys are built from it the same way;
4. the three served tables are dropped and the new ones take their names, with their indexes'
   and constraints' names.

All of it is ONE transaction: until it commits, every reader sees the old tables (PostgreSQL
MVCC; the swap's exclusive lock lasts only for the renames at the end), and an import that fails
or is killed at any step leaves nothing behind. Writers are serialised by
:func:`~layers.lookup.store.lock_lookups`.

Rows are replaced by ``source`` (default: the file name), so a group of municipalities can load
one file each; a unit in two files keeps the newer file's row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from layers.lookup.fastighetsindelning import RegisterArea, designation, display_name
from layers.lookup.properties import HEAD_KEYS_SQL, HEADS_SQL, LANTMATERIET_ATTRIBUTION
from layers.lookup.records import ImportReport
from layers.lookup.store import lock_lookups

Progress = Callable[[str, int, int], None]

#: The temporary table the areas are staged in (a benchmark may fill it itself).
STAGE = "register_area_stage"
STAGE_DDL = f"""
    CREATE TEMP TABLE {STAGE} (
        area_id text, register_id text NOT NULL, municipality_code text,
        designation text NOT NULL, district text NOT NULL, block integer, unit integer,
        wkb bytea, geom geometry
    ) ON COMMIT DROP
"""
_PROGRESS_EVERY = 50_000
#: How long one attempt at the swap's lock may make readers wait, and how long to keep trying.
SWAP_LOCK_TIMEOUT = "200ms"
SWAP_WAIT_S = 600.0

# (served table, indexes and constraints it must end up with, as "next" name → final name)
_SWAP: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], ...] = (
    (
        "properties",
        (("properties_next_geom_idx", "properties_geom_idx"),
         ("properties_next_head_idx", "properties_head_idx")),
        (("properties_next_pkey", "properties_pkey"),
         ("properties_next_uid_key", "properties_uid_key")),
    ),
    (
        "property_heads",
        (("property_heads_next_trgm_idx", "property_heads_trgm_idx"),),
        (("property_heads_next_pkey", "property_heads_pkey"),),
    ),
    (
        "property_head_keys",
        (("property_head_keys_next_key_idx", "property_head_keys_key_idx"),),
        (),
    ),
)  # fmt: skip


def _split(area: RegisterArea) -> tuple[int | None, int | None]:
    """(block, unit) as stored: a kvarter's number is its block; a samfällighet has no block."""
    if not area.block:
        return area.unit, None
    if area.block.isdigit():
        return int(area.block), area.unit
    return None, area.unit


def stage_areas(
    conn: psycopg.Connection[Any],
    rows: Iterable[RegisterArea | str],
    report: ImportReport,
    progress: Progress | None = None,
    total: int = 0,
) -> None:
    """COPY the usable areas into the stage table; count the others (by reason) in ``report``."""
    conn.execute(STAGE_DDL)
    with conn.cursor().copy(
        f"COPY {STAGE} (area_id, register_id, municipality_code, designation, district, "
        "block, unit, wkb) FROM STDIN"
    ) as copy:
        for item in rows:
            report.read += 1
            if progress and report.read % _PROGRESS_EVERY == 0:
                progress("read", report.read, total)
            if isinstance(item, str):
                report.skip(item)
                continue
            block, unit = _split(item)
            copy.write_row(
                (
                    item.area_id,
                    item.register_id,
                    item.municipality_code,
                    designation(item.register_area, item.district, item.block, item.unit),
                    display_name(item.district),
                    block,
                    unit,
                    item.wkb,
                )
            )
    if progress:
        progress("read", report.read, total)


def import_register(
    conn: psycopg.Connection[Any],
    rows: Iterable[RegisterArea | str],
    srid: int,
    source: str,
    progress: Progress | None = None,
    total: int = 0,
) -> ImportReport:
    """Replace the units of ``source`` with those in ``rows`` (areas in ``srid``), atomically."""
    report = ImportReport()
    with conn.transaction():
        lock_lookups(conn)
        stage_areas(conn, rows, report, progress, total)
        swap_in(conn, srid, source, report, progress)
    return report


def swap_in(
    conn: psycopg.Connection[Any],
    srid: int,
    source: str,
    report: ImportReport,
    progress: Progress | None = None,
) -> None:
    """Build the served tables anew from the stage table and swap them in (see the module).

    Must run inside the caller's transaction, after :func:`lock_lookups`; the stage table's
    ``wkb`` is in ``srid`` (or ``geom`` is already SWEREF 99 TM when ``wkb`` is NULL).
    """

    def step(name: str) -> None:
        if progress:
            progress(name, report.read, 0)

    step("geometry")
    conn.execute(
        """
        CREATE TEMP TABLE register_area_geom ON COMMIT DROP AS
        SELECT DISTINCT ON (coalesce(area_id, row_key)) register_id, municipality_code,
            designation, district, block, unit,
            CASE WHEN ST_IsValid(g) THEN g ELSE ST_CollectionExtract(ST_MakeValid(g), 3) END AS g
        FROM (SELECT s.*, s.ctid::text AS row_key, coalesce(s.geom, CASE WHEN %(srid)s = 3006
                  THEN ST_SetSRID(ST_GeomFromWKB(s.wkb), 3006)
                  ELSE ST_Transform(ST_SetSRID(ST_GeomFromWKB(s.wkb), %(srid)s), 3006) END) AS g
              FROM register_area_stage s) s
        ORDER BY coalesce(area_id, row_key)
        """,
        {"srid": srid},
    )
    areas = conn.execute("SELECT count(*) FROM register_area_geom").fetchone()
    duplicates = report.read - sum(report.skipped.values()) - int(areas[0] if areas else 0)
    report.skip("area delivered twice (same objektidentitet)", max(duplicates, 0))
    step("units")
    conn.execute("DROP TABLE IF EXISTS lookup.properties_next")
    conn.execute("DROP TABLE IF EXISTS lookup.property_heads_next")
    conn.execute("DROP TABLE IF EXISTS lookup.property_head_keys_next")
    conn.execute(
        "CREATE TABLE lookup.properties_next "
        "(LIKE lookup.properties INCLUDING DEFAULTS INCLUDING GENERATED)"
    )
    stored = conn.execute(
        """
        INSERT INTO lookup.properties_next (uid, designation, municipality_code,
            municipality_name, district, block, unit, fictional, source, geom, point,
            register_id, attribution)
        SELECT 'p' || left(md5(u.register_id), 15), u.designation, u.code, m.name, u.district,
            u.block, u.unit, false, %(source)s, u.geom, ST_PointOnSurface(u.geom), u.register_id,
            %(attribution)s
        FROM (
            SELECT register_id, min(designation) AS designation, min(municipality_code) AS code,
                min(district) AS district, min(block) AS block, min(unit) AS unit,
                ST_Multi(CASE WHEN count(*) = 1 THEN (array_agg(g))[1]
                              ELSE ST_UnaryUnion(ST_Collect(g)) END) AS geom
            FROM register_area_geom
            WHERE NOT ST_IsEmpty(g) AND ST_Dimension(g) = 2
            GROUP BY register_id
        ) u
        LEFT JOIN lookup.municipalities m ON m.code = u.code
        WHERE NOT ST_IsEmpty(u.geom)
        """,
        {"source": source, "attribution": LANTMATERIET_ATTRIBUTION},
    ).rowcount
    report.stored = stored
    multi = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM register_area_geom GROUP BY register_id "
        "HAVING count(*) > 1) m"
    ).fetchone()
    if multi and multi[0]:
        report.notes.append(f"{multi[0]} units have several areas: each is one row")
    conn.execute(
        "ALTER TABLE lookup.properties_next ADD CONSTRAINT properties_next_pkey PRIMARY KEY (id), "
        "ADD CONSTRAINT properties_next_uid_key UNIQUE (uid)"
    )
    kept = conn.execute(
        """
        INSERT INTO lookup.properties_next (id, uid, designation, municipality_code,
            municipality_name, district, block, unit, fictional, source, geom, point,
            register_id, attribution)
        SELECT id, uid, designation, municipality_code, municipality_name, district, block,
            unit, fictional, source, geom, point, register_id, attribution
        FROM lookup.properties WHERE source <> %s
        ON CONFLICT (uid) DO NOTHING
        """,
        [source],
    ).rowcount
    if kept:
        report.notes.append(f"kept {kept} units of other sources")
    step("indexes")
    conn.execute(
        "CREATE INDEX properties_next_geom_idx ON lookup.properties_next USING gist (geom)"
    )
    conn.execute(
        "CREATE INDEX properties_next_head_idx ON lookup.properties_next (head_fold, block, unit)"
    )
    step("search keys")
    conn.execute("CREATE TABLE lookup.property_heads_next (head_fold text, municipality_code text)")
    conn.execute(
        HEADS_SQL.format(heads="lookup.property_heads_next", table="lookup.properties_next")
    )
    conn.execute(
        "ALTER TABLE lookup.property_heads_next "
        "ADD CONSTRAINT property_heads_next_pkey PRIMARY KEY (head_fold)"
    )
    conn.execute(
        "CREATE INDEX property_heads_next_trgm_idx ON lookup.property_heads_next "
        "USING gist (head_fold gist_trgm_ops)"
    )
    conn.execute(
        "CREATE TABLE lookup.property_head_keys_next (key text NOT NULL, head_fold text NOT NULL,"
        " word_start boolean NOT NULL, municipality_code text)"
    )
    conn.execute(
        HEAD_KEYS_SQL.format(
            keys="lookup.property_head_keys_next", heads="lookup.property_heads_next"
        )
    )
    conn.execute(
        "CREATE INDEX property_head_keys_next_key_idx ON lookup.property_head_keys_next "
        "(key text_pattern_ops) INCLUDE (head_fold, word_start, municipality_code)"
    )
    for table in ("properties_next", "property_heads_next", "property_head_keys_next"):
        conn.execute(f"ANALYZE lookup.{table}")
    step("swap")
    _swap(conn)


def _lock_served(conn: psycopg.Connection[Any]) -> None:
    """Take the served tables for the swap without making searches queue behind us.

    A lock request waits in line, and every later reader waits behind it; so each attempt
    gives up after ``SWAP_LOCK_TIMEOUT`` (readers wait that long at most) and the next comes
    after a pause in which they run freely, until ``SWAP_WAIT_S`` have passed.
    """
    deadline = time.monotonic() + SWAP_WAIT_S
    while True:
        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                conn.execute(
                    "LOCK TABLE lookup.properties, lookup.property_heads, "
                    "lookup.property_head_keys IN ACCESS EXCLUSIVE MODE"
                )
                conn.execute("SET LOCAL lock_timeout = 0")
            return
        except psycopg.errors.LockNotAvailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _swap(conn: psycopg.Connection[Any]) -> None:
    """Drop the served tables and give the new ones their names (inside the transaction)."""
    _lock_served(conn)
    # The id sequence belongs to the served table: keep it (ids stay unique across swaps).
    conn.execute("ALTER SEQUENCE lookup.properties_id_seq OWNED BY NONE")
    conn.execute("DROP TABLE lookup.property_head_keys, lookup.property_heads, lookup.properties")
    for table, indexes, constraints in _SWAP:
        conn.execute(f"ALTER TABLE lookup.{table}_next RENAME TO {table}")
        for old, new in constraints:
            conn.execute(f"ALTER TABLE lookup.{table} RENAME CONSTRAINT {old} TO {new}")
        for old, new in indexes:
            conn.execute(f"ALTER INDEX lookup.{old} RENAME TO {new}")
    conn.execute("ALTER SEQUENCE lookup.properties_id_seq OWNED BY lookup.properties.id")
