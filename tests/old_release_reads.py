"""The read paths of whatever ``webmap`` is first on ``PYTHONPATH``, against one database.

Run by tests/test_upgrade_compat.py with ``PYTHONPATH`` pointing at a checkout of the previous
release, so *that* release's code reads a schema the current code has upgraded (the rolling
upgrade in docs/operations.md). Usage: ``python old_release_reads.py DATABASE_URL LAYER``.
It prints one JSON object of what each path answered; the test judges it. Only the standard
library, the old tree and the venv's third-party packages are imported here.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from typing import Any


def _tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The Web Mercator tile holding a point (the slippy-map formula, independent of webmap)."""
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def main(database_url: str, layer: str) -> dict[str, Any]:
    import mapbox_vector_tile

    import webmap
    from webmap import create_app

    app = create_app({"database_url": database_url, "catalog_ttl": 0, "pool_min_size": 0})
    app.config["TESTING"] = True
    client = app.test_client()
    out: dict[str, Any] = {"webmap_file": webmap.__file__}

    health = client.get("/healthz")
    out["healthz"] = {"status": health.status_code, "body": health.get_json(silent=True)}

    tilejson = client.get(f"/tiles/{layer}.json")
    doc = tilejson.get_json(silent=True) or {}
    out["tilejson"] = {"status": tilejson.status_code, "tiles": doc.get("tiles", [])}

    search = client.get("/api/search", query_string={"q": "Grev Turegatan 3"})
    found = (search.get_json(silent=True) or {}).get("features", [])
    out["search"] = {
        "status": search.status_code,
        "labels": [f["properties"].get("label") for f in found],
    }

    if found:
        lon, lat = found[0]["geometry"]["coordinates"]
        reverse = client.get("/api/reverse", query_string={"lon": lon, "lat": lat})
        body = reverse.get_json(silent=True) or {}
        out["reverse"] = {
            "status": reverse.status_code,
            "address": (body.get("address") or {}).get("label"),
            "municipality": body.get("municipality"),
        }
        # The vector tile over the address found: a street runs past it.
        if doc.get("tiles"):
            x, y = _tile(lon, lat, 15)
            template = doc["tiles"][0].replace("http://localhost", "")
            path = template.replace("{z}", "15").replace("{x}", str(x)).replace("{y}", str(y))
            tile = client.get(path, headers={"Accept-Encoding": "gzip"})
            body = tile.data
            if tile.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            decoded = mapbox_vector_tile.decode(body) if tile.status_code == 200 else {}
            out["tile"] = {
                "status": tile.status_code,
                "layers": {name: len(data["features"]) for name, data in decoded.items()},
            }

    collections = client.get("/ogc/collections")
    ids = [c["id"] for c in (collections.get_json(silent=True) or {}).get("collections", [])]
    out["ogc_collections"] = {"status": collections.status_code, "ids": ids}
    items = client.get(f"/ogc/collections/{layer}/items", query_string={"limit": 5})
    out["ogc_items"] = {
        "status": items.status_code,
        "features": len((items.get_json(silent=True) or {}).get("features", [])),
    }
    app.extensions["webmap.pool"].close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
