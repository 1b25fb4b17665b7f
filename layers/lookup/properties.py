"""Property units (fastigheter): designations, import, and their search keys.

A designation is municipality + trakt or kvarter + block[:unit]: "Sundsvall Skönsberg 1:23" (a
trakt with block 1, unit 23) or "Stockholm Rosenbad 2" (a kvarter with number 2, no unit).
Sweden's cadastre is not open data, so every row records whether it is ``fictional``; the API
says so in every label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from layers.lookup.normalize import clean_spaces
from layers.lookup.records import ImportReport, PropertyRecord, Skipped
from layers.lookup.store import lock_lookups

_DESIGNATION = re.compile(r"^(?P<head>.*[^\W\d_])\s+(?P<block>\d{1,5})(?::(?P<unit>\d{1,5}))?$")
FICTIONAL_SUFFIX_SV = " (fiktiv)"


@dataclass(frozen=True)
class Designation:
    """The parts of a designation; ``head`` may still start with the municipality's name."""

    head: str
    block: int
    unit: int | None

    @property
    def number(self) -> str:
        """The number part: "1:23" or "2"."""
        return f"{self.block}:{self.unit}" if self.unit is not None else str(self.block)


def parse_designation(text: str) -> Designation | None:
    """Split "Sundsvall Skönsberg 1:23" into head "Sundsvall Skönsberg", block 1, unit 23."""
    match = _DESIGNATION.match(clean_spaces(text))
    if not match or not match.group("head").strip():
        return None
    unit = match.group("unit")
    return Designation(
        match.group("head").strip(), int(match.group("block")), int(unit) if unit else None
    )


def property_label(designation: str, fictional: bool) -> str:
    """The designation as shown, marked "(fiktiv)" when it does not exist in the cadastre."""
    return designation + (FICTIONAL_SUFFIX_SV if fictional else "")


def import_properties(
    conn: psycopg.Connection[Any],
    rows: Iterable[PropertyRecord | Skipped],
    srid: int,
    source: str,
    fictional: bool,
    replace: bool = True,
) -> ImportReport:
    """Store property polygons read in ``srid``; the municipality comes from where they lie."""
    report = ImportReport()
    with conn.transaction():
        lock_lookups(conn)
        conn.execute(
            "CREATE TEMP TABLE property_stage (seq bigserial, head text, block integer, "
            "unit integer, wkb bytea, geom geometry, municipality_code text, "
            "municipality_name text) ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY property_stage (head, block, unit, wkb) FROM STDIN") as copy:
            for item in rows:
                report.read += 1
                if isinstance(item, Skipped):
                    report.skip(item.reason)
                    continue
                parsed = parse_designation(item.designation)
                if parsed is None:
                    report.skip("designation not understood (expected e.g. 'Skönsberg 1:23')")
                    continue
                copy.write_row((parsed.head, parsed.block, parsed.unit, item.wkb))
        conn.execute(
            "UPDATE property_stage SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid("
            "ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), %s), 3006)), 3))",
            [srid],
        )
        report.skip(
            "empty or invalid polygon",
            conn.execute("DELETE FROM property_stage WHERE ST_IsEmpty(geom)").rowcount,
        )
        conn.execute(
            """
            UPDATE property_stage s SET municipality_code = m.code, municipality_name = m.name
            FROM lookup.municipality_parts p JOIN lookup.municipalities m USING (code)
            WHERE ST_Intersects(p.geom, ST_PointOnSurface(s.geom))
            """
        )
        # "Stockholm Rosen 2" and "Rosen 2" name the same unit: keep the district without
        # the municipality's name, and always show the designation with it.
        conn.execute(
            """
            UPDATE property_stage SET head = substr(head, length(municipality_name) + 2)
            WHERE municipality_name IS NOT NULL
              AND lookup.fold(head) LIKE lookup.fold(municipality_name) || ' %'
            """
        )
        if replace:
            conn.execute("DELETE FROM lookup.properties WHERE source = %s", [source])
        cur = conn.execute(
            """
            INSERT INTO lookup.properties (uid, designation, municipality_code, municipality_name,
                district, block, unit, fictional, source, geom, point)
            SELECT DISTINCT ON (d.designation)
                'p' || left(md5(lookup.fold(d.designation)), 15), d.designation,
                s.municipality_code, s.municipality_name, s.head, s.block, s.unit, %s, %s,
                s.geom, ST_PointOnSurface(s.geom)
            FROM property_stage s, LATERAL (SELECT concat_ws(' ', s.municipality_name, s.head,
                s.block::text || coalesce(':' || s.unit, '')) AS designation) d
            ORDER BY d.designation, s.seq
            ON CONFLICT (uid) DO UPDATE SET geom = EXCLUDED.geom, point = EXCLUDED.point,
                fictional = EXCLUDED.fictional, source = EXCLUDED.source
            """,
            [fictional, source],
        )
        report.stored = cur.rowcount
        staged = conn.execute("SELECT count(*) FROM property_stage").fetchone()
        report.skip("duplicate designation", (int(staged[0]) if staged else 0) - report.stored)
        rebuild_property_keys(conn)
    return report


def rebuild_property_keys(conn: psycopg.Connection[Any]) -> None:
    """Every word-start suffix of each designation ("stockholm fiktiva rosen 2", "rosen 2" …)."""
    conn.execute("DELETE FROM lookup.property_keys")
    conn.execute(
        """
        INSERT INTO lookup.property_keys (key, property_id, word_start)
        SELECT substr(p.designation_fold, g.i), p.id, g.i = 1
        FROM lookup.properties p, generate_series(1, length(p.designation_fold)) AS g(i)
        WHERE g.i = 1 OR (substr(p.designation_fold, g.i - 1, 1) IN (' ', '-')
            AND substr(p.designation_fold, g.i, 1) ~ '[[:alpha:]]')
        """
    )
    conn.execute("ANALYZE lookup.properties")
    conn.execute("ANALYZE lookup.property_keys")
