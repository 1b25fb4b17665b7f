"""SYNTHETIC property registers in Lantmäteriet's format, for tests and benchmarks.

Nothing here is real cadastral data. :func:`split_into_units` cuts a real polygon (a
municipality from ``ak_riks``, a city district) into a grid of invented register units;
:func:`write_register_file` writes them as a GeoPackage laid out like "Fastighetsindelning
Nedladdning, vektor" (layer ``registerenhetsomradesyta``, the columns and types listed in
:mod:`layers.lookup.fastighetsindelning`), in chunks so a large file needs little memory. Every
area's ``etikett`` ends with "(syntetisk)" and the object identities are UUID 5 in a namespace of
this project's own, so a synthetic file is never mistaken for a delivery.

:data:`SYNTHETIC_AREAS_SQL` fills the import's stage table straight from ``generate_series``
(three million units in minutes), for the national-scale benchmark.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

from layers.lookup.fastighetsindelning import LAYER

#: UUID namespace of every synthetic identity (uuid5 of "webmap synthetic property register").
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "webmap:synthetic-property-register")
SYNTHETIC_MARK = "(syntetisk)"
_CHUNK = 20_000


@dataclass(frozen=True)
class SyntheticUnit:
    """One invented register unit: its designation parts and one or more areas."""

    kommunkod: str
    kommunnamn: str
    trakt: str
    block: str | None
    enhet: int
    areas: tuple[shapely.Geometry, ...]
    objekttyp: str = "Fastighet"
    key: str = field(default="")

    @property
    def register_id(self) -> str:
        """The unit's registerenhetsreferens (stable: derived from its designation)."""
        return str(uuid.uuid5(NAMESPACE, self.key or self.designation))

    @property
    def designation(self) -> str:
        number = f"{self.block}:{self.enhet}" if self.block else str(self.enhet)
        return f"{self.kommunnamn} {self.trakt} {number}"


def split_into_units(
    polygon: shapely.Geometry,
    kommunkod: str,
    kommunnamn: str,
    trakt: str,
    cell_m: float,
    first_unit: int = 1,
    block: str = "1",
    min_area_m2: float = 1.0,
) -> list[SyntheticUnit]:
    """Cut ``polygon`` (SWEREF 99 TM) into a grid of units "TRAKT block:n", row by row."""
    minx, miny, maxx, maxy = polygon.bounds
    units: list[SyntheticUnit] = []
    y = maxy
    while y > miny:
        x = minx
        while x < maxx:
            piece = shapely.intersection(polygon, shapely.box(x, y - cell_m, x + cell_m, y))
            piece = shapely.get_parts(piece)
            polys = [p for p in piece if p.geom_type == "Polygon" and p.area >= min_area_m2]
            if polys:
                units.append(
                    SyntheticUnit(
                        kommunkod, kommunnamn, trakt, block, first_unit + len(units),
                        (shapely.multipolygons(polys),),
                    )
                )  # fmt: skip
            x += cell_m
        y -= cell_m
    return units


def _area_rows(units: Iterable[SyntheticUnit]) -> Iterator[tuple[object, ...]]:
    for unit in units:
        for number, area in enumerate(unit.areas, start=1):
            yield (
                str(uuid.uuid5(NAMESPACE, f"{unit.register_id}/{number}")),
                unit.register_id,
                unit.objekttyp,
                datetime(2025, 2, 1, 12, 0, 0),
                unit.kommunkod[:2],
                unit.kommunkod,
                unit.kommunnamn.upper(),
                unit.trakt.upper(),
                unit.block.upper() if unit.block else None,
                unit.enhet,
                number,
                None,
                False,
                f"{unit.block}:{unit.enhet} {SYNTHETIC_MARK}"
                if unit.block
                else f"{unit.enhet} {SYNTHETIC_MARK}",
                shapely.to_wkb(
                    area if area.geom_type == "MultiPolygon" else shapely.multipolygons([area])
                ),
            )


#: The layer's columns, in the product's order, with the type each is written as.
FIELDS: tuple[tuple[str, str], ...] = (
    ("objektidentitet", "object"),
    ("registerenhetsreferens", "object"),
    ("objekttyp", "object"),
    ("senastandrad", "datetime64[ms]"),
    ("lanskod", "object"),
    ("kommunkod", "object"),
    ("kommunnamn", "object"),
    ("trakt", "object"),
    ("block", "object"),
    ("enhet", "int64"),
    ("omradesnummer", "int16"),
    ("samjelittera", "object"),
    ("osakertlage", "bool"),
    ("etikett", "object"),
)


