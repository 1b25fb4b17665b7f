"""Upper bounds for one upload, chosen by the operator (``WEBMAP_MAX_*``) and checked early."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestLimits:
    """What one upload may hold; the defaults suit a municipality's largest layers."""

    #: Total bytes an archive may expand to (also bounds the free disk an upload can take).
    max_unpacked_bytes: int = 2 * 1024**3
    #: Expansion ratio above which a compressed entry is treated as a zip bomb.
    max_ratio: float = 200.0
    #: Entries in one archive (a Shapefile needs 3–8).
    max_entries: int = 1_000
    max_features: int = 5_000_000
    max_vertices: int = 100_000_000
    max_feature_vertices: int = 2_000_000
