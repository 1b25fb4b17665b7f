"""Storing addresses and municipalities, and rebuilding the street search tables.

Imports are set-based: rows are COPYed into a temporary table and placed (SWEREF 99 TM,
municipality, ids) by a handful of SQL statements, so a national register loads in minutes and a
benchmark can build a million rows with plain ``INSERT … SELECT``. Ids are derived from content
(municipality, town, street, number, letter, entrance), so re-importing a file updates rows in
place and result ids stay stable across reloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from layers.crs import WGS84, plausible_in_sweden, transformer
from layers.lookup.records import AddressRecord, ImportReport, Skipped
from layers.sources import read_features

Progress = Callable[[str, int, int], None]

#: An address this close (m) to a municipality's generalised border still belongs to it: the
#: 1:1 million polygons cut off piers and islets that real addresses stand on.
MUNICIPALITY_SNAP_M = 2000
_CHUNK = 10_000

# Ids: md5 of the content, 16 hex digits; the prefix tells the kind. Case and spacing do not
# make a new street, diacritics do: Malmö has both Törngatan and Torngatan.
STREET_UID_SQL = (
    "'s' || left(md5(coalesce(municipality_code, '') || '|' || coalesce(lower(city), '') "
    "|| '|' || lower(regexp_replace(btrim(street), '\\s+', ' ', 'g'))), 15)"
)
ADDRESS_UID_SQL = (
    "'a' || left(md5(street_uid || '|' || number || '|' || coalesce(letter, '') || '|' "
    "|| coalesce(upper(entrance), '')), 15)"
)


def lock_lookups(conn: psycopg.Connection[Any]) -> None:
    """Serialise writers of the lookup tables until the transaction ends.

    Imports rebuild the street and key tables as a whole; two at once would trip over each
    other's rows. Readers are not blocked (they see the old rows until commit).
    """
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('webmap:lookup-write'))")


def _chunks(items: Iterable[AddressRecord | Skipped]) -> Iterator[list[AddressRecord | Skipped]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk


def _stage_chunk(
    copy: psycopg.Copy, chunk: list[AddressRecord | Skipped], srid: int, report: ImportReport
) -> int:
    """COPY the usable rows of one chunk (as WGS 84); count the rest in ``report``."""
    records = [r for r in chunk if isinstance(r, AddressRecord)]
    for item in chunk:
        if isinstance(item, Skipped):
            report.skip(item.reason)
    if not records:
        return 0
    xs = np.array([r.x for r in records], dtype=float)
    ys = np.array([r.y for r in records], dtype=float)
    if srid != WGS84:
        xs, ys = transformer(srid, WGS84).transform(xs, ys)
    staged = 0
    for record, lon, lat in zip(records, xs.tolist(), ys.tolist(), strict=True):
        if not plausible_in_sweden(lon, lat):
            report.skip("coordinates outside Sweden (wrong --srid or swapped columns?)")
            continue
        if record.warning:
            report.warnings[record.warning] += 1
        n = record.number
        copy.write_row(
            (
                record.street,
                n.number,
                n.letter,
                n.entrance,
                record.postcode,
                record.city,
                record.district,
                record.source_id,
                lon,
                lat,
            )
        )
        staged += 1
    return staged


def import_addresses(
    conn: psycopg.Connection[Any],
    rows: Iterable[AddressRecord | Skipped],
    srid: int,
    source: str,
    progress: Progress | None = None,
    replace: bool = False,
    municipality: str | None = None,
) -> ImportReport:
    """Store addresses read in ``srid``; ``replace`` first removes earlier rows of ``source``.

    ``municipality`` (a code such as "1280") is for a municipality's own register: every row
    belongs to it, even where the generalised 1:1 million border says otherwise.
    """
    report = ImportReport()
    with conn.transaction():
        lock_lookups(conn)
        conn.execute(
            """
            CREATE TEMP TABLE address_stage (
                seq bigserial, street text, number integer, letter text, entrance text,
                postcode text, city text, district text, source_id text,
                lon double precision, lat double precision, geom geometry(Point, 3006),
                municipality_code text, street_uid text, uid text
            ) ON COMMIT DROP
            """
        )
        with conn.cursor().copy(
            "COPY address_stage (street, number, letter, entrance, postcode, city, district, "
            "source_id, lon, lat) FROM STDIN"
        ) as copy:
            for chunk in _chunks(rows):
                report.read += len(chunk)
                _stage_chunk(copy, chunk, srid, report)
                if progress:
                    progress("read", report.read, 0)
        _place_staged(conn, report, municipality)
        if replace:
            conn.execute("DELETE FROM lookup.addresses WHERE source = %s", [source])
        cur = conn.execute(
            """
            INSERT INTO lookup.addresses (uid, street, street_uid, number, letter, entrance,
                postcode, city, municipality_code, district, source, source_id, geom)
            SELECT uid, street, street_uid, number, letter, entrance, postcode, city,
                municipality_code, district, %s, source_id, geom
            FROM address_stage
            ON CONFLICT (uid) DO UPDATE SET postcode = EXCLUDED.postcode, city = EXCLUDED.city,
                district = EXCLUDED.district, source = EXCLUDED.source,
                source_id = EXCLUDED.source_id, geom = EXCLUDED.geom
            """,
            [source],
        )
        report.stored = cur.rowcount
        if progress:
            progress("streets", report.read, 0)
        rebuild_streets(conn)
    return report


def _place_staged(
    conn: psycopg.Connection[Any], report: ImportReport, municipality: str | None
) -> None:
    """SWEREF 99 TM, municipality, town fallback and ids for the staged rows; drop duplicates."""
    conn.execute(
        "UPDATE address_stage SET geom = ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
        "3006), letter = upper(letter), municipality_code = %s",
        [municipality],
    )
    conn.execute("CREATE INDEX ON address_stage USING gist (geom)")
    conn.execute("ANALYZE address_stage")
    conn.execute(
        "UPDATE address_stage s SET municipality_code = p.code FROM lookup.municipality_parts p "
        "WHERE s.municipality_code IS NULL AND ST_Intersects(p.geom, s.geom)"
    )
    conn.execute(
        """
        UPDATE address_stage s SET municipality_code = (
            SELECT p.code FROM lookup.municipality_parts p
            WHERE ST_DWithin(p.geom, s.geom, %s) ORDER BY p.geom <-> s.geom LIMIT 1)
        WHERE s.municipality_code IS NULL
        """,
        [MUNICIPALITY_SNAP_M],
    )
    loaded = conn.execute("SELECT EXISTS (SELECT 1 FROM lookup.municipalities)").fetchone()
    if loaded and loaded[0]:
        # Sweden's bounding box also holds Oslo, Copenhagen and the sea: the polygons decide.
        outside = conn.execute("DELETE FROM address_stage WHERE municipality_code IS NULL")
        report.skip("outside every Swedish municipality", outside.rowcount)
    else:
        report.notes.append("no municipalities loaded (webmap data load-sample): codes left empty")
    # The postal town defaults to the municipality's name (Malmö's register has no town column).
    conn.execute(
        "UPDATE address_stage s SET city = m.name FROM lookup.municipalities m "
        "WHERE s.city IS NULL AND m.code = s.municipality_code"
    )
    conn.execute(
        sql.SQL("UPDATE address_stage SET street_uid = {}").format(sql.SQL(STREET_UID_SQL))
    )
    conn.execute(sql.SQL("UPDATE address_stage SET uid = {}").format(sql.SQL(ADDRESS_UID_SQL)))
    duplicates = conn.execute(
        "DELETE FROM address_stage s USING address_stage t WHERE s.uid = t.uid AND s.seq > t.seq"
    ).rowcount
    report.skip("duplicate of an earlier row (same street, number, letter, entrance)", duplicates)


def rebuild_streets(conn: psycopg.Connection[Any], addresses: str = "addresses") -> int:
    """Recompute streets (one per municipality, town and name) and their search keys.

    ``addresses`` names the table in schema ``lookup`` to build them from: a full register load
    builds the streets from its new table before swapping it in (layers/registers/lm_full_load.py).

    Keys also hold the spellings people type for "S:t": "st johannesgatan" and
    "sankt johannesgatan" find S:t Johannesgatan (and "s:t …" finds a "Sankt …" street).

    A street's point is the address nearest the middle of its addresses: a real place on the
    street, where a centroid of a curved street could fall in a park.
    """
    conn.execute("DELETE FROM lookup.street_keys")
    conn.execute("DELETE FROM lookup.street_names")
    conn.execute("DELETE FROM lookup.streets")
    count = conn.execute(
        sql.SQL(
            """
            INSERT INTO lookup.streets (uid, name, city, municipality_code, municipality_name,
                postcodes, address_count, geom)
            SELECT a.street_uid, min(a.street), min(a.city), a.municipality_code, min(m.name),
                coalesce(array_agg(DISTINCT a.postcode) FILTER (WHERE a.postcode IS NOT NULL),
                    '{{}}'),
                count(*), ST_ClosestPoint(ST_Collect(a.geom), ST_Centroid(ST_Collect(a.geom)))
            FROM {} a
            LEFT JOIN lookup.municipalities m ON m.code = a.municipality_code
            GROUP BY a.street_uid, a.municipality_code
            """
        ).format(sql.Identifier("lookup", addresses))
    ).rowcount
    conn.execute(
        """
        INSERT INTO lookup.street_keys (key, street_uid, word_start, name_lower, address_count,
            municipality_code, e, n)
        SELECT DISTINCT substr(v.name, g.i), s.uid, g.i = 1, lower(s.name), s.address_count,
            s.municipality_code, ST_X(s.geom), ST_Y(s.geom)
        FROM lookup.streets s
        CROSS JOIN LATERAL unnest(ARRAY[s.name_fold,
            regexp_replace(s.name_fold, '(^| )s:t ', '\\1st ', 'g'),
            regexp_replace(s.name_fold, '(^| )s:t ', '\\1sankt ', 'g'),
            regexp_replace(s.name_fold, '(^| )sankt ', '\\1s:t ', 'g')]) AS v(name)
        CROSS JOIN LATERAL generate_series(1, length(v.name)) AS g(i)
        WHERE g.i = 1 OR (substr(v.name, g.i - 1, 1) IN (' ', '-', '/')
            AND substr(v.name, g.i, 1) ~ '[[:alnum:]]')
        """
    )
    conn.execute(
        "INSERT INTO lookup.street_names (name_fold) SELECT DISTINCT name_fold FROM lookup.streets"
    )
    conn.execute("ANALYZE lookup.streets")
    conn.execute("ANALYZE lookup.street_keys")
    conn.execute("ANALYZE lookup.street_names")
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("lookup", addresses)))
    return count


def load_municipalities(conn: psycopg.Connection[Any], path: Path) -> int:
    """Municipality polygons from Lantmäteriet's ``ak_riks`` (KOM_KOD, KOMMUNNAMN, LAN_KOD)."""
    with conn.transaction():
        lock_lookups(conn)
        conn.execute(
            "CREATE TEMP TABLE municipality_stage (code text, name text, county text, "
            "wkb bytea) ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY municipality_stage FROM STDIN") as copy:
            for feature in read_features(path, None, "ISO-8859-1"):
                a = feature.attributes
                code = str(a.get("KOM_KOD") or "").zfill(4)
                copy.write_row((code, a.get("KOMMUNNAMN"), a.get("LAN_KOD"), feature.wkb))
        conn.execute("DELETE FROM lookup.municipalities")
        count = conn.execute(
            """
            INSERT INTO lookup.municipalities (code, name, county_code, geom)
            SELECT code, min(name), min(county),
                ST_Multi(ST_CollectionExtract(ST_Union(
                    ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(wkb), 3006))), 3))
            FROM municipality_stage GROUP BY code
            """
        ).rowcount
        conn.execute(
            "INSERT INTO lookup.municipality_parts (code, geom) "
            "SELECT code, ST_Subdivide(geom, 256) FROM lookup.municipalities"
        )
        conn.execute("ANALYZE lookup.municipalities")
        conn.execute("ANALYZE lookup.municipality_parts")
    return count
