"""Malmö in the sample (issue 10 §4): the buildings layer holds Möllevången's OSM buildings next
to Östermalm's, so Malmö's addresses, when imported, are not on a blank map; the static map and
the tiles there show them; loading again publishes nothing; an extra source counts in the digest.
The real sample database (tests/conftest.py) and real files."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from PIL import Image
from psycopg import sql

from layers.catalog import FieldInfo
from layers.sample import load_sample, publish_sample_layer
from layers.sample_layers import ExtraSource, SampleLayer
from layers.schema import DATA_SCHEMA
from layers.store import LayerSpec
from tests.conftest import DATA_DIR
from tiles import style

# Möllevångstorget, Malmö, and the extract's bounds.
MOLLAN = "lon=13.0107&lat=55.5923"
MALMO_BOX = (13.0, 55.58, 13.03, 55.61)


@pytest.fixture
def conn(sample_database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(sample_database) as connection:
        yield connection


def _buildings_in(conn: psycopg.Connection[Any], box: tuple[float, float, float, float]) -> int:
    table = conn.execute(
        "SELECT table_name FROM webmap.layer_versions v JOIN webmap.layers l"
        " ON l.name = v.layer_name AND l.version = v.version WHERE l.name = 'buildings'"
    ).fetchone()
    assert table is not None
    query = sql.SQL(
        "SELECT count(*) FROM {} "
        "WHERE geom && ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857)"
    ).format(sql.Identifier(DATA_SCHEMA, table[0]))
    row = conn.execute(query, list(box)).fetchone()
    return int(row[0]) if row else 0


def test_the_buildings_layer_has_malmo_and_ostermalm(conn: psycopg.Connection[Any]) -> None:
    assert _buildings_in(conn, MALMO_BOX) == 1014
    assert _buildings_in(conn, (18.06, 59.33, 18.09, 59.345)) > 100
    # Loading the sample again publishes nothing new (the digest covers both files).
    outcome = load_sample(conn, DATA_DIR, only={"buildings"})["buildings"]
    assert not outcome.published


def test_the_static_map_of_mollevangen_shows_buildings(client: FlaskClient) -> None:
    response = client.get(f"/api/staticmap?{MOLLAN}&zoom=17&width=300&height=200")
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    building = tuple(int(style.BUILDING[i : i + 2], 16) for i in (1, 3, 5))
    share = sum(
        count
        for count, colour in image.getcolors(maxcolors=100_000) or []
        if all(abs(a - b) <= 12 for a, b in zip(colour, building, strict=True))
    ) / (300 * 200)
    assert share > 0.15, f"buildings cover {share:.0%} of Möllevången's map"


def _probe(path: Path, lon: float) -> None:
    square = [[lon, 59.3], [lon + 0.001, 59.3], [lon + 0.001, 59.301], [lon, 59.301], [lon, 59.3]]
    feature = {
        "type": "Feature",
        "properties": {"kind": "house"},
        "geometry": {"type": "Polygon", "coordinates": [square]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))


def test_an_extra_source_is_loaded_and_counts_in_the_digest(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    _probe(tmp_path / "a.geojson", 18.0)
    _probe(tmp_path / "b.geojson", 18.1)
    layer = SampleLayer(
        LayerSpec("sample_two_files", "Two files"),
        "a.geojson",
        4326,
        (FieldInfo("kind", "text"),),
        lambda a: {"kind": a["kind"]},
        extra_sources=(ExtraSource("b.geojson"),),
    )
    first = publish_sample_layer(conn, layer, tmp_path)
    assert first.published and first.features == 2
    assert not publish_sample_layer(conn, layer, tmp_path).published
    _probe(tmp_path / "b.geojson", 18.2)  # only the extra file changes
    assert publish_sample_layer(conn, layer, tmp_path).published
