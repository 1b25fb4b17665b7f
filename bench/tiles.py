"""Tile benchmark: the service against the same tile SQL run directly, and (``--tipg``) TiPg.

Default: starts ``webmap serve`` (one worker, tile cache off, so every request renders) over the
database in ``WEBMAP_DATABASE_URL`` (sample data loaded), requests a fixed list of tiles z5–z16
over four places, of the composite basemap and of three single layers, runs the identical
statements through psycopg, and prints per-zoom medians and the ratio service / raw SQL; then
the same tiles from a second server with the cache on.

``--tipg``: the same single-layer tiles, the same tables, side by side with TiPg (started from
the virtualenv ``--tipg-venv``, ``pip install tipg uvicorn`` there, never in this project's):

- one client: p50 of the service (uncached), raw SQL and TiPg, and the ratios;
- 8 and 32 closed-loop clients (bench/loadgen.py) for ``--seconds`` each: requests/s of the
  service (uncached, 2 workers × 4 threads) and of TiPg (uvicorn, 2 workers);
- the production entry point (nginx in front of the app server, ``webmap serve --proxy``) with
  its caches warm: p50 at one client, requests/s at 32 clients, against TiPg's uncached.

``--ab granian:fast,gunicorn:flask,…`` [``--nginx``]: an interleaved A/B of app servers (granian
or gunicorn) with the tile fast path or every tile through Flask (``WEBMAP_TILE_FAST_PATH``),
uncached, one worker each, alone or behind nginx (``SERVER:PATH=TEMPLATE`` for another nginx
template; ``…@TREE`` runs another checkout's code, e.g. a worktree of the previous commit): each
tile is asked of every server in turn and run as raw SQL, so load from elsewhere on the machine
falls on all alike; p50 per zoom band and the ratio to raw SQL (psycopg's ``execute``), and to
"lean SQL" (the statement run as the service runs it, tiles/lean_sql.py). ``--client raw`` (or
``both``) asks with a minimal HTTP client instead of (or as well as) ``http.client``.

``--floor``: where an uncached tile's time goes: hello-world apps (bench/hello_apps.py) under
granian over WSGI, RSGI and RSGI handing off to a thread, a cached and an uncached tile, each
with ``http.client`` and the raw client, and the statements, interleaved.

TiPg has no overview columns: it reads the full ``geom`` at every zoom, so its low-zoom tiles
are bigger and slower for reasons other than overhead. The throughput runs therefore use z13–z16,
where both read ``geom``; the one-client table shows every zoom and each side's tile sizes.

    .venv/bin/python bench/tiles.py [--rounds 5]
    .venv/bin/python bench/tiles.py --tipg [--tipg-venv /tmp/tipg-venv] [--seconds 10]
    .venv/bin/python bench/tiles.py --ab gunicorn:flask,granian:fast [--nginx] [--rounds 5]
    .venv/bin/python bench/tiles.py --floor [--rounds 5]
    .venv/bin/python bench/tiles.py --ab granian:fast@/path/to/old-worktree,granian:fast \\
        [--client http.client|raw|both]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the
# project's ``tiles`` package; drop the folder so the real package is imported.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import asyncio
import contextlib
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import morecantile
import psycopg

from layers.catalog import load_catalog
from tiles.lean_sql import fetch_row
from tiles.mvt import TileOptions, tile_query
from tiles.tilesets import BASEMAP, Tileset, resolve_tileset

sys.path.insert(0, str(HERE))
from loadgen import run_load, summarise

TMS = morecantile.tms.get("WebMercatorQuad")
PLACES = {
    "Stockholm Östermalm": (18.0705, 59.3382),
    "Stockholm Söder": (18.07, 59.315),
    "Sundsvall": (17.3063, 62.3908),
    "Göteborg": (11.9746, 57.7089),
}
#: Single-layer tilesets compared: polygons (all zooms), lines (z10+), small polygons (z13+).
SINGLE_LAYERS = ("municipalities", "roads", "buildings")


def tile_list() -> list[morecantile.Tile]:
    """Each zoom 5–16 over each place: the tiles a citizen's phone would ask for first."""
    tiles = []
    for zoom in range(5, 17):
        for lon, lat in PLACES.values():
            tiles.append(TMS.tile(lon, lat, zoom))
    return list(dict.fromkeys(tiles))


