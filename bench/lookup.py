"""Benchmark of address search and reverse lookup at ~53k and ~1M addresses.

Loads Malmö's address register (../shared/data/malmo/adresser.csv) into a scratch database, then
replicates it to about a million rows with plain INSERT … SELECT (shifted 30 km north per copy,
distinct municipality codes 9001…), and times the domain calls the HTTP handlers make
(``layers.lookup.search.search`` and ``reverse``) from this process: server-side, no HTTP.
Side by side, the same questions as naive SQL (a folded ``LIKE '%…%'`` scan, and nearest address
by ``ORDER BY ST_Distance``), with ratios.

Then, at about a million, the same queries over HTTP through the production entry point (nginx
in front of gunicorn, ``webmap serve --proxy``) from 32 closed-loop clients: p50/p95/p99 as the
clients see them, and every non-200 answer counted as an error.

    .venv/bin/python bench/lookup.py [--copies 18] [--rounds 5] [--clients 32] [--seconds 20]
    .venv/bin/python bench/lookup.py --reuse --database NAME --servers granian@/tmp/base,granian

``--servers NAME@DIR`` runs that entry point's app server from another checkout (say a worktree
of the commit before a change), so old and new code take turns under the same load.
    .venv/bin/python bench/lookup.py --properties 3000000 [--rounds 5] [--keep] [--again]
    .venv/bin/python bench/lookup.py --national [N] [--rounds 5] [--keep] [--again]

``--national`` generates a SYNTHETIC national address register in Lantmäteriet's format and
imports it with ``webmap addresses import`` (bench/national.py).

``--properties N`` instead measures property search and reverse lookup at N SYNTHETIC register
units (layers.lookup.synthetic_register: 100 m squares on a grid in southern Sweden, invented
designations "Provstad Björkberga 3:12"), built with ``generate_series`` into the register
import's stage table and swapped in by the real import (``swap_in``). Aim (issue 13 §3):
property search p95 ≤ 15 ms at 3 million, server-side, one client.

The million is synthetic: Malmö's register copied 19 times (same street names, shifted north).
Aims (issue 11 §5): one search is one statement; at 1M server-side p95 ≤ 10 ms on one client,
and p95 ≤ 100 ms at 32 clients through nginx and gunicorn with no errors. Reverse p95 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from layers.crs import LonLat
from layers.lookup.property_register import STAGE_DDL, swap_in
from layers.lookup.query import parse_query
from layers.lookup.readers import read_csv_addresses
from layers.lookup.records import ImportReport
from layers.lookup.reverse import reverse
from layers.lookup.search import SearchOptions, search
from layers.lookup.store import import_addresses, load_municipalities, lock_lookups, rebuild_streets
from layers.lookup.synthetic_register import (
    REGISTER_AREAS,
    SYNTHETIC_AREAS_SQL,
    TRAKT_ENDS,
    TRAKT_STARTS,
)

# The project, not bench/, first on the path: bench/tiles.py would shadow the tiles package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
from bench.loadgen import run_load
from webmap.cli.nginx_config import TEMPLATE
from webmap.cli.production import ProductionServer

PROJECT = Path(__file__).resolve().parent.parent
MALMO_CSV = PROJECT.parent / "shared" / "data" / "malmo" / "adresser.csv"
SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "webmap_bench_lookup"
# As the service's pool connects (webmap/db.py): JIT off, else a statement whose cost estimate
# crosses jit_above_cost at 1M rows spends hundreds of ms compiling, which the service never does.
JIT_OFF = "-c jit=off"
#: The property benchmark's own scratch database (it may run beside the address benchmark).
PROPERTY_DATABASE = "webmap_bench_properties"

#: Real prefixes a citizen types, 1 to 25 characters, typos and town/postcode included.
QUERIES: tuple[str, ...] = (
    "s", "ö", "st", "äl", "sto", "kung", "stor", "storg", "ystadv", "hyllie",
    "storgatan", "ågatan 4", "lundavägen", "törngatan 5", "alggatan 1", "stortorget 1",
    "storgatan 1, malmö", "älgatan 16b", "drotninggatan", "fersens väg 2",
    "regementsgatan 24", "amiralsgatan 1", "östra förstadsgatan 2", "nobelv. 10",
    "södra förstadsgatan 12a", "limhamnsvägen 10 216 12", "östra förstadsgatan 16a u",
)  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _through_nginx(url: str, clients: int, seconds: float, servers: list[str]) -> None:
    """The queries as /api/search requests from ``clients`` closed-loop clients via nginx.

    With several app servers (``servers``, e.g. granian and gunicorn) each runs behind its own
    nginx, all started at once, and the load alternates between them in slices of a few
    seconds, so what else the machine is doing falls on each alike (an A/B in one run).
    """
    paths = [f"/api/search?q={urllib.parse.quote(q)}" for q in QUERIES]
    paths += [p + "&near=13.0,55.6" for p in paths]
    runtimes = [Path(tempfile.mkdtemp(prefix="webmap-bench-lookup-")) for _ in servers]
    # NAME[=TEMPLATE][@TREE]: an app server, behind nginx with its own template if given (to
    # compare nginx configurations too, e.g. an older deploy/nginx/webmap.conf.template), and
    # running the code of another checkout if given (e.g. a worktree of an older commit).
    chosen = [_server_spec(spec) for spec in servers]
    log = runtimes[0].parent / f"{runtimes[0].name}.log"
    keep = os.dup(1)  # the servers and nginx inherit fds 1 and 2: their logs go to the file
    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    answers: dict[str, list[Any]] = {name: [] for name in servers}
    slices = max(1, round(seconds / 5))
    load_before = os.getloadavg()[0]
    try:
        with contextlib.ExitStack() as stack:
            running = [
                _start(stack, url, name, template, tree, runtime)
                for (name, template, tree), runtime in zip(chosen, runtimes, strict=True)
            ]
            for server in running:
                for path in paths:  # each worker's connections prepare their statements
                    with urllib.request.urlopen(server.base_url + path, timeout=30) as answer:
                        answer.read()
                asyncio.run(run_load(server.port, paths, clients, 3.0))  # warm-up, not counted
            for _ in range(slices):
                for name, server in zip(servers, running, strict=True):
                    recording = asyncio.run(run_load(server.port, paths, clients, seconds / slices))
                    answers[name] += recording.answers
    finally:
        os.dup2(keep, 1)
        os.dup2(keep, 2)
        os.close(handle)
        for runtime in runtimes:
            shutil.rmtree(runtime, ignore_errors=True)
    print(f"\n== through nginx, {clients} clients, {seconds:.0f} s per server in {slices} "
          f"alternating slices; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after ==")  # fmt: skip
    for name in servers:
        got = answers[name]
        app, template, tree = _server_spec(name)
        label = f"{app} + {Path(template).name}" if template else app
        label += f" @ {tree}" if tree else ""
        errors = sum(1 for a in got if a.status != 200)
        p50, p95, p99 = _percentiles([a.latency * 1000 for a in got])
        print(f"  {label:<9} (2 × 4 threads) /api/search  n={len(got)}  "
              f"{len(got) / seconds:.0f} req/s  p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f} ms  "
              f"errors {errors}")  # fmt: skip
    print(f"  (server logs: {log})")


def _server_spec(spec: str) -> tuple[str, str, str]:
    """``NAME[=TEMPLATE][@TREE]`` → (name, template, tree); empty strings when not given."""
    rest, _, tree = spec.partition("@")
    name, _, template = rest.partition("=")
    return name, template, tree


def _start(
    stack: contextlib.ExitStack, url: str, name: str, template: str, tree: str, runtime: Path
) -> ProductionServer:
    """Start one entry point; with ``tree`` its app server imports that checkout's code (it is
    started as ``python -m webmap.cli`` from there, which puts that folder first on its path)."""
    env = {"WEBMAP_DATABASE_URL": url}
    if tree:
        env["PYTHONPATH"] = str(Path(tree).resolve())
    server = ProductionServer(
        port=_free_port(),
        runtime_dir=runtime,
        env=env,
        app_server=name,
        template=Path(template) if template else TEMPLATE,
    )
    with contextlib.chdir(tree or PROJECT):
        return stack.enter_context(server)


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return at(0.50), at(0.95), at(0.99)


def _time(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def _create_database(database: str = DATABASE) -> str:
    """A scratch database at the schema's head: the set-up every benchmark shares."""
    from bench.bench_db import create_database

    return create_database(database, SERVER)


