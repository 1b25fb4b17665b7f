"""A SYNTHETIC national address register (3.7 million) in Lantmäteriet's format, imported with
the real importer and searched: ``bench/lookup.py --national``.

The register is made up from real patterns (street names, number sequences, the 290
municipalities and their built-up areas): ``bench/national_synthetic.py``. It is imported by
running ``webmap addresses import FILE`` itself, and timed. Then search and reverse are timed
server-side (the domain calls the HTTP handlers make) on one client, with the machinery of
``bench/lookup.py``; each round's p95 is kept and the median reported with the load average.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg

# The project, not bench/, first on the path (as bench/lookup.py, which imports this module,
# does): run as a script, ``bench`` would not be importable and bench/tiles.py would shadow
# the tiles package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
from bench.bench_db import SERVER, create_database, drop_database
from bench.national_synthetic import national_file
from layers.crs import LonLat
from layers.lookup.query import parse_query
from layers.lookup.reverse import reverse
from layers.lookup.search import SearchOptions, search

PROJECT = Path(__file__).resolve().parent.parent
DATABASE = "webmap_bench_national"


def import_file(url: str, path: Path) -> float:
    """``webmap addresses import FILE`` (the command itself, in a child process); seconds."""
    from layers.lookup.store import load_municipalities

    with psycopg.connect(url, autocommit=True) as conn:
        load_municipalities(conn, PROJECT / "data" / "lantmateriet" / "ak_riks.zip")
    env = {**os.environ, "WEBMAP_DATABASE_URL": url, "PYTHONPATH": str(PROJECT)}
    began = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "webmap"), "addresses", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"webmap addresses import failed:\n{done.stdout}\n{done.stderr}")
    summary = [line for line in done.stdout.splitlines() if line.strip()]
    print("  " + "\n  ".join(summary[:4]))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE lookup.addresses")
        conn.execute("VACUUM ANALYZE lookup.street_keys")
        conn.execute("VACUUM ANALYZE lookup.streets")
    return seconds


#: What citizens type, as in bench/lookup.py, with names every town has and complete addresses.
QUERIES: tuple[str, ...] = (
    "s", "ö", "st", "äl", "sto", "kung", "stor", "storg", "ystadv", "hyllie", "storgatan",
    "storgatan 1", "storgatan 12", "storgatan 12 sundsvall", "storgatan 12, umeå", "ågatan 4",
    "lundavägen", "törngatan 5", "alggatan 1", "stortorget 1", "kyrkogatan 3a",
    "drotninggatan", "fersens väg 2", "regementsgatan 24", "östra förstadsgatan 2",
    "nobelv. 10", "södra förstadsgatan 12a", "industrivägen 7", "skolgatan 1 kiruna",
    "gobakkvägen 4", "karlaplan 1", "birger jarlsgatan 3",
)  # fmt: skip


def _towns(conn: psycopg.Connection[Any], count: int) -> list[LonLat]:
    """Points near real places: the middle of some municipalities' biggest streets."""
    rows = conn.execute(
        "SELECT DISTINCT ON (municipality_code) ST_X(ST_Transform(geom, 4326)), "
        "ST_Y(ST_Transform(geom, 4326)) FROM lookup.streets "
        "ORDER BY municipality_code, address_count DESC"
    ).fetchall()
    random.Random(5).shuffle(rows)
    return [LonLat(x, y) for x, y in rows[:count]]


def _reverse_points(conn: psycopg.Connection[Any], count: int) -> list[tuple[float, float]]:
    """Addresses spread over the country (sampled), moved up to ~50 m (fixed seed)."""
    rng = random.Random(3)
    rows = conn.execute(
        "SELECT ST_X(geom), ST_Y(geom) FROM lookup.addresses TABLESAMPLE SYSTEM (1) "
        "REPEATABLE (3) LIMIT %s",
        [count],
    ).fetchall()
    return [(e + rng.uniform(-50, 50), n + rng.uniform(-50, 50)) for e, n in rows]


