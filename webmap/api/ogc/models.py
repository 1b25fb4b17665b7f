"""The request and answer models of OGC API – Features (``webmap.api.ogc.features``): what the
views parse their queries with, and what the generated OpenAPI description says they answer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from layers.features import SUPPORTED_CRS
from webmap.http.contracts import WholeNumber, documented_as

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint; beyond it the query fails
LARGEST_FEATURE_ID = 10**18 - 1
_CRS = Field(
    None,
    description="CRS of the answer's geometries (OGC API – Features Part 2); default CRS84. The "
    "URI may be wrapped in <…>. The answer's `Content-Crs` header names it.",
    json_schema_extra=documented_as({"enum": list(SUPPORTED_CRS)}),
)


class Link(BaseModel):
    """A link of an OGC API answer."""

    rel: str
    href: str


class CollectionId(BaseModel):
    """A collection's address."""

    collection_id: str = Field(description="A visible vector layer.", examples=["roads"])


class FeatureAddress(CollectionId):
    """A feature's address; other ids answer 404."""

    feature_id: str = Field(description="The feature id.", pattern="^[0-9]{1,18}$")


class FeatureParams(BaseModel):
    """The query of one feature: the CRS of its geometry (checked by ``srid_of``)."""

    crs: str | None = _CRS


class ItemsParams(FeatureParams):
    """The query of a page of features."""

    limit: WholeNumber(1, MAX_OFFSET) = Field(  # type: ignore[valid-type]
        DEFAULT_LIMIT, description=f"Page size; above {MAX_LIMIT:,} it is lowered to {MAX_LIMIT:,}."
    )
    offset: WholeNumber(0, MAX_OFFSET) = Field(0, description="Features to skip.")  # type: ignore[valid-type]
    bbox_crs: str | None = Field(
        None,
        alias="bbox-crs",
        description="CRS of `bbox`; default CRS84.",
        json_schema_extra=documented_as({"enum": list(SUPPORTED_CRS)}),
    )
    bbox: str | None = Field(
        None,
        description="minx,miny,maxx,maxy in `bbox-crs` (CRS84: minlon,minlat,maxlon,maxlat), or "
        "the 6-number 3D form.",
        json_schema_extra=documented_as(
            {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 6,
                "style": "form",
                "explode": False,
            }
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        # ``?limit=&bbox=``: what a form sends for an empty field means the default.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class Landing(BaseModel):
    """The landing page."""

    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes."""

    conformsTo: list[str]  # noqa: N815 (the standard's name)


class Collections(BaseModel):
    """Every visible vector layer."""

    links: list[Link]
    collections: list[dict[str, Any]]


class Collection(BaseModel):
    """One collection."""

    id: str
    links: list[Link]
    storageCrs: str = Field(description="The CRS the layer is stored in.")  # noqa: N815
    geometryFormat: str = Field(  # noqa: N815
        description="The primary geometry's type, in OGC API – Features Part 5 words."
    )


class FeatureSchema(BaseModel):
    """A collection's features as JSON Schema (OGC API – Features Part 5)."""

    type: Literal["object"]
    properties: dict[str, Any]


class FeaturePage(BaseModel):
    """A page of features."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
    numberMatched: int = Field(ge=0)  # noqa: N815
    numberReturned: int = Field(ge=0)  # noqa: N815
    links: list[Link]


class Feature(BaseModel):
    """One feature."""

    type: Literal["Feature"]
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None
