"""Upper bounds for one upload, chosen by the operator (``WEBMAP_MAX_*``) and checked early.

Each field is the setting ``WEBMAP_<FIELD>`` (see :func:`setting_name`), so a refusal can name
the setting that refused it. The defaults and why they are what they are: docs/layers.md,
"Budgets".
"""

from __future__ import annotations

from dataclasses import dataclass


def setting_name(field: str) -> str:
    """The environment variable that sets ``field`` (``max_vertices`` → WEBMAP_MAX_VERTICES)."""
    return f"WEBMAP_{field.upper()}"


@dataclass(frozen=True)
class IngestLimits:
    """What one upload may hold and take; the defaults suit a municipality's largest layers."""

    #: Total bytes an archive may expand to (also bounds the free disk an upload can take).
    max_unpacked_bytes: int = 2 * 1024**3
    #: Expansion ratio above which a compressed entry is treated as a zip bomb.
    max_ratio: float = 200.0
    #: Entries in one archive (a Shapefile needs 3–8).
    max_entries: int = 1_000
    max_features: int = 5_000_000
    #: All vertices of one layer: about 30 s of ingest on two cores, 400 MB of coordinates.
    max_vertices: int = 25_000_000
    #: One feature: Stockholm's whole water layer is one multipolygon of 166,619 vertices.
    max_feature_vertices: int = 250_000
    #: Wall-clock seconds for one ingest, checked between steps, chunks and features.
    ingest_max_seconds: float = 300.0
    #: Cap on one SQL statement of the ingest transaction (lowered to the time left).
    ingest_statement_timeout_ms: int = 600_000