def _replicate(conn: psycopg.Connection[Any], copies: int) -> None:
    """``copies`` shifted copies of every address, in one set-based statement."""
    conn.execute(
        """
        INSERT INTO lookup.addresses (uid, street, street_uid, number, letter, entrance,
            postcode, city, municipality_code, district, source, source_id, geom)
        SELECT 'a' || left(md5(a.uid || c), 15), a.street, 's' || left(md5(a.street_uid || c), 15),
            a.number, a.letter, a.entrance, a.postcode, a.city, '9' || lpad(c::text, 3, '0'),
            a.district, 'bench-copy', a.source_id, ST_Translate(a.geom, 0, 30000 * c)
        FROM lookup.addresses a, generate_series(1, %s) AS c
        WHERE a.source = 'malmo'
        """,
        [copies],
    )


def _naive_search(conn: psycopg.Connection[Any], text: str) -> None:
    conn.execute(
        "SELECT uid FROM lookup.addresses "
        "WHERE lookup.fold(street || ' ' || number || coalesce(letter, '')) LIKE %s LIMIT 10",
        ["%" + text.lower().split(",")[0] + "%"],
    ).fetchall()


def _naive_reverse(conn: psycopg.Connection[Any], point: tuple[float, float]) -> None:
    conn.execute(
        "SELECT uid FROM lookup.addresses ORDER BY ST_Distance(geom, "
        "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 3006)) LIMIT 1",
        list(point),
    ).fetchall()


