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
import contextlib
import http.client
import os
import socket
import statistics
import subprocess
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator

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


@contextlib.contextmanager
def running_service(database_url: str, cache_bytes: int) -> Iterator[int]:
    """``webmap serve`` with one worker on a free port; yields the port."""
    port = free_port()
    env = dict(
        os.environ, WEBMAP_DATABASE_URL=database_url, WEBMAP_TILE_CACHE_BYTES=str(cache_bytes)
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "webmap.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    database_url = os.environ.get(
        "WEBMAP_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/webmap"
    )
    service: dict[int, list[float]] = defaultdict(list)
    raw: dict[int, list[float]] = defaultdict(list)
    cached: dict[int, list[float]] = defaultdict(list)
    largest: tuple[int, morecantile.Tile | None] = (0, None)
    # The same session settings as the service's pool, so only the HTTP path differs.
    with psycopg.connect(database_url, autocommit=True, options="-c jit=off") as conn:
        tileset = resolve_tileset(BASEMAP, load_catalog(conn))
        tiles = tile_list()
        paths = {t: f"/tiles/basemap/{t.z}/{t.x}/{t.y}.mvt?v={tileset.version}" for t in tiles}
        with running_service(database_url, cache_bytes=0) as port:
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for tile in tiles:  # warm both paths once
                fetch(client, paths[tile])
            for _ in range(args.rounds):
                for tile in tiles:
                    seconds, size = fetch(client, paths[tile])
                    service[tile.z].append(seconds)
                    if size > largest[0]:
                        largest = (size, tile)
                    query, params = tile_query(tileset.sources_at(tile.z), tile, TileOptions())
                    started = time.perf_counter()
                    conn.execute(query, params).fetchone()
                    raw[tile.z].append(time.perf_counter() - started)
    with running_service(database_url, cache_bytes=64 * 1024 * 1024) as port:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for tile in tiles:  # fill the cache
            fetch(client, paths[tile])
        for _ in range(args.rounds):
            for tile in tiles:
                cached[tile.z].append(fetch(client, paths[tile])[0])
    print(f"{len(tiles)} tiles x {args.rounds} rounds, 1 gunicorn worker, kept-alive connection")
    print(f"{'zoom':>4} {'uncached ms':>12} {'raw SQL ms':>11} {'ratio':>6} {'cached ms':>10}")
    for zoom in sorted(service):
        s, r, c = median_ms(service[zoom]), median_ms(raw[zoom]), median_ms(cached[zoom])
        print(f"{zoom:>4} {s:>12.2f} {r:>11.2f} {s / r:>6.2f} {c:>10.2f}")
    every = [t for ts in service.values() for t in ts]
    every_raw = [t for ts in raw.values() for t in ts]
    every_cached = [t for ts in cached.values() for t in ts]
    s, r, c = median_ms(every), median_ms(every_raw), median_ms(every_cached)
    print(f" all {s:>12.2f} {r:>11.2f} {s / r:>6.2f} {c:>10.2f}")
    print(f"largest tile: {largest[0] / 1024:.1f} KB at {largest[1]}")


if __name__ == "__main__":
    main()
