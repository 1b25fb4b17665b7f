"""Tile benchmark: the running service against the same tile SQL run directly in PostgreSQL.

Starts ``webmap serve`` (tile cache off, so every request renders) on a free port over the
database in ``WEBMAP_DATABASE_URL`` (sample data loaded), requests a fixed list of tiles z5–z16
over Stockholm and Sweden through HTTP, runs the identical statement through psycopg, and prints
per-zoom medians, the largest tile and the ratio service / raw SQL.

    .venv/bin/python bench/tiles.py [--rounds 5]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the
# project's ``tiles`` package; drop the folder so the real package is imported.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import time
import urllib.request
from collections import defaultdict

import morecantile
import psycopg

from layers.catalog import load_catalog
from tiles.mvt import TileOptions, tile_query
from tiles.tilesets import BASEMAP, resolve_tileset

TMS = morecantile.tms.get("WebMercatorQuad")
PLACES = {
    "Stockholm Östermalm": (18.0705, 59.3382),
    "Stockholm Söder": (18.07, 59.315),
    "Sundsvall": (17.3063, 62.3908),
    "Göteborg": (11.9746, 57.7089),
}


def tile_list() -> list[morecantile.Tile]:
    """Each zoom 5–16 over each place: the tiles a citizen's phone would ask for first."""
    tiles = []
    for zoom in range(5, 17):
        for lon, lat in PLACES.values():
            tiles.append(TMS.tile(lon, lat, zoom))
    return list(dict.fromkeys(tiles))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise SystemExit("the service did not start")
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the service did not answer /healthz")


def fetch(connection: http.client.HTTPConnection, path: str) -> tuple[float, int]:
    """One request on a kept-alive connection, as a browser makes them."""
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")
    return time.perf_counter() - started, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    database_url = os.environ.get(
        "WEBMAP_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/webmap"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, WEBMAP_DATABASE_URL=database_url, WEBMAP_TILE_CACHE_BYTES="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "webmap.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base, server)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # The same session settings as the service's pool, so only the HTTP path differs.
        with psycopg.connect(database_url, autocommit=True, options="-c jit=off") as conn:
            tileset = resolve_tileset(BASEMAP, load_catalog(conn))
            tiles = tile_list()
            service: dict[int, list[float]] = defaultdict(list)
            raw: dict[int, list[float]] = defaultdict(list)
            largest = (0, None)
            for tile in tiles:  # warm both paths once
                fetch(client, f"/tiles/basemap/{tile.z}/{tile.x}/{tile.y}.mvt?v={tileset.version}")
            for _ in range(args.rounds):
                for tile in tiles:
                    path = f"/tiles/basemap/{tile.z}/{tile.x}/{tile.y}.mvt?v={tileset.version}"
                    seconds, size = fetch(client, path)
                    service[tile.z].append(seconds)
                    largest = max(largest, (size, tile), key=lambda item: item[0])
                    sources = tileset.sources_at(tile.z)
                    query, params = tile_query(sources, tile, TileOptions())
                    started = time.perf_counter()
                    conn.execute(query, params).fetchone()
                    raw[tile.z].append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(10)
    print(f"{len(tiles)} tiles x {args.rounds} rounds, cache off, 1 gunicorn worker")
    print(f"{'zoom':>4} {'service ms':>11} {'raw SQL ms':>11} {'ratio':>6}")
    for zoom in sorted(service):
        s, r = statistics.median(service[zoom]) * 1e3, statistics.median(raw[zoom]) * 1e3
        print(f"{zoom:>4} {s:>11.2f} {r:>11.2f} {s / r:>6.2f}")
    total_s = statistics.median([t for ts in service.values() for t in ts]) * 1e3
    total_r = statistics.median([t for ts in raw.values() for t in ts]) * 1e3
    print(f" all {total_s:>11.2f} {total_r:>11.2f} {total_s / total_r:>6.2f}")
    print(f"largest tile: {largest[0] / 1024:.1f} KB at {largest[1]}")


if __name__ == "__main__":
    main()
