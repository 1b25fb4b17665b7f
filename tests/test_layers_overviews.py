"""What an uploaded layer stores in its overview columns, and what tiles draw from them."""

from __future__ import annotations

import json

import psycopg
from flask.testing import FlaskClient

from tests.layers_helpers import decoded_tile, token_headers, upload


def _square(lon: float, lat: float, half: float) -> list[list[list[float]]]:
    return [
        [
            [lon - half, lat - half],
            [lon + half, lat - half],
            [lon + half, lat + half],
            [lon - half, lat + half],
            [lon - half, lat - half],
        ]
    ]


def test_small_simple_and_invisible_features(client: FlaskClient, sample_database: str) -> None:
    features = [
        # A block of a few hundred metres: few vertices, so no second copy is stored.
        {
            "type": "Feature",
            "properties": {"kind": "block"},
            "geometry": {"type": "Polygon", "coordinates": _square(18.07, 59.338, 0.002)},
        },
        # A one-metre speck: invisible below z13, so its overviews are EMPTY.
        {
            "type": "Feature",
            "properties": {"kind": "speck"},
            "geometry": {"type": "Polygon", "coordinates": _square(18.08, 59.338, 0.000005)},
        },
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    headers = token_headers(sample_database, "publish", "overviews")
    response = upload(client, headers, body, "kvarter.geojson", name="overview_probe")
    assert response.status_code in (200, 201), response.get_json()
    with psycopg.connect(sample_database) as conn:
        rows = dict(
            conn.execute(
                "SELECT kind, CASE WHEN geom_z9 IS NULL THEN 'null' "
                "WHEN ST_IsEmpty(geom_z9) THEN 'empty' ELSE 'copy' END "
                "FROM layerdata.overview_probe_v1"
            ).fetchall()
        )
    assert rows == {"block": "null", "speck": "empty"}
    low = decoded_tile(client, "overview_probe", 18.07, 59.338, 9)
    kinds = [f["properties"]["kind"] for f in low["overview_probe"]["features"]]
    assert kinds == ["block"]  # drawn from geom; the speck stays out
    high = decoded_tile(client, "overview_probe", 18.08, 59.338, 16)
    assert [f["properties"]["kind"] for f in high["overview_probe"]["features"]] == ["speck"]