def write_register_file(path: Path, units: Iterable[SyntheticUnit], srid: int = 3006) -> int:
    """Write ``units`` as a product-like GeoPackage (areas in ``srid``); returns the area count.

    Geometries are taken to be in ``srid`` already. Written in chunks (append), so memory stays
    flat for millions of areas.
    """
    rows = _area_rows(units)
    written = 0
    while chunk := list(islice(rows, _CHUNK)):
        columns = list(zip(*chunk, strict=True))
        field_data = [
            np.array(columns[i], dtype=dtype if dtype != "object" else object)
            for i, (_name, dtype) in enumerate(FIELDS)
        ]
        pyogrio.raw.write(
            str(path),
            geometry=np.array(columns[-1], dtype=object),
            field_data=field_data,
            fields=[name for name, _dtype in FIELDS],
            layer=LAYER,
            crs=f"EPSG:{srid}",
            driver="GPKG",
            geometry_type="MultiPolygon",
            append=written > 0,
        )
        written += len(chunk)
    return written


#: Invented register areas and trakt name parts (20 × 20 × 20 = 8000 heads: "Provstad Björkberga").
REGISTER_AREAS = (
    "Syntetköping", "Provstad", "Testhamn", "Låtsasby", "Exempelsund", "Påhittsala", "Modellvik",
    "Skisslanda", "Fiktivborg", "Mockinge", "Dummyfors", "Attrappö", "Kopiasjö", "Imitavik",
    "Skenby", "Låtsåsa", "Provköping", "Testinge", "Syntetsta", "Exempelhult",
)  # fmt: skip
TRAKT_STARTS = (
    "Ask", "Björk", "Ek", "Gran", "Hassel", "Lind", "Lönn", "Rönn", "Sälg", "Tall", "Al", "Alm",
    "Apel", "Hägg", "Lärk", "Oxel", "Pil", "Asp", "Vide", "Hagtorn",
)  # fmt: skip
TRAKT_ENDS = (
    "berga", "by", "dal", "hult", "holm", "lund", "näs", "torp", "vik", "åker", "ås", "mark",
    "hem", "gården", "sund", "ryd", "stad", "bro", "backa", "fors",
)  # fmt: skip

#: Fills ``register_area_stage`` (see :mod:`layers.lookup.property_register`) with %(count)s
#: SYNTHETIC units: 100 × 100 m squares on a grid from (%(x0)s, %(y0)s) in SWEREF 99 TM, 400
#: units per trakt (blocks 1–10 of 40 units), trakt t named from :data:`REGISTER_AREAS`,
#: :data:`TRAKT_STARTS` and :data:`TRAKT_ENDS` (bind them as %(areas)s, %(starts)s, %(ends)s).
SYNTHETIC_AREAS_SQL = """
    INSERT INTO register_area_stage (area_id, register_id, municipality_code, designation,
        district, block, unit, geom)
    SELECT md5('synthetic area ' || g.i), md5('synthetic unit ' || g.i), NULL,
        n.area || ' ' || n.trakt || ' ' || (1 + (g.i %% 400) / 40) || ':' || (1 + g.i %% 40),
        n.trakt, 1 + (g.i %% 400) / 40, 1 + g.i %% 40,
        ST_MakeEnvelope(%(x0)s + (g.i %% 2000) * 110, %(y0)s + (g.i / 2000) * 110,
                        %(x0)s + (g.i %% 2000) * 110 + 100, %(y0)s + (g.i / 2000) * 110 + 100,
                        3006)
    FROM generate_series(0, %(count)s - 1) AS g(i)
    CROSS JOIN LATERAL (SELECT g.i / 400 AS t) t
    CROSS JOIN LATERAL (
        SELECT (%(areas)s::text[])[1 + t.t %% 20] AS area,
            (%(starts)s::text[])[1 + (t.t / 20) %% 20] || (%(ends)s::text[])[1 + (t.t / 400) %% 20]
                AS trakt
    ) n
"""