def _points(conn: psycopg.Connection[Any], count: int) -> list[tuple[float, float]]:
    """Real Malmö addresses, moved up to ~50 m, plus some points between them (fixed seed)."""
    rng = random.Random(3)
    rows = conn.execute(
        "SELECT ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) "
        "FROM lookup.addresses WHERE source = 'malmo' ORDER BY uid LIMIT %s",
        [count],
    ).fetchall()
    return [(x + rng.uniform(-7e-4, 7e-4), y + rng.uniform(-4e-4, 4e-4)) for x, y in rows]


def _measure(conn: psycopg.Connection[Any], label: str, rounds: int, naive: bool = True) -> None:
    total = conn.execute("SELECT count(*) FROM lookup.addresses").fetchone()
    streets = conn.execute("SELECT count(*) FROM lookup.streets").fetchone()
    print(f"\n== {label}: {total[0] if total else 0:,} addresses, "
          f"{streets[0] if streets else 0:,} streets ==")  # fmt: skip
    parsed = [parse_query(q) for q in QUERIES]
    plain, near = SearchOptions(), SearchOptions(near=LonLat(13.0, 55.6))
    for query in parsed:  # warm the cache once, as a running server would be
        search(conn, query, plain)
    fast: list[float] = []
    biased: list[float] = []
    per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
    for _ in range(rounds):
        for text, query in zip(QUERIES, parsed, strict=True):
            ms = _time(lambda query=query: search(conn, query, plain))  # type: ignore[misc]
            fast.append(ms)
            per_query[text].append(ms)
            biased.append(_time(lambda query=query: search(conn, query, near)))  # type: ignore[misc]
    naive_s = [
        _time(lambda text=text: _naive_search(conn, text))  # type: ignore[misc]
        for text in (QUERIES if naive else ())
    ]
    points = _points(conn, 500)
    for point in points[:50]:
        reverse(conn, point[0], point[1], 4326)
    rev = [_time(lambda p=p: reverse(conn, p[0], p[1], 4326)) for p in points]  # type: ignore[misc]
    naive_rev = [
        _time(lambda p=p: _naive_reverse(conn, p))  # type: ignore[misc]
        for p in (points[:20] if naive else [])
    ]

    def line(name: str, samples: list[float]) -> tuple[float, float, float]:
        p50, p95, p99 = _percentiles(samples)
        figures = f"p50 {p50:7.2f}  p95 {p95:7.2f}  p99 {p99:7.2f} ms"
        print(f"  {name:<28} n={len(samples):>4}  {figures}")
        return p50, p95, p99

    s = line("search", fast)
    line("search near=13.0,55.6", biased)
    r = line("reverse", rev)
    if naive:
        n = line("naive LIKE '%…%' (1 round)", naive_s)
        nr = line("naive ORDER BY ST_Distance", naive_rev)
        print(f"  ratio naive/indexed: search p50 ×{n[0] / s[0]:.1f}, "
              f"reverse p50 ×{nr[0] / r[0]:.1f}")  # fmt: skip
    slowest = sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1]))[:4]
    print("  slowest queries (median ms): "
          + ", ".join(f"{q!r} {statistics.median(v):.1f}" for q, v in slowest))  # fmt: skip


