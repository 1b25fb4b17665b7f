"""The municipalities a deployment serves (its tenants) and their widget settings.

A tenant is a Swedish municipality named by its SCB kommunkod (four digits: 2281 Sundsvall,
2280 Härnösand). Its name and boundary come from Lantmäteriet's municipality polygons that ship
with the sample (``data/lantmateriet/ak_riks.zip``, Sverigekartan 1:1 miljon); the tenant keeps
its own copy of the boundary, so reloading the lookup register (``webmap data load-sample``,
address imports) never touches a tenant, its layers or its staff.

Per tenant: the origins allowed to embed its widget (added to the global
``WEBMAP_EMBED_ORIGINS`` for that municipality only), the layers its picker shows by default, a
display name and theme colour for ``/demo``, and an optional external raster basemap (stored
here; drawing it is the widget's job). What a setting may be is :mod:`layers.tenant_settings`
and :mod:`layers.basemaps`; who may change what is :mod:`staff.tenancy`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from layers.errors import InvalidInput, LayerError, LayerNotFound
from layers.sources import read_features
from layers.tenant_settings import SettingsChange, check_layer_names, check_text, checked_columns

#: The sample's municipality polygons (relative to the data folder), as ``layers.lookup`` loads.
BOUNDARY_FILE = "lantmateriet/ak_riks.zip"
_CODE = re.compile(r"^[0-9]{4}$")


class MunicipalityExists(LayerError):
    """``add`` of a municipality this deployment already serves (HTTP 409)."""


@dataclass(frozen=True)
class Municipality:
    """One tenant as the API, CLI and pages see it (the boundary only as its bounding boxes)."""

    code: str
    name: str
    display_name: str | None
    theme_colour: str | None
    embed_origins: tuple[str, ...]
    default_layers: tuple[str, ...]
    basemap: dict[str, Any] | None
    #: west, south, east, north in WGS 84 (lon/lat).
    bbox_wgs84: tuple[float, float, float, float]
    #: min E, min N, max E, max N in SWEREF 99 TM (EPSG:3006).
    bbox_sweref99tm: tuple[float, float, float, float]

    @property
    def title(self) -> str:
        """What ``/demo`` and the widget call the municipality."""
        return self.display_name or self.name


def check_code(code: str) -> str:
    """A four-digit SCB kommunkod, or :class:`InvalidInput`."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput("A municipality code is four digits (SCB kommunkod), e.g. 2281.")
    return code


def read_boundaries(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(code, name, wkb)`` of every polygon in Lantmäteriet's ``ak_riks`` (a municipality
    with islands has several rows; ``add`` unions them)."""
    for feature in read_features(path, None, "ISO-8859-1"):
        a = feature.attributes
        code = str(a.get("KOM_KOD") or "").zfill(4)
        yield code, str(a.get("KOMMUNNAMN") or ""), feature.wkb


def available_in(path: Path) -> dict[str, str]:
    """Code → name of every municipality the boundary file holds."""
    return {code: name for code, name, _wkb in read_boundaries(path)}


def add_municipality(
    conn: psycopg.Connection[Any], code: str, boundaries: Path, name: str | None = None
) -> Municipality:
    """Serve municipality ``code``: its name and boundary from ``boundaries`` (the sample's
    ``ak_riks``); ``name`` overrides the file's spelling."""
    check_code(code)
    parts = [(n, wkb) for c, n, wkb in read_boundaries(boundaries) if c == code]
    if not parts:
        raise InvalidInput(f"{boundaries.name} has no municipality with code {code}.")
    title = check_text("name", name) if name is not None else parts[0][0]
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE tenant_parts (wkb bytea) ON COMMIT DROP",
        )
        with conn.cursor().copy("COPY tenant_parts FROM STDIN") as copy:
            for _n, wkb in parts:
                copy.write_row((wkb,))
        try:
            conn.execute(
                """
                INSERT INTO webmap.tenants (code, name, boundary)
                SELECT %s, %s, ST_Multi(ST_CollectionExtract(ST_Union(
                    ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(wkb), 3006))), 3))
                FROM tenant_parts
                """,
                [code, title],
            )
        except psycopg.errors.UniqueViolation as exc:
            raise MunicipalityExists(f"Municipality {code} is already served.") from exc
    return get_municipality(conn, code)


_SELECT = """
SELECT code, name, display_name, theme_colour, embed_origins, basemap,
       -- Only those still public and this municipality's or instance-wide: a default layer
       -- made private or given away since is left out rather than named to everyone.
       ARRAY(SELECT d FROM unnest(default_layers) WITH ORDINALITY u(d, i)
             JOIN webmap.layers l ON l.name = u.d AND l.public
                  AND (l.municipality IS NULL OR l.municipality = code)
             ORDER BY u.i) AS default_layers,
       ARRAY[ST_XMin(w), ST_YMin(w), ST_XMax(w), ST_YMax(w)] AS wgs84,
       ARRAY[ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary)] AS tm
FROM webmap.tenants, LATERAL (SELECT ST_Transform(boundary, 4326) AS w) t
"""


