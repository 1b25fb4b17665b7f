"""Reliability benchmark: mixed traffic through the production entry point while things break.

Everything runs on 127.0.0.1 and is thrown away afterwards: a PostgreSQL cluster of its own
(``tests/throwaway_pg.py``, never the shared server on 5432) with the sample data, a Redis of its
own on a free port (the tile cache shared by the workers), and nginx in front of the app server
(``webmap.cli.production.ProductionServer``, what ``scripts/start.sh`` runs). Then:

1. steady mixed traffic (tiles, search, reverse, TileJSON) at 16, 64 and 200 clients;
2. one app server worker killed with SIGKILL mid-load;
3. the database stopped for 10 s mid-load, then started again;
4. Redis stopped mid-load;
5. 64 slow-header clients (one header line every 2 s) next to 16 normal clients.

It prints requests, errors by status, p50/p99 latency and, for the outage, how fast 503s were
answered and how long recovery took after the database came back.

    .venv/bin/python bench/reliability.py [--seconds 10]

Aims (issue 8): 0 non-2xx at 200 clients with warm caches; during a 10 s database outage only
503s, answered in ≤ 1 s; recovered ≤ 2 s after the database returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path and bench/tiles.py would hide the project's
# ``tiles`` package; the project folder makes ``tests.throwaway_pg`` importable.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(PROJECT))

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import morecantile
import psycopg

from bench.loadgen import (
    Recording,
    recovery_seconds,
    run_load,
    slow_header_clients,
    summarise,
)
from layers.lookup.sample import load_lookup_sample
from layers.sample import load_sample
from layers.schema import upgrade
from tests.throwaway_pg import ThrowawayPostgres, free_port
from tests.throwaway_redis import answers
from webmap.cli.production import ProductionServer

TMS = morecantile.tms.get("WebMercatorQuad")
PLACES = [(18.0705, 59.3382), (18.0850, 59.3400), (17.3063, 62.3908), (18.06, 59.33)]
SEARCHES = ["Karlav", "Strandvägen 1", "storg", "Valhallavägen", "Linnég", "Östermalm"]


@contextmanager
def throwaway_redis() -> Iterator[tuple[int, Callable[[], None]]]:
    """A Redis of our own on a free port, which the benchmark may kill (never the shared one
    that ``tests.throwaway_redis.redis_for_tests`` prefers); yields (port, stop)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (bash scripts/install.sh installs it)")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="webmap-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()

    try:
        for _ in range(50):
            if answers(port):
                break
            time.sleep(0.1)
        yield port, stop
    finally:
        if process.poll() is None:
            stop()
        shutil.rmtree(folder, ignore_errors=True)


def traffic(base_url: str) -> list[str]:
    """The mix: live-version basemap tiles z10–z16, searches, reverse lookups and TileJSON."""
    with urllib.request.urlopen(f"{base_url}/tiles/basemap.json", timeout=10) as answer:
        template = json.load(answer)["tiles"][0]
    path_template = "/" + template.split("/", 3)[3]
    tiles = [
        path_template.format(z=t.z, x=t.x, y=t.y)
        for lon, lat in PLACES
        for zoom in range(10, 17)
        for t in [TMS.tile(lon, lat, zoom)]
    ]
    searches = [f"/api/search?q={urllib.request.quote(q)}" for q in SEARCHES]
    reverses = [
        f"/api/reverse?lon={lon + d:.5f}&lat={lat}" for lon, lat in PLACES for d in (0, 1e-3)
    ]
    return tiles * 3 + searches + reverses + ["/tiles/basemap.json", "/styles/basemap.json"]


def warm(base_url: str, paths: list[str]) -> None:
    for path in dict.fromkeys(paths):
        with urllib.request.urlopen(base_url + path, timeout=30) as answer:
            answer.read()


def app_workers(server: ProductionServer) -> list[int]:
    assert server.app_process is not None
    master = server.app_process.pid
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


#: Where the tables go: the real stdout, kept before the servers' logs are sent to a file.
OUT = sys.stdout


def say(text: str = "") -> None:
    print(text, file=OUT, flush=True)


