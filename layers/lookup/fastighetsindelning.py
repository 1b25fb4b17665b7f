"""Reading Lantmäteriet's "Fastighetsindelning Nedladdning, vektor" GeoPackage.

The open property boundary product (CC BY 4.0 since 2025) holds the register unit areas
(registerenhetsområden) in the layer ``registerenhetsomradesyta``: one (multi)polygon per area,
in SWEREF 99 TM or a local SWEREF 99 zone, with

    objektidentitet          UUID of the area
    registerenhetsreferens   UUID of the register unit (fastighet or samfällighet) it belongs to
    objekttyp                what kind of unit (fastighet, samfällighet …)
    lanskod, kommunkod       county and municipality code of the unit
    kommunnamn               the register area (registerområde), in practice the municipality
    trakt                    trakt or kvarter name
    block                    block (text: digits, a letter for a samfällighet, empty for a kvarter)
    enhet                    unit number
    omradesnummer            the area's number within a multi-part unit (1, 2 …)
    senastandrad, samjelittera, osakertlage, etikett   (read but not needed here)

The designation is built from its parts, as the register defines it (register area, trakt or
kvarter, block and unit: "Sundsvall Skönsberg 1:12"; no block for a kvarter: "Stockholm Rosenbad
2"); the register writes the names in capitals, shown here as names are written ("SKÖNSBERG" →
"Skönsberg"). Sources are cited in docs/api-lookup.md.

A GeoPackage is an SQLite database, so the layer is read row by row with :mod:`sqlite3` (bounded
memory at any size; a national file has about 4.4 million areas) and each geometry blob is
turned into plain WKB by dropping the GeoPackage header.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from layers.errors import InvalidInput

LAYER = "registerenhetsomradesyta"
#: Columns without which no designation can be built.
REQUIRED = ("registerenhetsreferens", "kommunnamn", "trakt", "enhet")
OPTIONAL = ("objektidentitet", "objekttyp", "kommunkod", "block", "omradesnummer")
#: Bytes of the optional envelope after the 8-byte header, by the envelope indicator (flags).
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


@dataclass(frozen=True)
class RegisterArea:
    """One area of a register unit, as the file gives it (WKB in the file's SRID)."""

    area_id: str | None
    register_id: str
    municipality_code: str | None
    register_area: str
    district: str
    block: str | None
    unit: int | None
    kind: str | None
    wkb: bytes


@dataclass(frozen=True)
class RegisterFile:
    """An opened product file: its layer's SRID, area count and rows (read lazily)."""

    srid: int
    count: int
    rows: Iterator[RegisterArea | str]


def display_name(text: str) -> str:
    """ "SKÖNSBERG" → "Skönsberg", "ÖSTRA KARUP" → "Östra Karup", "S:T OLOF" → "S:t Olof".

    Names already in mixed case are kept as written.
    """
    text = " ".join(text.split())
    if text != text.upper():
        return text
    return " ".join("-".join(p.capitalize() for p in word.split("-")) for word in text.split(" "))


def designation(register_area: str, district: str, block: str | None, unit: int | None) -> str:
    """ "Sundsvall Skönsberg 1:12"; a kvarter has no block ("Stockholm Rosenbad 2"), a
    samfällighet a letter ("Sundsvall Skönsberg s:3")."""
    head = f"{display_name(register_area)} {display_name(district)}"
    if not block:
        return f"{head} {unit}" if unit is not None else head
    block = block.strip()
    block = block if block.isdigit() else block.lower()
    return f"{head} {block}:{unit}" if unit is not None else f"{head} {block}"


def gpkg_wkb(blob: bytes) -> bytes | None:
    """Standard WKB from a GeoPackage geometry blob; None when empty or not a GeoPackage blob."""
    if len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0x10:  # the empty-geometry flag
        return None
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0x07)
    if envelope is None:
        return None
    return bytes(blob[8 + envelope :])


def is_register_file(path: Path) -> bool:
    """True when ``path`` is a GeoPackage holding the ``registerenhetsomradesyta`` layer."""
    try:
        with _connect(path) as db:
            return _table(db) is not None
    except (sqlite3.Error, OSError):
        return False


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _table(db: sqlite3.Connection) -> str | None:
    row = db.execute(
        "SELECT table_name FROM gpkg_contents WHERE lower(table_name) = ? "
        "AND data_type = 'features'",
        [LAYER],
    ).fetchone()
    return str(row[0]) if row else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_register(path: Path) -> RegisterFile:
    """Open the product's area layer; :class:`InvalidInput` when ``path`` is not the product."""
    try:
        db = _connect(path)
        table = _table(db)
    except sqlite3.Error as exc:
        raise InvalidInput(f"{path.name} is not a GeoPackage ({exc}).") from exc
    if table is None:
        db.close()
        raise InvalidInput(f"{path.name} has no layer {LAYER} (Fastighetsindelning, vektor).")
    geometry = db.execute(
        "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?", [table]
    ).fetchone()
    columns = {
        str(r[1]).lower(): str(r[1]) for r in db.execute(f"PRAGMA table_info({_quote(table)})")
    }
    missing = [c for c in REQUIRED if c not in columns]
    if geometry is None or missing:
        db.close()
        raise InvalidInput(
            f"{path.name}: the layer {table} lacks "
            + (", ".join(missing) if missing else "a geometry column")
            + " (see docs/api-lookup.md for the product's columns)."
        )
    wanted = [*REQUIRED, *OPTIONAL]
    select = ", ".join(_quote(columns[c]) if c in columns else "NULL" for c in wanted)
    # Identifiers come from the file's own catalogue and are quoted; no value is interpolated.
    count = int(db.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0])  # noqa: S608
    query = f"SELECT {select}, {_quote(str(geometry[0]))} FROM {_quote(table)}"  # noqa: S608

    def rows() -> Iterator[RegisterArea | str]:
        try:
            for row in db.execute(query):
                yield _area(row)
        finally:
            db.close()

    return RegisterFile(int(geometry[1]), count, rows())


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _area(row: tuple[object, ...]) -> RegisterArea | str:
    """One row as a :class:`RegisterArea`, or the reason it cannot be used."""
    register_id, register_area, district, unit = (_text(v) for v in row[:4])
    area_id, kind, code, block, _area_number = (_text(v) for v in row[4:9])
    blob = row[9]
    if not register_id:
        return "no registerenhetsreferens (register unit id)"
    if not register_area or not district:
        return "no kommunnamn or trakt (designation incomplete)"
    number: int | None = None
    if unit is not None:
        try:
            number = int(float(unit))
        except ValueError:
            return "enhet is not a number"
    if number is None and not block:
        return "neither block nor enhet (designation incomplete)"
    wkb = gpkg_wkb(blob) if isinstance(blob, bytes) else None
    if wkb is None or len(wkb) < 5:
        return "empty or unreadable geometry"
    kind_code = struct.unpack("<I" if wkb[0] == 1 else ">I", wkb[1:5])[0] % 1000
    if kind_code not in (3, 6):
        return "not a polygon"
    return RegisterArea(
        area_id=area_id,
        register_id=register_id.lower(),
        municipality_code=code.zfill(4) if code and code.isdigit() else None,
        register_area=register_area,
        district=district,
        block=block,
        unit=number,
        kind=kind,
        wkb=wkb,
    )