def _row(row: Mapping[str, Any]) -> Municipality:
    return Municipality(
        code=row["code"],
        name=row["name"],
        display_name=row["display_name"],
        theme_colour=row["theme_colour"],
        embed_origins=tuple(row["embed_origins"]),
        default_layers=tuple(row["default_layers"]),
        basemap=row["basemap"],
        bbox_wgs84=_box(row["wgs84"], 6),
        bbox_sweref99tm=_box(row["tm"], 1),
    )


def _box(values: list[float], digits: int) -> tuple[float, float, float, float]:
    west, south, east, north = (round(float(v), digits) for v in values)
    return (west, south, east, north)


def get_municipality(conn: psycopg.Connection[Any], code: str) -> Municipality:
    """The tenant ``code``, or :class:`LayerNotFound`."""
    check_code(code)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE code = %s", [code]).fetchone()
    if row is None:
        raise LayerNotFound(f"Municipality {code} is not served here.")
    return _row(row)


def list_municipalities(conn: psycopg.Connection[Any]) -> list[Municipality]:
    """Every tenant, by code."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_SELECT + " ORDER BY code").fetchall()
    return [_row(r) for r in rows]


def exists(conn: psycopg.Connection[Any], code: str) -> bool:
    """Whether ``code`` is a tenant (no error for a malformed code: it is simply not one)."""
    if not _CODE.fullmatch(code):
        return False
    return (
        conn.execute("SELECT 1 FROM webmap.tenants WHERE code = %s", [code]).fetchone() is not None
    )


def embed_origins_of(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, ...]]:
    """Code → allowed embedding origins, for every tenant that has any."""
    rows = conn.execute(
        "SELECT code, embed_origins FROM webmap.tenants WHERE cardinality(embed_origins) > 0"
    ).fetchall()
    return {str(code): tuple(origins) for code, origins in rows}


# -- settings ---------------------------------------------------------------------------------


def update_settings(
    conn: psycopg.Connection[Any],
    code: str,
    change: SettingsChange,
    insecure_basemap_hosts: Collection[str] = (),
) -> Municipality:
    """Validate and store ``change`` for tenant ``code``; returns the tenant as it is now.

    Default layers must be public layers of this municipality or instance-wide ones: a picker
    on a citizen's phone cannot show another municipality's or a private layer.
    What is checked without the database is :mod:`layers.tenant_settings`;
    ``insecure_basemap_hosts``: loopback hosts allowed in a plain-http basemap (tests only,
    :func:`layers.basemaps.basemap_origin`)."""
    check_code(code)
    sets = checked_columns(change, insecure_basemap_hosts)
    if sets.get("basemap") is not None:
        sets["basemap"] = Jsonb(sets["basemap"])
    with conn.transaction():
        if change.default_layers is not None:
            names = check_layer_names(change.default_layers)
            rows = conn.execute(
                "SELECT name FROM webmap.layers WHERE name = ANY(%s) AND public "
                "AND (municipality IS NULL OR municipality = %s)",
                [names, code],
            ).fetchall()
            usable = {str(r[0]) for r in rows}
            unusable = [n for n in names if n not in usable]
            if unusable:
                raise InvalidInput(
                    "Default layers are public layers of this municipality or instance-wide "
                    f"ones; not: {', '.join(unusable)}."
                )
            sets["default_layers"] = names
        if sets:
            assignments = ", ".join(f"{column} = %({column})s" for column in sets)
            found = conn.execute(
                f"UPDATE webmap.tenants SET {assignments}, updated_at = now() "  # noqa: S608 (fixed column names)
                "WHERE code = %(code)s RETURNING 1",
                {**sets, "code": code},
            ).fetchone()
            if found is None:
                raise LayerNotFound(f"Municipality {code} is not served here.")
    return get_municipality(conn, code)


def public_view(municipality: Municipality) -> dict[str, Any]:
    """What ``GET /api/municipalities/{code}`` shows anyone: no staff, no origins."""
    return {
        "code": municipality.code,
        "name": municipality.name,
        "display_name": municipality.title,
        "bbox": list(municipality.bbox_wgs84),
        "bbox_crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "bbox_sweref99tm": list(municipality.bbox_sweref99tm),
        "default_layers": list(municipality.default_layers),
        "theme_colour": municipality.theme_colour,
        "basemap": municipality.basemap,
    }
