"""A collection's feature schema (OGC API – Features Part 5, JSON Schema) from the catalog.

Clients cannot tell a layer's geometry type from a page of GeoJSON when it mixes Polygon and
MultiPolygon (GDAL then says "Unknown (any)"), nor an attribute's type from a value that happens
to be null on the first page. The schema says both from what the catalog knows: the layer's
geometry family (every upload is one family, single and multi parts together) and its stored
column types. QGIS reads it through the collection's Part 5 schema link; GDAL (3.12) reads the
attribute types through ``describedby`` but takes the geometry type from the first page, which
is why lines and polygons are always answered as multi geometries.
"""

from __future__ import annotations

from typing import Any

from layers.catalog import LayerInfo

#: The geometry family recorded at publishing → Part 5's format. Lines and polygons are always
#: answered as multi geometries (:data:`layers.features.ALWAYS_MULTI`), points as stored.
_GEOMETRY_FORMATS = {
    "Point": "geometry-point-or-multipoint",
    "LineString": "geometry-multilinestring",
    "Polygon": "geometry-multipolygon",
}

#: PostgreSQL column types the ingest pipeline writes → JSON Schema.
_INTEGERS = {"smallint", "integer", "bigint"}
_NUMBERS = {"real", "double precision", "numeric"}
_STRING_FORMATS = {
    "date": "date",
    "timestamp with time zone": "date-time",
    "timestamp without time zone": "date-time",
    "timestamp": "date-time",
    "timestamptz": "date-time",
}


def geometry_format(layer: LayerInfo) -> str:
    """Part 5's ``format`` of the layer's primary geometry (``geometry-any`` when unknown)."""
    return _GEOMETRY_FORMATS.get(layer.geometry_type or "", "geometry-any")


def property_schema(column_type: str) -> dict[str, Any]:
    """The JSON Schema of one stored column (a string when the type is not one we map)."""
    kind = column_type.lower()
    if kind in _INTEGERS:
        return {"type": "integer"}
    if kind in _NUMBERS or kind.startswith("numeric("):
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind in _STRING_FORMATS:
        return {"type": "string", "format": _STRING_FORMATS[kind]}
    return {"type": "string"}


def collection_schema(layer: LayerInfo, schema_id: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the layer's features, as Part 5 lays it out.

    ``schema_id`` is the schema's own URL (``$id``). Properties are the feature's attributes in
    stored order (``x-ogc-propertySeq``) and the primary geometry. The feature id is GeoJSON's
    ``id`` member, not a property, so it is not listed (QGIS would add an empty field for it).
    """
    properties: dict[str, Any] = {
        "geometry": {"x-ogc-role": "primary-geometry", "format": geometry_format(layer)},
    }
    for sequence, column in enumerate(layer.fields, start=1):
        properties[column.name] = {**property_schema(column.type), "x-ogc-propertySeq": sequence}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": layer.title or layer.name,
        "description": layer.description,
        "properties": properties,
    }