@dataclass(frozen=True)
class Case:
    """One tile of one tileset, with its webmap and TiPg paths and its raw statement."""

    tileset: Tileset
    tile: morecantile.Tile
    query: bytes
    params: dict[str, float]

    @property
    def path(self) -> str:
        t = self.tile
        return f"/tiles/{self.tileset.name}/{t.z}/{t.x}/{t.y}.mvt?v={self.tileset.version}"

    @property
    def tipg_path(self) -> str:
        (source,) = self.tileset.sources
        t, table = self.tile, f"layerdata.{source.layer.table_name}"
        fields = ",".join(source.attributes)
        return (
            f"/collections/{table}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}"
            f"?geom-column=geom&properties={fields}"
        )


def cases(catalog: dict[str, Any], names: Sequence[str]) -> list[Case]:
    """The tile list for each tileset in ``names``, within each one's zoom range."""
    found = []
    for name in names:
        tileset = resolve_tileset(name, catalog)
        for tile in tile_list():
            sources = tileset.sources_at(tile.z)
            if sources:
                query, params = tile_query(sources, tile, TileOptions())
                found.append(Case(tileset, tile, query, params))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{base}: the server did not start")
        try:
            urllib.request.urlopen(f"{base}{path}", timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{base}{path} did not answer")


def fetch(connection: http.client.HTTPConnection | RawClient, path: str) -> tuple[float, int]:
    """One request on a kept-alive connection, as a browser makes them."""
    if isinstance(connection, RawClient):
        return connection.fetch(path)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")
    return time.perf_counter() - started, len(body)


class RawClient:
    """A minimal kept-alive HTTP/1.1 client (``--client raw``): pre-built request bytes, the
    answer read up to its ``Content-Length``. ``http.client`` parses every header line in pure
    Python (some tens of microseconds per request); this measures the server rather than the
    client, as psycopg's C-accelerated client does for raw SQL."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._sock = self._connect()
        self._requests: dict[str, bytes] = {}
        self._buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self._port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _receive(self) -> bytes:
        data = self._sock.recv(65536)
        if not data:  # the server closed the kept-alive connection (its idle or request limit)
            raise ConnectionResetError("closed by the server")
        return data

    def fetch(self, path: str) -> tuple[float, int]:
        try:
            return self._fetch(path)
        except ConnectionResetError:  # as http.client does: a new connection, asked again
            self._sock.close()
            self._sock, self._buffer = self._connect(), b""
            return self._fetch(path)

    def _fetch(self, path: str) -> tuple[float, int]:
        request = self._requests.get(path)
        if request is None:
            request = self._requests[path] = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n"
            ).encode()
        started = time.perf_counter()
        self._sock.sendall(request)
        data = self._buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._receive()
        head = data[:end].lower()
        at = head.find(b"\r\ncontent-length:") + 17
        stop = head.find(b"\r\n", at)
        length = int(head[at : stop if stop > 0 else None])
        total = end + 4 + length
        while len(data) < total:
            data += self._receive()
        elapsed = time.perf_counter() - started
        self._buffer = data[total:]
        if not head.startswith(b"http/1.1 200"):
            raise SystemExit(f"{path}: {head[:40]!r}")
        return elapsed, length

    def close(self) -> None:
        self._sock.close()


#: The process started on each port (its app server's master), for :func:`tree_cpu_seconds`.
STARTED: dict[int, int] = {}


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds used so far by ``pid`` and its descendants (Linux /proc):
    a server's own cost per request, far less sensitive to a busy host than wall-clock time."""
    children: dict[int, list[int]] = defaultdict(list)
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children[int(fields[1])].append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        todo += children.get(current, [])
    return total / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _process(command: list[str], env: dict[str, str], ready: str) -> Iterator[int]:
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    # Errors to a file, not a pipe nobody reads (a full pipe would stall the server).
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            try:
                wait_until_up(f"http://127.0.0.1:{port}", server, ready)
            except SystemExit:
                log.seek(0)
                sys.stderr.write(log.read()[-3000:].decode(errors="replace"))
                raise
            STARTED[port] = server.pid
            yield port
        finally:
            STARTED.pop(port, None)
            server.terminate()
            server.wait(20)


def running_service(
    database_url: str,
    cache_bytes: int,
    workers: int = 1,
    server: str = "granian",
    fast_path: bool = True,
    tree: str = "",
) -> Any:
    """``webmap serve`` (``server``: granian or gunicorn, 4 threads per worker) on a free port;
    yields the port. ``fast_path``: WEBMAP_TILE_FAST_PATH; ``tree``: run another checkout's
    code (its folder first on ``PYTHONPATH``, and ``PYTHONSAFEPATH`` so that the current folder
    does not come before it), e.g. a worktree of the previous commit."""
    env = dict(
        os.environ,
        **({"PYTHONPATH": tree, "PYTHONSAFEPATH": "1"} if tree else {}),
        WEBMAP_DATABASE_URL=database_url,
        WEBMAP_TILE_CACHE_BYTES=str(cache_bytes),
        WEBMAP_PRERENDER="false",  # every request renders: this measures rendering
        WEBMAP_TILE_FAST_PATH=str(fast_path).lower(),
    )
    command = [sys.executable, "-m", "webmap.cli", "serve", "--port", "{port}"]
    command += ["--workers", str(workers), "--server", server]
    return _process(command, env, "/healthz")


def running_tipg(database_url: str, venv: Path, workers: int = 1) -> Any:
    """TiPg under uvicorn over the same database, serving the ``layerdata`` schema."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        TIPG_DB_SCHEMAS='["layerdata"]',
        TIPG_TILE_BUFFER=str(TileOptions().buffer),  # the same buffer as webmap's tiles
        TIPG_MAX_FEATURES_PER_TILE=str(TileOptions().max_features),
        TIPG_CATALOG_TTL="3600",
    )
    command = [str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", "{port}"]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    return _process(command, env, "/collections")


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Children started inside write their stdout (the app server's access log) to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1e3


def one_client(port: int, paths: Sequence[str], rounds: int) -> dict[str, list[float]]:
    """Each path ``rounds`` times on one kept-alive connection (after one warming pass)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for path in paths:
        fetch(client, path)
    seconds: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for path in paths:
            seconds[path].append(fetch(client, path)[0])
    client.close()
    return seconds


def sizes(port: int, paths: Sequence[str]) -> dict[str, int]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    return {path: fetch(client, path)[1] for path in paths}


def raw_sql(database_url: str, work: Sequence[Case], rounds: int) -> dict[str, list[float]]:
    """The identical statements over psycopg, with the service pool's session settings."""
    seconds: dict[str, list[float]] = defaultdict(list)
    with psycopg.connect(database_url, autocommit=True, options="-c jit=off") as conn:
        for case in work:
            conn.execute(case.query, case.params).fetchone()
        for _ in range(rounds):
            for case in work:
                started = time.perf_counter()
                conn.execute(case.query, case.params).fetchone()
                seconds[case.path].append(time.perf_counter() - started)
    return seconds


def load(port: int, paths: Sequence[str], clients: int, seconds: float) -> tuple[float, float]:
    """Requests per second and p50 (ms) of ``clients`` closed-loop clients; non-200s fail."""
    asyncio.run(run_load(port, paths, min(clients, 4), 1.0))  # warm connections and pools
    recording = asyncio.run(run_load(port, paths, clients, seconds))
    summary = summarise(recording.answers)
    if summary.non_2xx:
        raise SystemExit(f"port {port}: {summary.statuses()}")
    return summary.requests / seconds, summary.p50_ms


def default_mode(database_url: str, rounds: int) -> None:
    with psycopg.connect(database_url) as conn:
        catalog = load_catalog(conn)
    groups = {BASEMAP: cases(catalog, [BASEMAP]), "single": cases(catalog, SINGLE_LAYERS)}
    every = [c for group in groups.values() for c in group]
    paths = [c.path for c in every]
    with running_service(database_url, cache_bytes=0) as port:
        service = one_client(port, paths, rounds)
        largest = max((size, path) for path, size in sizes(port, paths).items())
    raw = raw_sql(database_url, every, rounds)
    with running_service(database_url, cache_bytes=64 * 1024 * 1024) as port:
        cached = one_client(port, paths, rounds)
    print(f"{rounds} rounds, 1 app server worker (granian), kept-alive connection, p50 per zoom")
    for name, group in groups.items():
        label = (
            "basemap (composite)"
            if name == BASEMAP
            else "single layers: " + ", ".join(SINGLE_LAYERS)
        )
        print(f"\n{label}: {len(group)} tiles")
        print(f"{'zoom':>4} {'uncached ms':>12} {'raw SQL ms':>11} {'ratio':>6} {'cached ms':>10}")
        zooms = sorted({c.tile.z for c in group})
        for zoom in [*zooms, None]:
            chosen = [c.path for c in group if zoom is None or c.tile.z == zoom]
            s = median_ms([t for p in chosen for t in service[p]])
            r = median_ms([t for p in chosen for t in raw[p]])
            c = median_ms([t for p in chosen for t in cached[p]])
            print(
                f"{zoom if zoom is not None else 'all':>4} {s:>12.2f} {r:>11.2f} {s / r:>6.2f} "
                f"{c:>10.2f}"
            )
    print(f"\nlargest tile: {largest[0] / 1024:.1f} KB at {largest[1]}")


def tipg_mode(database_url: str, venv: Path, rounds: int, seconds: float) -> None:
    if not (venv / "bin" / "uvicorn").exists():
        raise SystemExit(
            f"no TiPg in {venv}: python -m venv {venv} && {venv}/bin/pip install tipg uvicorn"
        )
    with psycopg.connect(database_url) as conn:
        work = cases(load_catalog(conn), SINGLE_LAYERS)
    mine, theirs = [c.path for c in work], [c.tipg_path for c in work]
    with running_service(database_url, cache_bytes=0) as port:
        service = one_client(port, mine, rounds)
        service_sizes = sizes(port, mine)
    raw = raw_sql(database_url, work, rounds)
    with running_tipg(database_url, venv) as port:
        tipg = one_client(port, theirs, rounds)
        tipg_sizes = sizes(port, theirs)
    print(
        f"Single-layer tiles ({', '.join(SINGLE_LAYERS)}), {len(work)} tiles z5–z16, "
        f"{rounds} rounds, one client on a kept-alive connection, one server process each"
    )
    print(
        f"{'zooms':>7} {'webmap ms':>10} {'raw SQL':>8} {'TiPg ms':>8} {'webmap/raw':>11} "
        f"{'TiPg/webmap':>12} {'KB webmap':>10} {'KB TiPg':>8}"
    )
    for label, low, high in (("5-8", 5, 8), ("9-12", 9, 12), ("13-16", 13, 16), ("all", 0, 99)):
        chosen = [c for c in work if low <= c.tile.z <= high]
        s = median_ms([t for c in chosen for t in service[c.path]])
        r = median_ms([t for c in chosen for t in raw[c.path]])
        g = median_ms([t for c in chosen for t in tipg[c.tipg_path]])
        kb = statistics.median(service_sizes[c.path] for c in chosen) / 1024
        tkb = statistics.median(tipg_sizes[c.tipg_path] for c in chosen) / 1024
        print(
            f"{label:>7} {s:>10.2f} {r:>8.2f} {g:>8.2f} {s / r:>11.2f} {g / s:>12.2f} "
            f"{kb:>10.1f} {tkb:>8.1f}"
        )

    deep = [c for c in work if c.tile.z >= 13]  # both read the full geometry here
    mine, theirs = [c.path for c in deep], [c.tipg_path for c in deep]
    print(
        f"\nThroughput, {len(deep)} tiles z13–z16, closed-loop clients, {seconds:.0f} s each "
        "(the load generator shares the 2 cores)"
    )
    print(
        f"{'clients':>7} {'webmap req/s':>13} {'p50 ms':>7} {'TiPg req/s':>11} {'p50 ms':>7} "
        f"{'webmap/TiPg':>12}"
    )
    tipg_32 = 0.0
    with running_service(database_url, cache_bytes=0, workers=2) as port:
        ours = {n: load(port, mine, n, seconds) for n in (8, 32)}
    with running_tipg(database_url, venv, workers=2) as port:
        others = {n: load(port, theirs, n, seconds) for n in (8, 32)}
    for n in (8, 32):
        (a, ap), (b, bp) = ours[n], others[n]
        tipg_32 = b
        print(f"{n:>7} {a:>13.0f} {ap:>7.2f} {b:>11.0f} {bp:>7.2f} {a / b:>12.2f}")

    print("\nProduction entry point (nginx + granian 2 × 4, webmap serve --proxy), caches warm")
    from webmap.cli.production import ProductionServer

    runtime = Path(tempfile.mkdtemp(prefix="webmap-bench-"))
    env = {"WEBMAP_DATABASE_URL": database_url, "WEBMAP_PRERENDER": "false"}
    server = ProductionServer(port=free_port(), runtime_dir=runtime, env=env)
    try:
        with quiet_stdout(), server:
            cached = one_client(server.port, mine, rounds)
            rate, p50 = load(server.port, mine, 32, seconds)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    p50_one = median_ms([t for p in mine for t in cached[p]])
    print(
        f"one client p50 {p50_one:.2f} ms; 32 clients {rate:.0f} req/s (p50 {p50:.2f} ms) = "
        f"{rate / tipg_32:.1f} × TiPg's uncached {tipg_32:.0f} req/s"
    )


@dataclass(frozen=True)
class Variant:
    """One server of an A/B run: ``server`` (granian or gunicorn), Flask or the fast path."""

    server: str
    fast_path: bool
    template: str = ""  # behind nginx: this template instead of deploy/'s
    tree: str = ""  # another checkout's code (e.g. the previous commit's worktree)

    @property
    def label(self) -> str:
        label = f"{self.server}+{'fast' if self.fast_path else 'flask'}"
        if self.template:
            label += f"+{Path(self.template).stem}"
        return f"{label}@{Path(self.tree).name}" if self.tree else label

    @classmethod
    def parse(cls, text: str) -> Variant:
        text, _, tree = text.partition("@")
        spec, _, template = text.partition("=")
        server, _, path = spec.partition(":")
        if server not in ("granian", "gunicorn") or path not in ("fast", "flask"):
            raise SystemExit(
                f"--ab: {text!r} is not SERVER:PATH[=TEMPLATE][@TREE] (granian|gunicorn:fast|flask)"
            )
        return cls(server, path == "fast", template, tree)


@contextlib.contextmanager
def running_variant(database_url: str, variant: Variant, nginx: bool) -> Iterator[int]:
    """One uncached server of ``variant`` (one worker), alone or behind nginx; yields its port."""
    if not nginx:
        with running_service(
            database_url, 0, server=variant.server, fast_path=variant.fast_path, tree=variant.tree
        ) as port:
            yield port
        return
    from webmap.cli.production import ProductionServer

    runtime = Path(tempfile.mkdtemp(prefix="webmap-bench-"))
    env = {
        "WEBMAP_DATABASE_URL": database_url,
        "WEBMAP_PRERENDER": "false",
        "WEBMAP_TILE_CACHE_BYTES": "0",
        "WEBMAP_TILE_FAST_PATH": str(variant.fast_path).lower(),
        **({"PYTHONPATH": variant.tree, "PYTHONSAFEPATH": "1"} if variant.tree else {}),
    }
    from webmap.cli.nginx_config import TEMPLATE

    server = ProductionServer(
        port=free_port(),
        runtime_dir=runtime,
        env=env,
        workers=1,
        app_server=variant.server,
        template=Path(variant.template) if variant.template else TEMPLATE,
    )
    try:
        with quiet_stdout(), server:
            if server.app_process is not None:  # the app server, not nginx
                STARTED[server.port] = server.app_process.pid
            yield server.port
    finally:
        STARTED.pop(server.port, None)
        shutil.rmtree(runtime, ignore_errors=True)


def sql_order(case: Case) -> tuple[str, str]:
    """The order in which a case's statement runs through psycopg ("raw SQL") and as the
    service runs it ("lean SQL"): alternating by tile, so neither is always the one that runs
    right after the HTTP requests, when the database and the CPU caches are coldest."""
    first = (case.tile.x + case.tile.y + case.tile.z) % 2 == 0
    return ("raw SQL", "lean SQL") if first else ("lean SQL", "raw SQL")


def ab_mode(
    database_url: str, variants: Sequence[Variant], rounds: int, nginx: bool, client: str
) -> None:
    """Interleaved A/B: each tile asked of every variant in turn, then run as raw SQL, so load
    from elsewhere on the machine falls on all of them alike.

    ``client``: ``http.client`` (the standard library's, headers parsed in Python), ``raw``
    (:class:`RawClient`) or ``both`` (every server asked with each). The SQL side runs each
    statement twice: "raw SQL" through psycopg's ``execute`` (the comparison issue 11 §2 and
    the README have used), "lean SQL" through :func:`tiles.lean_sql.fetch_row`, the way the
    service itself now runs it, so neither side is given a client the other lacks."""
    with psycopg.connect(database_url) as conn:
        work = cases(load_catalog(conn), SINGLE_LAYERS)
    # Behind nginx: unversioned URLs (cached a minute by browsers, never stored by nginx), so
    # every request reaches the app and renders.
    paths = {c.path: c.path.split("?")[0] if nginx else c.path for c in work}
    kinds = ("http.client", "raw") if client == "both" else (client,)
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        clients: dict[str, http.client.HTTPConnection | RawClient] = {}
        pids: dict[str, int] = {}
        for v in variants:
            port = stack.enter_context(running_variant(database_url, v, nginx))
            if port in STARTED:
                pids[v.label] = STARTED[port]
            for kind in kinds:
                label = v.label if kind == "http.client" else f"{v.label} raw"
                clients[label] = (
                    http.client.HTTPConnection("127.0.0.1", port, 60)
                    if kind == "http.client"
                    else RawClient(port)
                )
        sql = stack.enter_context(
            psycopg.connect(database_url, autocommit=True, options="-c jit=off")
        )
        lean_conn = stack.enter_context(
            psycopg.connect(database_url, autocommit=True, options="-c jit=off")
        )

        def raw(case: Case) -> float:
            started = time.perf_counter()
            sql.execute(case.query, case.params).fetchone()
            return time.perf_counter() - started

        def lean(case: Case) -> float:
            started = time.perf_counter()
            fetch_row(lean_conn, case.query, case.params)
            return time.perf_counter() - started

        for case in work:  # warm: connections, prepared statements, the catalog
            for connection in clients.values():
                fetch(connection, paths[case.path])
            raw(case)
            lean(case)
        seconds: dict[str, dict[str, list[float]]] = {n: defaultdict(list) for n in clients}
        seconds["raw SQL"] = defaultdict(list)
        seconds["lean SQL"] = defaultdict(list)
        cpu_before = {label: tree_cpu_seconds(pid) for label, pid in pids.items()}
        for _ in range(rounds):
            for case in work:
                for name, connection in clients.items():
                    seconds[name][case.path].append(fetch(connection, paths[case.path])[0])
                for kind in sql_order(case):  # alternating: the first waits for a wake-up
                    seconds[kind][case.path].append(raw(case) if kind == "raw SQL" else lean(case))
        cpu = {
            label: (tree_cpu_seconds(pid) - cpu_before[label]) / (rounds * len(work) * len(kinds))
            for label, pid in pids.items()
        }
    load_after = os.getloadavg()
    where = "behind nginx (webmap serve --proxy)" if nginx else "alone on a TCP port"
    print(
        f"Interleaved A/B: single-layer tiles ({', '.join(SINGLE_LAYERS)}), {len(work)} tiles "
        f"z5–z16 × {rounds} rounds, uncached, one client each, one worker {where}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    names = list(seconds)
    width = max(22, *(len(n) for n in names))
    print(f"{'zooms':>7} " + " ".join(f"{n:>{width}}" for n in names))
    for label, low, high in (("5-8", 5, 8), ("9-12", 9, 12), ("13-16", 13, 16), ("all", 0, 99)):
        chosen = [c.path for c in work if low <= c.tile.z <= high]
        r = median_ms([t for p in chosen for t in seconds["raw SQL"][p]])
        cells = []
        for name in names:
            ms = median_ms([t for p in chosen for t in seconds[name][p]])
            cells.append(
                f"{ms:>8.2f} ms ({ms / r:>5.2f}×)" if name != "raw SQL" else f"{ms:>8.2f} ms"
            )
        print(f"{label:>7} " + " ".join(f"{c:>{width}}" for c in cells))
    print("(× = p50 over raw SQL's p50 for the same tiles; the aim is ≤ 1.5×)")
    if cpu:
        print(
            "app server CPU per request (user + system, the server's processes): "
            + ", ".join(f"{label} {seconds_ * 1e3:.3f} ms" for label, seconds_ in cpu.items())
        )
    every = [c.path for c in work]
    floor = median_ms([t for p in every for t in seconds["lean SQL"][p]])
    print(
        "all tiles over lean SQL's p50: "
        + ", ".join(
            f"{n} {median_ms([t for p in every for t in seconds[n][p]]) / floor:.2f}×"
            for n in names
            if n != "lean SQL"
        )
    )


@contextlib.contextmanager
def running_hello(interface: str, target: str) -> Iterator[int]:
    """A hello world of bench/hello_apps.py under granian (one worker, no logging)."""
    command = [sys.executable, "-m", "granian", "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--workers", "1", "--runtime-mode", "st", "--no-ws", "--no-log"]
    command += ["--blocking-threads", "4"] if interface == "wsgi" else []  # RSGI allows only 1
    command += ["--interface", interface, f"hello_apps:{target}"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    with _process(command, env, "/") as port:
        yield port


def floor_mode(database_url: str, rounds: int) -> None:
    """Where an uncached tile's time goes: hello worlds under granian (WSGI, RSGI, RSGI with a
    thread), a cached and an uncached tile, each asked with http.client and the raw client,
    interleaved with the statement through psycopg and as the service runs it (z9–z16)."""
    with psycopg.connect(database_url) as conn:
        work = [c for c in cases(load_catalog(conn), SINGLE_LAYERS) if c.tile.z >= 9]
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        servers = {
            "hello WSGI": stack.enter_context(running_hello("wsgi", "wsgi")),
            "hello RSGI": stack.enter_context(running_hello("rsgi", "rsgi")),
            "hello RSGI + thread": stack.enter_context(running_hello("rsgi", "rsgi_thread")),
            "tile, cached": stack.enter_context(running_service(database_url, 64 << 20)),
            "tile, uncached": stack.enter_context(running_service(database_url, 0)),
        }
        clients: dict[str, tuple[http.client.HTTPConnection | RawClient, bool]] = {}
        for name, port in servers.items():
            tile = name.startswith("tile")
            clients[f"{name}, http.client"] = (http.client.HTTPConnection("127.0.0.1", port), tile)
            clients[f"{name}, raw client"] = (RawClient(port), tile)
        sql = stack.enter_context(
            psycopg.connect(database_url, autocommit=True, options="-c jit=off")
        )
        seconds: dict[str, list[float]] = defaultdict(list)
        for kind in ("raw SQL", "lean SQL"):
            seconds[kind] = []
        for round_ in range(rounds + 1):  # the first warms
            for case in work:
                for name, (connection, tile) in clients.items():
                    elapsed = fetch(connection, case.path if tile else "/")[0]
                    if round_:
                        seconds[name].append(elapsed)
                for kind in sql_order(case):  # which runs first alternates: the first waits
                    started = time.perf_counter()  # for the backend to wake, the second not
                    if kind == "raw SQL":
                        sql.execute(case.query, case.params).fetchone()
                    else:
                        fetch_row(sql, case.query, case.params)
                    if round_:
                        seconds[kind].append(time.perf_counter() - started)
    load_after = os.getloadavg()
    print(
        f"{len(work)} single-layer tiles z9–z16 × {rounds} rounds, interleaved, one granian worker "
        f"each; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    for name, values in seconds.items():
        print(f"{name:>40} p50 {median_ms(values):6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tipg", action="store_true", help="side by side with TiPg")
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    parser.add_argument("--seconds", type=float, default=10.0, help="each throughput run")
    parser.add_argument(
        "--ab",
        help="interleaved A/B of servers, e.g. gunicorn:flask,gunicorn:fast,granian:fast; "
        "with --nginx, SERVER:PATH=TEMPLATE puts one behind another nginx template",
    )
    parser.add_argument("--nginx", action="store_true", help="--ab behind nginx")
    parser.add_argument(
        "--floor", action="store_true", help="hello worlds under granian against the tile route"
    )
    parser.add_argument(
        "--client",
        choices=("http.client", "raw", "both"),
        default="http.client",
        help="--ab: the HTTP client (raw: pre-built requests, Content-Length read; both: each)",
    )
    args = parser.parse_args()
    database_url = os.environ.get(
        "WEBMAP_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/webmap"
    )
    if args.floor:
        floor_mode(database_url, args.rounds)
    elif args.ab:
        variants = [Variant.parse(part) for part in args.ab.split(",")]
        ab_mode(database_url, variants, args.rounds, args.nginx, args.client)
    elif args.tipg:
        tipg_mode(database_url, args.tipg_venv, args.rounds, args.seconds)
    else:
        default_mode(database_url, args.rounds)


if __name__ == "__main__":
    main()
