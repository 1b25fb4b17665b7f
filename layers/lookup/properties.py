"""Property units (fastigheter): designations, import, and their search keys.

A designation is municipality + trakt or kvarter + block[:unit]: "Sundsvall Skönsberg 1:23" (a
trakt with block 1, unit 23) or "Stockholm Rosenbad 2" (a kvarter with number 2, no unit). The
part before the number is its *head* ("Sundsvall Skönsberg"); search finds heads first and then
their units in natural order (migration 0009). Lantmäteriet's register is loaded by
:mod:`layers.lookup.property_register`; this module handles any other polygon file and the
sample's invented register, whose rows are ``fictional`` and say so in every label.
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
#: What every answer built from Lantmäteriet's open property register must say.
LANTMATERIET_ATTRIBUTION = "© Lantmäteriet (CC BY 4.0)"
# What a citizen types for a property: a head, then perhaps the start of a number
# ("skönsberg 1:1", "rosenbad 2", "berga s:", "skönsberg 1:").
_TYPED_NUMBER = re.compile(
    r"^(?P<head>.*\S)\s+(?P<number>\d{1,5}(?::\d{0,5})?|s:\d{0,5})$", re.IGNORECASE
)


@dataclass(frozen=True)
class PropertyQuery:
    """Typed text read as a designation: head text, and the number's start if one was typed."""

    head: str
    number: str | None = None

    @property
    def block(self) -> int | None:
        """The block when it was typed whole ("1:…"), so only that block is read."""
        if self.number is None or ":" not in self.number or self.number[0] in "sS":
            return None
        return int(self.number.split(":", 1)[0])

    @property
    def block_min(self) -> int | None:
        """The least block a number typed without its colon can be ("5" → 5, 50 …)."""
        if self.number is None or self.samfallighet:
            return None
        return int(self.number.split(":", 1)[0])

    @property
    def samfallighet(self) -> bool:
        """True for "s:…", a samfällighet's number (its block is a letter)."""
        return self.number is not None and self.number[:2].lower() == "s:"


def parse_property_query(text: str) -> PropertyQuery:
    """Split "skönsberg 1:1" into head "skönsberg" and number "1:1" (a prefix of 1:1, 1:12 …)."""
    cleaned = clean_spaces(text)
    match = _TYPED_NUMBER.match(cleaned)
    if match and any(ch.isalpha() for ch in match.group("head")):
        return PropertyQuery(match.group("head"), match.group("number").lower())
    return PropertyQuery(cleaned)


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
        rebuild_property_heads(conn)
    return report


#: Distinct heads of ``{table}`` (a properties table), one municipality each.
HEADS_SQL = """
    INSERT INTO {heads} (head_fold, municipality_code)
    SELECT head_fold, min(municipality_code) FROM {table} GROUP BY head_fold
"""
#: Every word-start suffix of each head ("sundsvall skonsberg", "skonsberg").
HEAD_KEYS_SQL = """
    INSERT INTO {keys} (key, head_fold, word_start, municipality_code)
    SELECT substr(h.head_fold, g.i), h.head_fold, g.i = 1, h.municipality_code
    FROM {heads} h, generate_series(1, length(h.head_fold)) AS g(i)
    WHERE g.i = 1 OR (substr(h.head_fold, g.i - 1, 1) IN (' ', '-')
        AND substr(h.head_fold, g.i, 1) ~ '[[:alpha:]]')
"""


def rebuild_property_heads(conn: psycopg.Connection[Any]) -> None:
    """Recompute the heads and their search keys from ``lookup.properties`` (in place)."""
    conn.execute("DELETE FROM lookup.property_head_keys")
    conn.execute("DELETE FROM lookup.property_heads")
    conn.execute(HEADS_SQL.format(heads="lookup.property_heads", table="lookup.properties"))
    conn.execute(
        HEAD_KEYS_SQL.format(keys="lookup.property_head_keys", heads="lookup.property_heads")
    )
    conn.execute("ANALYZE lookup.properties")
    conn.execute("ANALYZE lookup.property_heads")
    conn.execute("ANALYZE lookup.property_head_keys")