#: Property queries over the synthetic register: heads, numbers, prefixes, typos, case.
PROPERTY_QUERIES: tuple[str, ...] = (
    "björkberga 3:1", "provstad björkberga 3:12", "lindholm 10:4", "ekvik 1:", "asklund",
    "testhamn granby 7:40", "hasselnäs 2:3", "rönnås", "sälgtorp 5", "björkb", "al", "pilby 1",
    "bjorkbrga 3:1", "hasselnas 2:3", "GRANDAL 4:2", "lönnmark 9:39", "oxelhult 6", "aspsund",
    "skenby alm", "hagtornbro 2:", "vidvik 3:1", "apelryd 8:8", "larkstad 1:1", "mockinge p",
)  # fmt: skip
#: Lower left corner of the synthetic grid (SWEREF 99 TM): Småland and Östergötland.
PROPERTY_GRID = (400_000, 6_300_000)


def _build_properties(conn: psycopg.Connection[Any], count: int) -> None:
    started = time.perf_counter()
    report = ImportReport(read=count)
    with conn.transaction():
        lock_lookups(conn)
        conn.execute(STAGE_DDL)
        conn.execute(
            SYNTHETIC_AREAS_SQL,
            {"count": count, "x0": PROPERTY_GRID[0], "y0": PROPERTY_GRID[1],
             "areas": list(REGISTER_AREAS), "starts": list(TRAKT_STARTS),
             "ends": list(TRAKT_ENDS)},
        )  # fmt: skip
        generated = time.perf_counter() - started
        swap_in(conn, 3006, "synthetic", report)
    conn.execute("VACUUM ANALYZE lookup.properties")
    print(f"SYNTHETIC property register: {report.stored:,} units (invented designations, "
          f"100 m squares) generated in {generated:.0f} s, built and swapped in "
          f"{time.perf_counter() - started - generated:.0f} s by the register import")  # fmt: skip


