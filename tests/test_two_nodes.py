"""Two app nodes on one database behave as one service: what is published through one is served
by the other within the catalog snapshot's lifetime (``WEBMAP_CATALOG_TTL``, 2 s by default).

Sessions and login limits across nodes are tested in test_staff_sessions.py and
test_login_limits.py; this is the data path.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from tests.app_helpers import app_with
from tests.layers_helpers import token_headers, upload

TTL = 2.0  # the default catalog_ttl; app_with's test default of 0 would hide the delay


def points(count: int, lon: float = 18.07) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"n": i},
            "geometry": {"type": "Point", "coordinates": [lon + i * 1e-4, 59.33]},
        }
        for i in range(count)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def version_seen(client: FlaskClient, name: str) -> Any:
    """The data version in the node's tile URLs for ``name`` (``?v=``), None when unknown."""
    response = client.get(f"/tiles/{name}.json")
    if response.status_code != 200:
        return None
    return parse_qs(urlsplit(response.get_json()["tiles"][0]).query)["v"][0]


def wait_for_version(client: FlaskClient, name: str, version: str, bound: float) -> float:
    """Seconds until ``client`` serves ``version`` of ``name``; fails after ``bound``."""
    started = time.monotonic()
    while (seen := version_seen(client, name)) != version:
        assert time.monotonic() - started < bound, f"node B still serves {seen!r}"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_layer_published_on_node_a_is_served_by_node_b(sample_database: str) -> None:
    staff = token_headers(sample_database, "publish", "two-nodes")
    with (
        app_with(sample_database, catalog_ttl=TTL) as node_a,
        app_with(sample_database, catalog_ttl=TTL) as node_b,
    ):
        a, b = node_a.test_client(), node_b.test_client()
        assert version_seen(b, "two_nodes") is None  # B's snapshot is taken before the upload
        created = upload(a, staff, points(5), "p.geojson", "two_nodes")
        assert created.status_code == 201, created.get_json()
        first = version_seen(a, "two_nodes")
        assert first is not None
        took = wait_for_version(b, "two_nodes", first, bound=TTL + 1.0)

        replaced = upload(a, staff, points(7, lon=18.08), "p.geojson", "two_nodes", method="PUT")
        assert replaced.status_code in (200, 201), replaced.get_json()
        second = version_seen(a, "two_nodes")
        assert second != first
        took = max(took, wait_for_version(b, "two_nodes", second, bound=TTL + 1.0))

        template = b.get("/tiles/two_nodes.json").get_json()["tiles"][0]
        path = "/" + template.split("://", 1)[1].split("/", 1)[1]
        tile = b.get(path.format(z=14, x=9011, y=4814))
        assert tile.status_code == 200
        assert tile.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert took <= TTL + 1.0