def measure(conn: psycopg.Connection[Any], rounds: int) -> dict[str, float]:
    """Search (plain and near a town) and reverse, ``rounds`` times; prints and returns p95s."""
    from bench.lookup import _percentiles, _time

    counts = conn.execute(
        "SELECT (SELECT count(*) FROM lookup.addresses), (SELECT count(*) FROM lookup.streets),"
        " (SELECT count(DISTINCT municipality_code) FROM lookup.addresses)"
    ).fetchone()
    assert counts is not None
    print(f"\n== SYNTHETIC national register: {counts[0]:,} addresses, {counts[1]:,} streets, "
          f"{counts[2]} municipalities; server-side, one client, {rounds} rounds ==")  # fmt: skip
    parsed = [parse_query(q) for q in QUERIES]
    towns = _towns(conn, 20)
    plain = SearchOptions()
    for query in parsed:  # warm, as a running server would be
        search(conn, query, plain)
    points = _reverse_points(conn, 400)
    for e, n in points[:50]:
        reverse(conn, e, n, 3006)
    samples: dict[str, list[float]] = {"search": [], "search near": [], "reverse": []}
    p95s: dict[str, list[float]] = {k: [] for k in samples}
    per_query: dict[str, list[float]] = defaultdict(list)
    for r in range(rounds):
        current: dict[str, list[float]] = {k: [] for k in samples}
        for text, query in zip(QUERIES, parsed, strict=True):
            ms = _time(lambda query=query: search(conn, query, plain))  # type: ignore[misc]
            current["search"].append(ms)
            per_query[text].append(ms)
            options = SearchOptions(near=towns[(r + len(current["search"])) % len(towns)])
            current["search near"].append(
                _time(lambda query=query, o=options: search(conn, query, o))  # type: ignore[misc]
            )
        current["reverse"] = [
            _time(lambda p=p: reverse(conn, p[0], p[1], 3006))  # type: ignore[misc]
            for p in points
        ]
        for name, values in current.items():
            samples[name].extend(values)
            p95s[name].append(_percentiles(values)[1])
    result: dict[str, float] = {}
    for name, values in samples.items():
        p50, p95, p99 = _percentiles(values)
        result[name] = statistics.median(p95s[name])
        print(f"  {name:<12} n={len(values):>5}  p50 {p50:6.2f}  p95 {p95:6.2f}  "
              f"p99 {p99:6.2f} ms;  median of round p95s {result[name]:6.2f} ms")  # fmt: skip
    slowest = sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    print("  slowest queries (median ms): "
          + ", ".join(f"{q!r} {statistics.median(v):.1f}" for q, v in slowest))  # fmt: skip
    for text, options in (
        ("storgatan 12", plain),
        ("storgatan 1", SearchOptions(near=LonLat(17.3069, 62.3908))),
        ("storgatan 12 sundsvall", plain),
    ):
        hits = search(conn, parse_query(text), options)
        where = " near Sundsvall" if options.near else ""
        print(f"  {text!r}{where} → " + "; ".join(h.label for h in hits[:4]) + " …")
    return result


def national_main(rows: int, rounds: int, keep: bool, again: bool) -> int:
    """The whole benchmark (``bench/lookup.py --national``)."""
    print("SYNTHETIC national address register in the layout of Lantmäteriet's "
          "Belägenhetsadress (made-up addresses from real street and number patterns; "
          "not real data)")  # fmt: skip
    url = f"{SERVER}/{DATABASE}"
    try:
        if not again:
            path = national_file(rows)
            url = create_database(DATABASE)
            seconds = import_file(url, path)
            print(f"  import (webmap addresses import, {rows:,} rows): {seconds:.0f} s "
                  f"({seconds / 60:.1f} min, {rows / seconds:,.0f} rows/s); load average "
                  f"{os.getloadavg()[0]:.1f}")  # fmt: skip
        # As the server's pool connects (webmap/db.py): JIT off, else a statement whose cost
        # estimate crosses jit_above_cost spends hundreds of ms compiling.
        with psycopg.connect(url, autocommit=True, options="-c jit=off") as conn:
            load_before = os.getloadavg()[0]
            measure(conn, rounds)
        print(f"\n{os.cpu_count()} cores shared with other work; load average "
              f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after the measurement "
              "(figures are noisy when it is high)")  # fmt: skip
    finally:
        if not keep:
            drop_database(DATABASE)
    return 0
