"""Tilesets: what one tile URL serves. A catalog layer on its own, or the composite basemap.

The basemap carries several catalog layers in one tile, each with its own zoom range and
attributes, so a phone makes one request per tile instead of nine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from layers.catalog import VECTOR, LayerInfo
from layers.errors import LayerNotFound

BASEMAP = "basemap"


@dataclass(frozen=True)
class TileSource:
    """One catalog layer inside a tile: its MVT layer name, zoom range and attributes."""

    layer: LayerInfo
    name: str
    minzoom: int
    maxzoom: int
    attributes: tuple[str, ...]

    def active_at(self, zoom: int) -> bool:
        """Whether this source contributes features at ``zoom``."""
        return self.minzoom <= zoom <= self.maxzoom


@dataclass(frozen=True)
class Tileset:
    """Everything needed to serve, describe and cache-address one tile URL family."""

    name: str
    title: str
    description: str
    version: str
    sources: tuple[TileSource, ...]
    attribution: str
    public: bool
    #: The owning municipality of a single layer's tileset (None: instance-wide, the basemap).
    municipality: str | None = None

    @property
    def minzoom(self) -> int:
        return min((s.minzoom for s in self.sources), default=0)

    @property
    def maxzoom(self) -> int:
        return max((s.maxzoom for s in self.sources), default=22)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Union of the sources' bounds in WGS 84 (the whole world when none are known)."""
        known = [s.layer.bounds for s in self.sources if s.layer.bounds]
        if not known:
            return (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
        return (
            min(b[0] for b in known),
            min(b[1] for b in known),
            max(b[2] for b in known),
            max(b[3] for b in known),
        )

    def sources_at(self, zoom: int) -> tuple[TileSource, ...]:
        """The sources that contribute to a tile at ``zoom`` (empty means an empty tile)."""
        return tuple(s for s in self.sources if s.active_at(zoom))


@dataclass(frozen=True)
class BasemapMember:
    """A catalog layer's place in the basemap."""

    layer: str
    minzoom: int
    maxzoom: int
    attributes: tuple[str, ...]


#: The basemap's layers, bottom to top, with the zooms at which each is worth its bytes.
BASEMAP_MEMBERS: tuple[BasemapMember, ...] = (
    BasemapMember("municipalities", 0, 22, ("name", "code")),
    BasemapMember("counties", 0, 22, ("name", "code")),
    BasemapMember("builtup", 5, 22, ("name", "category")),
    BasemapMember("water", 8, 22, ("class", "name")),
    BasemapMember("landuse", 12, 22, ("class", "name")),
    BasemapMember("roads", 12, 22, ("class", "name")),
    BasemapMember("buildings", 13, 22, ("class", "name", "housenumber")),
    BasemapMember("pois", 15, 22, ("class", "subclass", "name")),
    BasemapMember("places", 14, 22, ("class", "name")),
    BasemapMember("address_points", 16, 22, ("street", "housenumber")),
)


def _layer_tileset(layer: LayerInfo) -> Tileset:
    source = TileSource(
        layer=layer,
        name=layer.name,
        minzoom=layer.minzoom,
        maxzoom=layer.maxzoom,
        attributes=tuple(f.name for f in layer.fields),
    )
    return Tileset(
        name=layer.name,
        title=layer.title,
        description=layer.description,
        version=str(layer.version),
        sources=(source,),
        attribution=layer.attribution,
        public=layer.public,
        municipality=layer.municipality,
    )


def _basemap(catalog: Mapping[str, LayerInfo]) -> Tileset:
    sources = []
    for member in BASEMAP_MEMBERS:
        layer = catalog.get(member.layer)
        if layer is None or not layer.public or layer.kind != VECTOR:
            continue
        known = {f.name for f in layer.fields}
        sources.append(
            TileSource(
                layer=layer,
                name=member.layer,
                minzoom=member.minzoom,
                maxzoom=member.maxzoom,
                attributes=tuple(a for a in member.attributes if a in known),
            )
        )
    if not sources:
        raise LayerNotFound("The basemap has no layers yet: run `webmap data load-sample`.")
    fingerprint = ",".join(f"{s.layer.name}:{s.layer.version}" for s in sources)
    attributions = dict.fromkeys(s.layer.attribution for s in sources if s.layer.attribution)
    return Tileset(
        name=BASEMAP,
        title="Bakgrundskarta",
        description="Sverige 1:1 miljon och Östermalm, Stockholm",
        version=hashlib.sha256(fingerprint.encode()).hexdigest()[:12],
        sources=tuple(sources),
        attribution=" | ".join(attributions),
        public=True,
    )


def resolve_tileset(name: str, catalog: Mapping[str, LayerInfo]) -> Tileset:
    """The tileset called ``name``: the basemap, or a single vector layer of the catalog."""
    if name == BASEMAP:
        return _basemap(catalog)
    layer = catalog.get(name)
    if layer is None or layer.kind != VECTOR:
        raise LayerNotFound(f"There is no vector layer named {name!r}.")
    return _layer_tileset(layer)