def quiet_children(log: Path) -> None:
    """Send this process's fd 1 and 2 (inherited by the app server and nginx) to ``log``."""
    global OUT
    OUT = os.fdopen(os.dup(1), "w")
    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    os.close(handle)


def row(name: str, recording: Recording, start: float = 0.0, end: float = 1e9) -> None:
    s = summarise(recording.between(start, end))
    say(
        f"| {name} | {s.requests} | {s.non_2xx} | {s.statuses()} | "
        f"{s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.max_ms:.0f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load phase")
    parser.add_argument("--workers", type=int, default=2, help="app server workers")
    args = parser.parse_args()
    phase = args.seconds

    with ThrowawayPostgres() as pg, throwaway_redis() as (redis_port, stop_redis):
        url = pg.create_database("webmap")
        upgrade(url)
        with psycopg.connect(url) as conn:
            load_sample(conn, PROJECT / "data")
            load_lookup_sample(conn, PROJECT / "data")
        env = {
            "WEBMAP_DATABASE_URL": url,
            "WEBMAP_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        }
        runtime = Path(tempfile.mkdtemp(prefix="webmap-bench-nginx-"))
        log = runtime.parent / f"{runtime.name}.log"
        say(f"server logs: {log}")
        quiet_children(log)
        server = ProductionServer(
            port=free_port(), runtime_dir=runtime, env=env, workers=args.workers
        )
        with server:
            paths = traffic(server.base_url)
            warm(server.base_url, paths)
            port = server.port
            load = os.cpu_count() or 1
            say(f"{len(set(paths))} distinct URLs; {args.workers} app server workers; {load} cores")
            say()
            say("| phase | requests | non-2xx | by status | p50 ms | p99 ms | max ms |")
            say("|---|---|---|---|---|---|---|")
            for clients in (16, 64, 200):
                rec = asyncio.run(run_load(port, paths, clients, phase))
                row(f"steady, {clients} clients", rec)

            def kill_worker() -> None:
                workers = app_workers(server)
                if workers:
                    os.kill(workers[0], signal.SIGKILL)

            rec = asyncio.run(run_load(port, paths, 64, phase, [(phase / 3, kill_worker)]))
            row("worker killed, 64 clients", rec)

            outage, began = 10.0, 3.0
            accepting: list[float] = []

            def restart() -> None:
                pg.start()  # returns once PostgreSQL accepts connections (crash recovery done)
                accepting.append(time.monotonic())

            rec = asyncio.run(
                run_load(
                    port,
                    paths,
                    64,
                    began + outage + 6.0,
                    [(began, lambda: pg.stop("immediate")), (began + outage, restart)],
                )
            )
            back = accepting[0] - rec.began
            during = summarise(rec.between(began + 0.2, began + outage))
            refusals = [a for a in rec.between(began + 0.2, began + outage) if a.status != 200]
            slowest_refusal = max((a.latency for a in refusals), default=0.0)
            row("database down 10 s, 64 clients: before", rec, 0, began - 1.0)
            row("… while down (cached tiles 200, the rest 503)", rec, began + 0.2, began + outage)
            row(f"… after it accepts again (at {back:.1f} s)", rec, back, 1e9)
            say(
                f"| … slowest refusal while down | {slowest_refusal * 1000:.0f} ms "
                f"| {during.non_2xx} | | | | |"
            )
            recovered = recovery_seconds(rec, back) or 0.0
            say(f"| … all 2xx again after it accepts | {recovered:.2f} s | | | | | |")

            rec = asyncio.run(run_load(port, paths, 64, phase, [(phase / 3, stop_redis)]))
            row("Redis stopped, 64 clients", rec)
            row("… after it stopped", rec, phase / 3, 1e9)

            async def slow_and_normal() -> tuple[Recording, int]:
                slow = asyncio.create_task(slow_header_clients(port, 64, phase))
                await asyncio.sleep(2)
                normal = await run_load(port, paths, 16, phase - 2)
                return normal, await slow

            rec, closed = asyncio.run(slow_and_normal())
            row("64 slow-header clients + 16 normal", rec)
            say(f"| … slow connections closed by the proxy | {closed} of 64 | | | | | |")
        shutil.rmtree(runtime, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
