"""The contract of ``/api/layers``: its forms, bodies and replies as pydantic models.

They describe the API in ``/openapi.json`` and check what a JSON body may hold
(:func:`webmap.http.contracts.parse_body`); the multipart forms are read field by field in
:mod:`webmap.api.layers.forms`, which applies the same length limit, :data:`TEXT_LIMIT`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The longest title, description or attribution accepted.
TEXT_LIMIT = 2000
_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
_OWNER_PATTERN = r"^([0-9]{4}|instance)$"


class Upload(BaseModel):
    """The multipart form of an upload (a new version: only ``file`` is needed)."""

    file: str = Field(json_schema_extra={"contentMediaType": "application/octet-stream"})
    name: str | None = Field(None, pattern=_NAME_PATTERN)
    title: str | None = Field(None, max_length=TEXT_LIMIT)
    srid: int | None = Field(None, ge=1024, le=999_999)
    description: str | None = Field(None, max_length=TEXT_LIMIT)
    attribution: str | None = Field(None, max_length=TEXT_LIMIT)
    public: Literal["true", "false", "1", "0", "ja", "nej"] | None = None
    layer: str | None = Field(None, description="which layer of a GeoPackage or KML")
    encoding: str | None = Field(None, description="DBF encoding, e.g. ISO-8859-1")
    geometry_type: Literal["point", "line", "polygon"] | None = None
    municipality: str | None = Field(
        None,
        pattern=_OWNER_PATTERN,
        description="A new layer's owning municipality (SCB code), or `instance` for an "
        "instance-wide one; by default the caller's only municipality (docs/layers.md, "
        "Municipalities). Ignored for a new version.",
    )


class LayerListQuery(BaseModel):
    """``?municipality=`` narrows the list to one municipality's layers (``instance``: the
    instance-wide ones)."""

    municipality: str | None = Field(None, pattern=_OWNER_PATTERN)


class NewLayer(Upload):
    """The multipart form that publishes a new layer: a file, a name and a title."""

    name: str = Field(pattern=_NAME_PATTERN)
    title: str = Field(max_length=TEXT_LIMIT)


class LayerPatch(BaseModel):
    """What ``PATCH /api/layers/{name}`` may change."""

    model_config = ConfigDict(extra="forbid")

    # Absent keeps the current value; null is not a value (400), hence no ``| None``.
    title: str = Field(None, min_length=1, max_length=TEXT_LIMIT)  # type: ignore[assignment]
    description: str = Field(None, max_length=TEXT_LIMIT)  # type: ignore[assignment]
    attribution: str = Field(None, max_length=TEXT_LIMIT)  # type: ignore[assignment]
    public: bool = Field(None)  # type: ignore[assignment]


class Rollback(BaseModel):
    """Which version to make live; the previous one when absent."""

    version: int | None = Field(None, ge=1, le=2**31 - 1)


class LayerDetail(BaseModel):
    """Metadata, bounds (WGS 84), feature count, live report and the stored versions of a
    layer (docs/layers.md); ``prerender``: the pre-rendering of its low zooms (state, tiles done
    of total) for the live version, empty when none is queued (docs/architecture.md)."""

    name: str


class LayerList(BaseModel):
    """Every layer with its live version."""

    layers: list[dict[str, Any]]


class Published(BaseModel):
    """A published version and its validation report."""

    name: str
    version: int | None
    report: dict[str, Any]
    links: dict[str, Any] | None = None
