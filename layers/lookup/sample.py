"""The lookup part of ``webmap data load-sample``: municipalities, Östermalm's OSM addresses,
and the FICTIONAL property register made from them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from layers.lookup.fictional import generate_fictional_properties
from layers.lookup.readers import read_osm_addresses
from layers.lookup.store import import_addresses, load_municipalities

MUNICIPALITIES_FILE = "lantmateriet/ak_riks.zip"
OSM_FILE = "osm/stockholm-ostermalm.osm"
OSM_SOURCE = "osm:stockholm-ostermalm"

Progress = Callable[[str, int, int], None]


def load_lookup_sample(
    conn: psycopg.Connection[Any], data_dir: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Load the sample lookups from ``data_dir``; returns counts by table."""
    steps = ("lookup: municipalities", "lookup: addresses", "lookup: fictional properties")
    counts: dict[str, int] = {}

    def step(index: int) -> None:
        if progress:
            progress(steps[index], index, len(steps))

    step(0)
    counts["lookup municipalities"] = load_municipalities(conn, data_dir / MUNICIPALITIES_FILE)
    step(1)
    source = read_osm_addresses(data_dir / OSM_FILE)
    report = import_addresses(conn, source.rows, source.srid, OSM_SOURCE, replace=True)
    counts["lookup addresses"] = report.stored
    step(2)
    counts["lookup properties (fictional)"] = generate_fictional_properties(
        conn, data_dir / OSM_FILE
    )
    if progress:
        progress("", len(steps), len(steps))
    return counts
