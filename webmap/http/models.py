"""Pydantic models that more than one blueprint's contract uses (paths, points, languages)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from layers.crs import check_srid
from webmap.http.contracts import documented_as
from webmap.http.params import whole_number

SWEDISH: Literal["sv", "en"] = "sv"
LANGUAGE = Field(SWEDISH, description="Language of the page.")


class TileLayer(BaseModel):
    """The layer of a tile or TileJSON URL."""

    name: str = Field(
        description="A catalog layer, or `basemap` (the composite of the sample layers).",
        examples=["basemap", "roads"],
    )


class TilePath(TileLayer):
    """A tile address; ``tiles.grid.parse_tile`` checks it (400 ``invalid-tile-address``)."""

    z: int = Field(ge=0, le=24, description="Zoom level.")
    x: int = Field(ge=0, le=2**24 - 1, description="Column, below 2^z.")
    y: int = Field(ge=0, le=2**24 - 1, description="Row, below 2^z.")


RENDERINGS = ["hillshade", "elevation", "classes", "image"]
_RENDER = Field(
    None,
    description="How a raster is drawn: `hillshade` (default) or `elevation` for an elevation "
    "model, `classes` for a categorical raster, `image` for RGB. Others: 400.",
    json_schema_extra=documented_as({"enum": RENDERINGS}),
)
_VERSION = Field(
    None,
    description="Data version from the TileJSON. The live version makes the tile immutable; an "
    "old one redirects (302) to the live one; none caches for a minute.",
)


class VectorTileQuery(BaseModel):
    """``?v=`` of a vector tile."""

    v: str | None = _VERSION


class RasterTileQuery(BaseModel):
    """``?v=`` and ``?render=`` of a raster tile; which renderings a raster allows is the
    domain's check (400 ``invalid-raster-request``)."""

    v: str | None = _VERSION
    render: str | None = _RENDER


class TileJsonQuery(BaseModel):
    """``?format=`` and ``?render=`` of a TileJSON (raster layers carry them into tile URLs)."""

    format: str = Field(
        "png",
        description="Raster layers: the image format of the tile URLs.",
        json_schema_extra=documented_as({"enum": ["png", "webp"], "default": "png"}),
    )
    render: str | None = _RENDER


class LayerName(BaseModel):
    """The staff API's and the admin's layer address."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,47}$",
        description="The layer's name; other names answer 400 problem JSON.",
    )


class PageLanguage(BaseModel):
    """``?lang=`` of a public page."""

    lang: Literal["sv", "en"] = LANGUAGE


class Point(BaseModel):
    """A GeoJSON point."""

    type: Literal["Point"]
    coordinates: list[float] = Field(
        min_length=2, max_length=2, description="[lon, lat] in EPSG:4326"
    )


class SwerefPoint(BaseModel):
    """A position in SWEREF 99 (northing first in the axis order, as EPSG:3006 defines)."""

    srid: int | None = None
    e: float = Field(description="easting (m)")
    n: float = Field(description="northing (m)")
    axis_order: Literal["n,e"]


def _srid(value: Any) -> Any:
    if isinstance(value, str):
        value = whole_number("srid", value, 0, 999_999)
    return check_srid(value) if isinstance(value, int) else value


Srid = Annotated[
    int,
    BeforeValidator(_srid),
    Field(
        description="SWEREF 99 TM (3006) or a local SWEREF 99 zone (3007–3018).",
        json_schema_extra={"minimum": 3006, "maximum": 3018},
    ),
]