def _measure_properties(conn: psycopg.Connection[Any], rounds: int) -> None:
    parsed = [parse_query(q) for q in PROPERTY_QUERIES]
    options = SearchOptions()
    for query in parsed:  # warm, as a running server would be
        search(conn, query, options)
    count = conn.execute("SELECT count(*) FROM lookup.properties").fetchone()
    print(f"\n== property search and reverse: {count[0] if count else 0:,} SYNTHETIC units, "
          f"server-side, one client, {rounds} rounds ==")  # fmt: skip
    rng = random.Random(13)
    total = count[0] if count else 0
    x0, y0 = PROPERTY_GRID
    points = [
        (x0 + (i % 2000) * 110 + rng.uniform(0, 100), y0 + (i // 2000) * 110 + rng.uniform(0, 100))
        for i in (rng.randrange(total) for _ in range(400))
    ]
    found = sum(1 for e, n in points[:50] if reverse(conn, e, n, 3006).designation)
    rounds_p95: dict[str, list[float]] = {"search": [], "reverse": []}
    everything: dict[str, list[float]] = {"search": [], "reverse": []}
    for _ in range(rounds):
        searched = [_time(lambda q=q: search(conn, q, options)) for q in parsed]  # type: ignore[misc]
        reversed_ = [_time(lambda p=p: reverse(conn, p[0], p[1], 3006)) for p in points]  # type: ignore[misc]
        for name, samples in (("search", searched), ("reverse", reversed_)):
            rounds_p95[name].append(_percentiles(samples)[1])
            everything[name].extend(samples)
    for name in ("search", "reverse"):
        p50, p95, p99 = _percentiles(everything[name])
        median_p95 = statistics.median(rounds_p95[name])
        print(
            f"  property {name:<8} n={len(everything[name]):>5}  p50 {p50:6.2f}  "
            f"p95 {p95:6.2f}  p99 {p99:6.2f} ms;  median of round p95s {median_p95:6.2f} ms"
        )
    print(f"  reverse found a unit at {found} of 50 random points (gaps between squares: 10 m)")
    hits = search(conn, parse_query("björkberga 3:1"), options)
    print("  'björkberga 3:1' →", ", ".join(h.label for h in hits[:4]), "…")


def _properties_main(count: int, rounds: int, keep: bool, again: bool) -> int:
    url = f"{SERVER}/{PROPERTY_DATABASE}" if again else _create_database(PROPERTY_DATABASE)
    try:
        with psycopg.connect(url, autocommit=True, options=JIT_OFF) as conn:
            if not again:
                load_municipalities(conn, PROJECT / "data" / "lantmateriet" / "ak_riks.zip")
                _build_properties(conn, count)
            _measure_properties(conn, rounds)
        print(
            f"\n{os.cpu_count()} cores shared with other work; load average "
            f"{os.getloadavg()[0]:.1f} at the end (figures are noisy when it is high)"
        )
    finally:
        if not keep:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(PROPERTY_DATABASE)
                    )
                )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=18, help="shifted copies for the big table")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the query list")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="HTTP load duration")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--properties", type=int, metavar="N", help="property search at N synthetic units instead"
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="with --properties/--national: measure what a --keep run left (no rebuild)",
    )
    parser.add_argument(
        "--database", default=DATABASE, help="name of the scratch database (dropped first)"
    )
    parser.add_argument(
        "--servers",
        default="granian",
        help="app servers behind nginx, alternated: e.g. granian,gunicorn (an A/B in one run); "
        "NAME=TEMPLATE puts that one behind another nginx template, NAME@DIR runs the code of "
        "another checkout (e.g. granian@/tmp/base,granian: older code against this)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the kept --database as it is (no import)"
    )
    parser.add_argument(
        "--csv", type=Path, default=MALMO_CSV, help="Malmö's address register (shared data)"
    )
    parser.add_argument(
        "--national", type=int, nargs="?", const=3_700_000, metavar="N",
        help="SYNTHETIC national register of N addresses (default 3.7 M): bench/national.py",
    )  # fmt: skip
    args = parser.parse_args()
    if args.national:
        from bench.national import national_main

        return national_main(args.national, args.rounds, args.keep, args.again)
    if args.properties:
        return _properties_main(args.properties, args.rounds, args.keep, args.again)
    if not args.reuse and not args.csv.exists():
        print(f"needs {args.csv} (shared sample data), which is absent", file=sys.stderr)
        return 2
    if args.reuse:
        url = f"{SERVER}/{args.database}"
        with psycopg.connect(url, autocommit=True, options=JIT_OFF) as conn:
            _measure(conn, "kept database", args.rounds, naive=False)
        _through_nginx(url, args.clients, args.seconds, args.servers.split(","))
        print(f"\n{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end")
        return 0
    url = _create_database(args.database)
    try:
        with psycopg.connect(url, autocommit=True, options=JIT_OFF) as conn:
            started = time.perf_counter()
            load_municipalities(conn, PROJECT / "data" / "lantmateriet" / "ak_riks.zip")
            source = read_csv_addresses(args.csv)
            report = import_addresses(conn, source.rows, source.srid, "malmo", municipality="1280")
            print(f"Malmö import: {report.stored:,} addresses in "
                  f"{time.perf_counter() - started:.1f} s (incl. municipalities)")  # fmt: skip
            _measure(conn, "Malmö register", args.rounds)
            started = time.perf_counter()
            with conn.transaction():
                _replicate(conn, args.copies)
                rebuild_streets(conn)
            conn.execute("VACUUM ANALYZE lookup.addresses")
            print(f"\nreplicated ×{args.copies + 1} in {time.perf_counter() - started:.1f} s")
            _measure(
                conn, f"replicated register (synthetic: Malmö ×{args.copies + 1})", args.rounds
            )
        _through_nginx(url, args.clients, args.seconds, args.servers.split(","))
        print(f"\n{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        if not args.keep:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(args.database)
                    )
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
